package io.apigw.authorizer.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import io.apigw.authorizer.credential.CredentialRecord;
import io.apigw.authorizer.credential.StoredCredential;
import io.apigw.authorizer.credential.Tenant;
import io.apigw.authorizer.credential.Token;
import io.apigw.authorizer.grant.Inspection;
import io.apigw.authorizer.grant.TokenVerdict;
import io.apigw.authorizer.result.CredentialProblem;

/**
 * The stored credential judged without a call: each problem alone, and every pair of problems, where the one earlier
 * in the chain wins (a missing credential before a replaced cluster before a moved endpoint before a new CA before an
 * invalidated token).
 */
class CredentialChecksTest {

    private static final String SERVER = "https://10.0.0.12:443";
    private static final String CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    private static final String UID = "8f2c0e1a-kube-system";
    private static final String SECRET = "apigw-ingress-token-abcde";

    /** One problem each, in the chain's order. */
    enum Problem {
        MISSING(CredentialProblem.missing, g -> new CredentialChecks.Gathered(g.clusterId(), g.server(), g.caPem(),
                Optional.empty(), g.found())),
        REPLACED(CredentialProblem.cluster_replaced, g -> withFound(g, found(g.found().tokenSecret(),
                g.found().tokenInvalidated(), "another-cluster-uid"))),
        ENDPOINT(CredentialProblem.endpoint_changed, g -> new CredentialChecks.Gathered(g.clusterId(),
                "https://10.0.0.99:443", g.caPem(), g.record(), g.found())),
        CA(CredentialProblem.ca_changed, g -> new CredentialChecks.Gathered(g.clusterId(), g.server(),
                "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n", g.record(), g.found())),
        INVALIDATED(CredentialProblem.invalidated, g -> withFound(g, found(g.found().tokenSecret(), true,
                g.found().clusterUid())));

        final CredentialProblem problem;
        final UnaryOperator<CredentialChecks.Gathered> apply;

        Problem(CredentialProblem problem, UnaryOperator<CredentialChecks.Gathered> apply) {
            this.problem = problem;
            this.apply = apply;
        }
    }

    @Test
    void aCredentialAsStoredAndAsTheClusterHasItIsHandedOnToTheGatewayProbe() {
        assertThat(CredentialChecks.first(healthy())).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Problem.class)
    void eachProblemAloneIsFoundAndSaysWhatToDo(Problem p) {
        Optional<TokenVerdict> verdict = CredentialChecks.first(p.apply.apply(healthy()));

        assertThat(verdict).as(p.name()).isPresent();
        assertThat(verdict.get().problem()).isEqualTo(p.problem);
        assertThat(verdict.get().detail()).doesNotContain("MIIB").doesNotContain("MIIC");
        if (p != Problem.MISSING) {
            assertThat(verdict.get().detail()).contains("authorize again");
        }
    }

    static List<Problem[]> pairs() {
        List<Problem[]> pairs = new ArrayList<>();
        for (Problem a : Problem.values()) {
            for (Problem b : Problem.values()) {
                if (a.ordinal() < b.ordinal()) {
                    pairs.add(new Problem[] {a, b});
                }
            }
        }
        return pairs;
    }

    @ParameterizedTest
    @MethodSource("pairs")
    void ofTwoProblemsTheEarlierInTheChainIsReportedInWhicheverOrderTheyArose(Problem earlier, Problem later) {
        CredentialChecks.Gathered oneWay = later.apply.apply(earlier.apply.apply(healthy()));
        CredentialChecks.Gathered otherWay = earlier.apply.apply(later.apply.apply(healthy()));

        assertThat(CredentialChecks.first(oneWay).map(TokenVerdict::problem)).contains(earlier.problem);
        assertThat(CredentialChecks.first(otherWay).map(TokenVerdict::problem)).contains(earlier.problem);
    }

    @Test
    void anInvalidatedTokenSecretThatIsNotTheStoredOneIsNoProblemOfTheStoredCredential() {
        CredentialChecks.Gathered g = withFound(healthy(), found("apigw-ingress-token-other", true, UID));

        assertThat(CredentialChecks.first(g)).isEmpty();
    }

    @Test
    void anUnknownIdentityOnEitherSideIsNotAReplacement() {
        assertThat(CredentialChecks.first(withFound(healthy(), found(SECRET, false, null)))).isEmpty();
        CredentialRecord r = healthy().record().get();
        CredentialRecord storedBeforeV15 = new CredentialRecord(r.credential(), r.tokenSecret(), r.tokenSecretUid(),
                r.tokenStoredAt(), r.pending(), r.version(), r.policyVersion(), null, r.tenant(), r.deauthorizing());
        CredentialChecks.Gathered g = healthy();
        assertThat(CredentialChecks.first(new CredentialChecks.Gathered(g.clusterId(), g.server(), g.caPem(),
                Optional.of(storedBeforeV15), g.found()))).isEmpty();
    }

    @Test
    void aCaDifferingOnlyInSurroundingWhitespaceIsTheSameCa() {
        CredentialChecks.Gathered g = healthy();
        CredentialChecks.Gathered padded = new CredentialChecks.Gathered(g.clusterId(), g.server(), "\n" + CA + "\n\n",
                g.record(), g.found());

        assertThat(CredentialChecks.first(padded)).isEmpty();
    }

    private static CredentialChecks.Gathered healthy() {
        CredentialRecord record = new CredentialRecord(new StoredCredential(SERVER, CA,
                Token.of("gateway-token".getBytes(StandardCharsets.UTF_8))), SECRET, "secret-uid",
                Instant.parse("2026-12-01T00:00:00Z"), Optional.empty(), "42", 1, UID, Tenant.NONE, false);
        return new CredentialChecks.Gathered("cls-7xq2m9ab", SERVER, CA, Optional.of(record), found(SECRET, false, UID));
    }

    private static Inspection found(String tokenSecret, boolean invalidated, String clusterUid) {
        return new Inspection(List.of(), List.of(), tokenSecret, invalidated, "sa-uid", "v1.28.3", clusterUid);
    }

    private static CredentialChecks.Gathered withFound(CredentialChecks.Gathered g, Inspection found) {
        return new CredentialChecks.Gathered(g.clusterId(), g.server(), g.caPem(), g.record(), found);
    }
}

package io.apigw.authorizer.lifecycle;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

import io.apigw.authorizer.credential.CredentialRecord;
import io.apigw.authorizer.credential.StoredCredential;
import io.apigw.authorizer.grant.ClusterIdentity;
import io.apigw.authorizer.grant.Inspection;
import io.apigw.authorizer.grant.TokenVerdict;
import io.apigw.authorizer.result.CredentialProblem;

/**
 * The stored credential judged against what the directory and the cluster say now, without a call: a chain of small
 * checks in a fixed order, the first problem wins (in the manner of cert-manager's {@code policies.Chain}). Trying
 * the token as the gateway is the chain's last link and needs the network; the caller adds it where the chain finds
 * nothing ({@link Check}).
 */
final class CredentialChecks {

    /** What the checks look at: the stored record, the directory's endpoint and CA now, the cluster's read. */
    record Gathered(String clusterId, String server, String caPem, Optional<CredentialRecord> record,
            Inspection found) {
    }

    /** One check: a problem, or empty to hand on to the next. */
    interface Link extends Function<Gathered, Optional<TokenVerdict>> {
    }

    static final Link MISSING = g -> g.record().isEmpty()
            ? problem(CredentialProblem.missing, "no credential is stored for the cluster")
            : Optional.empty();

    static final Link CLUSTER_REPLACED = g -> ClusterIdentity.replaced(g.record().get().clusterUid(),
            g.found().clusterUid())
                    ? problem(CredentialProblem.cluster_replaced, ClusterIdentity.describe(g.clusterId(),
                            g.record().get().clusterUid(), g.found().clusterUid())
                            + "; authorize again to establish it")
                    : Optional.empty();

    static final Link ENDPOINT_CHANGED = g -> !stored(g).server().equals(g.server())
            ? problem(CredentialProblem.endpoint_changed, "the cluster's private endpoint is now " + g.server()
                    + ", the stored one " + stored(g).server() + "; authorize again to update it")
            : Optional.empty();

    static final Link CA_CHANGED = g -> !stored(g).caPem().strip().equals(g.caPem().strip())
            ? problem(CredentialProblem.ca_changed, "the cluster's CA has changed since the credential was stored; "
                    + "authorize again to update it")
            : Optional.empty();

    /** The legacy token cleaner (1.29+) marked the very token the gateway holds. */
    static final Link INVALIDATED = g -> g.found().tokenInvalidated()
            && Objects.equals(g.found().tokenSecret(), g.record().get().tokenSecret())
                    ? Optional.of(TokenVerdict.invalidated(g.found().tokenSecret())
                            .advising("authorize again to replace it"))
                    : Optional.empty();

    /** In order: each link after {@link #MISSING} may assume a stored record. */
    static final List<Link> CHAIN = List.of(MISSING, CLUSTER_REPLACED, ENDPOINT_CHANGED, CA_CHANGED, INVALIDATED);

    private CredentialChecks() {
    }

    /** The first problem the chain finds; empty if the token is next to be tried as the gateway. */
    static Optional<TokenVerdict> first(Gathered gathered) {
        for (Link link : CHAIN) {
            Optional<TokenVerdict> verdict = link.apply(gathered);
            if (verdict.isPresent()) {
                return verdict;
            }
        }
        return Optional.empty();
    }

    private static StoredCredential stored(Gathered g) {
        return g.record().get().credential();
    }

    private static Optional<TokenVerdict> problem(CredentialProblem problem, String detail) {
        return Optional.of(new TokenVerdict(problem, detail));
    }
}

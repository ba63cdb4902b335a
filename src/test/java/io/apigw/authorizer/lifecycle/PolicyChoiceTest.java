package io.apigw.authorizer.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.apigw.authorizer.credential.CredentialRecord;
import io.apigw.authorizer.credential.StoredCredential;
import io.apigw.authorizer.credential.Tenant;
import io.apigw.authorizer.credential.Token;
import io.apigw.authorizer.policy.Policy;
import io.apigw.authorizer.request.AuthorizationRequest;
import io.apigw.authorizer.request.RequestType;
import io.apigw.authorizer.request.Trigger;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;

/** Which policy a request applies: a cluster's rules change only in a rollout to the configured version. */
class PolicyChoiceTest {

    private final PolicyChoice configuredV2 = new PolicyChoice(Policy.V2);

    @Test
    void aNewClusterGetsTheConfiguredVersion() {
        assertThat(configuredV2.of(request(Optional.empty()), Optional.empty())).isEqualTo(Policy.V2);
    }

    @Test
    void aStoredClusterKeepsItsRecordedVersion() {
        assertThat(configuredV2.of(request(Optional.empty()), recorded(1))).isEqualTo(Policy.V1);
    }

    @Test
    void aRolloutMovesAClusterToTheConfiguredVersionOrKeepsItsOwn() {
        assertThat(configuredV2.of(request(Optional.of(2)), recorded(1))).isEqualTo(Policy.V2);
        assertThat(new PolicyChoice(Policy.V1).of(request(Optional.of(2)), recorded(2))).isEqualTo(Policy.V2);
    }

    @Test
    void aRequestedVersionThatIsNeitherTheConfiguredNorTheRecordedOneChangesNothing() {
        assertThatThrownBy(() -> configuredV2.of(request(Optional.of(1)), recorded(2)))
                .isInstanceOfSatisfying(AuthorizationException.class, e -> {
                    assertThat(e.code()).isEqualTo(FailureCode.CONFLICT);
                    assertThat(e.isTransient()).isFalse();
                })
                .hasMessageContaining("nothing was changed");
    }

    @Test
    void aNewClusterMayNotAskForAnotherVersionThanTheConfiguredOne() {
        assertThatThrownBy(() -> configuredV2.of(request(Optional.of(1)), Optional.empty()))
                .isInstanceOfSatisfying(AuthorizationException.class,
                        e -> assertThat(e.code()).isEqualTo(FailureCode.CONFLICT));
    }

    @Test
    void aRecordedVersionThisWorkerDoesNotKnowIsAnInternalErrorThatChangesNothing() {
        assertThatThrownBy(() -> configuredV2.of(request(Optional.empty()), recorded(9)))
                .isInstanceOfSatisfying(AuthorizationException.class,
                        e -> assertThat(e.code()).isEqualTo(FailureCode.INTERNAL))
                .hasMessageContaining("policy version 9").hasMessageContaining("nothing was changed");
    }

    private static AuthorizationRequest request(Optional<Integer> policyVersion) {
        return new AuthorizationRequest(RequestType.AUTHORIZE, "req-1", "cls-7xq2m9ab", Optional.empty(),
                Optional.of("1250000000"), Optional.empty(), Optional.empty(), Trigger.console, Optional.empty(),
                policyVersion, Optional.empty());
    }

    private static Optional<CredentialRecord> recorded(int version) {
        return Optional.of(new CredentialRecord(new StoredCredential("https://10.0.0.12:443", "ca",
                Token.of("t".getBytes(StandardCharsets.UTF_8))), "apigw-ingress-token-abcde", "uid",
                Instant.parse("2026-12-01T00:00:00Z"), Optional.empty(), "42", version, null, Tenant.NONE, false));
    }
}

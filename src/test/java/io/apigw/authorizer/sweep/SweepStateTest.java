package io.apigw.authorizer.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.apigw.authorizer.result.CredentialProblem;
import io.apigw.authorizer.result.FailureCode;
import io.apigw.authorizer.result.Result;

class SweepStateTest {

    private static final String NOW = Result.now();

    @Test
    void eachCheckResultHasItsState() {
        assertThat(SweepState.of(new Result.Authorized("r", "c", null, NOW, 1, true, List.of(), "t", "ref", "v1.20",
                1)))
                .isEqualTo(SweepState.authorized);
        assertThat(SweepState.of(new Result.NotAuthorized("r", "c", null, NOW, 1, List.of(),
                List.of("ClusterRoleBinding/apigw-ingress-clusterrole-binding"), true, null, null, 1)))
                .isEqualTo(SweepState.drifted);
        assertThat(SweepState.of(new Result.NotAuthorized("r", "c", null, NOW, 1, List.of(), List.of(), false,
                CredentialProblem.rejected, "rejected", 1))).isEqualTo(SweepState.credential_invalid);
        assertThat(SweepState.of(new Result.PrivateAccessDisabled("r", "c", null, NOW, 1, true, "off")))
                .isEqualTo(SweepState.private_access_disabled);
        assertThat(SweepState.of(new Result.Failed("r", "c", null, 1, FailureCode.CLUSTER_NOT_FOUND, "gone")))
                .isEqualTo(SweepState.not_found);
        assertThat(SweepState.of(new Result.Failed("r", "c", null, 3, FailureCode.API_SERVER_UNREACHABLE, "x")))
                .isEqualTo(SweepState.unreachable);
    }

    @Test
    void missingResourcesWithABadCredentialAreDriftAndOnlyDriftAndBadCredentialsAreRepaired() {
        assertThat(SweepState.of(new Result.NotAuthorized("r", "c", null, NOW, 1, List.of("ServiceAccount/x"),
                List.of(), false, CredentialProblem.rejected, "x", 1))).isEqualTo(SweepState.drifted);
        assertThat(List.of(SweepState.values())).filteredOn(SweepState::repairable)
                .containsExactly(SweepState.drifted, SweepState.credential_invalid);
    }

    @Test
    void anotherClusterBehindTheIdIsItsOwnStateEvenWithResourcesMissingAndIsNeverRepaired() {
        SweepState state = SweepState.of(new Result.NotAuthorized("r", "c", null, NOW, 1, List.of("ServiceAccount/x"),
                List.of(), false, CredentialProblem.cluster_replaced, "not the one authorized", 1));

        assertThat(state).isEqualTo(SweepState.cluster_replaced);
        assertThat(state.repairable()).isFalse();
    }
}

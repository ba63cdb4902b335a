package io.apigw.authorizer.lifecycle;

import java.util.Optional;

import io.apigw.authorizer.credential.CredentialRecord;
import io.apigw.authorizer.policy.Policy;
import io.apigw.authorizer.request.AuthorizationRequest;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;

/**
 * The policy a request applies: a rollout's own, else the cluster's recorded one, else (a cluster without a stored
 * credential) the configured one. Never another: a cluster's rules change only in a rollout, and knowing a
 * credential's version is no authority (issue 26, G11).
 */
record PolicyChoice(Policy newClusters) {

    Policy of(AuthorizationRequest request, Optional<CredentialRecord> record) {
        Optional<Integer> recorded = record.map(CredentialRecord::policyVersion);
        request.policyVersion().filter(asked -> asked != newClusters.version() && !Optional.of(asked).equals(recorded))
                .ifPresent(asked -> {
                    throw AuthorizationException.permanent(FailureCode.CONFLICT, "policyVersion " + asked
                            + " is neither this worker's configured version (" + newClusters.version()
                            + ") nor the cluster's recorded one; nothing was changed");
                });
        int version = request.policyVersion().orElse(recorded.orElse(newClusters.version()));
        return Policy.of(version).orElseThrow(() -> AuthorizationException.permanent(FailureCode.INTERNAL,
                "the cluster's stored credential records policy version " + version + ", which this worker does "
                        + "not know (it knows " + Policy.versions() + "); nothing was changed"));
    }
}

package io.apigw.authorizer.request;

import java.time.Duration;
import java.util.Optional;

/**
 * A validated request (contract section 3): authorize, check, deauthorize or rotate one cluster's credential.
 * {@code grace}: a rotation's own grace for the old token (else {@code authorizer.rotation.grace}).
 * {@code ifCredentialVersion}: an authorize that runs only while the stored credential is still this version (a
 * sweep's repair); it does nothing if the credential changed or was deleted since. {@code policyVersion}: with it, a
 * rollout's authorize, which moves the cluster to that policy version (else a cluster keeps its own).
 * {@code ownerUin}: the account that owns the cluster, whose granted role the tke directory assumes.
 */
public record AuthorizationRequest(
        RequestType type,
        String requestId,
        String clusterId,
        Optional<String> region,
        Optional<String> appId,
        Optional<String> requestedBy,
        Optional<Duration> grace,
        Trigger trigger,
        Optional<String> ifCredentialVersion,
        Optional<Integer> policyVersion,
        Optional<String> ownerUin) {

    public AuthorizationRequest(RequestType type, String requestId, String clusterId, Optional<String> region,
            Optional<String> appId, Optional<String> requestedBy) {
        this(type, requestId, clusterId, region, appId, requestedBy, Optional.empty(), Trigger.console,
                Optional.empty(), Optional.empty(), Optional.empty());
    }
}

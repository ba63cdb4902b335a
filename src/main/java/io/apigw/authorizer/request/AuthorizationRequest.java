package io.apigw.authorizer.request;

import java.time.Duration;
import java.util.Optional;

/**
 * A validated request (contract section 3): authorize, check, deauthorize or rotate one cluster's credential.
 * {@code grace}: a rotation's own grace for the old token (else {@code authorizer.rotation.grace}).
 */
public record AuthorizationRequest(
        RequestType type,
        String requestId,
        String clusterId,
        Optional<String> region,
        Optional<String> appId,
        Optional<String> requestedBy,
        Optional<Duration> grace) {

    public AuthorizationRequest(RequestType type, String requestId, String clusterId, Optional<String> region,
            Optional<String> appId, Optional<String> requestedBy) {
        this(type, requestId, clusterId, region, appId, requestedBy, Optional.empty());
    }
}

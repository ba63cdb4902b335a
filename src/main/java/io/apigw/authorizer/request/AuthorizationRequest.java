package io.apigw.authorizer.request;

import java.util.Optional;

/** A validated request (contract section 3): authorize, check or deauthorize one cluster. */
public record AuthorizationRequest(
        RequestType type,
        String requestId,
        String clusterId,
        Optional<String> region,
        Optional<String> appId,
        Optional<String> requestedBy) {
}

package io.apigw.authorizer.request;

import java.util.Optional;

/** A validated {@code ClusterAuthorizationRequested} (contract section 3). */
public record AuthorizationRequest(
        String requestId,
        String clusterId,
        Optional<String> region,
        Optional<String> appId,
        Optional<String> requestedBy) {
}

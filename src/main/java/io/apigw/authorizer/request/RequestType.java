package io.apigw.authorizer.request;

import java.util.Arrays;
import java.util.Optional;

/** The requests the worker answers, by CloudEvents {@code type} (contract sections 3 and 8). */
public enum RequestType {
    AUTHORIZE("ClusterAuthorizationRequested"),
    CHECK("ClusterAuthorizationCheckRequested"),
    DEAUTHORIZE("ClusterDeauthorizationRequested"),
    /** Since v1.2: a new token for the gateway, the old one revoked after a grace. */
    ROTATE("ClusterCredentialRotationRequested");

    private final String eventType;

    RequestType(String eventType) {
        this.eventType = eventType;
    }

    public String eventType() {
        return eventType;
    }

    static Optional<RequestType> of(String eventType) {
        return Arrays.stream(values()).filter(t -> t.eventType.equals(eventType)).findFirst();
    }
}

package io.apigw.authorizer.result;

/** The {@code code} of a {@code Failed} result and whether the console should offer Retry (contract section 4). */
public enum FailureCode {
    INVALID_REQUEST(false),
    CLUSTER_NOT_FOUND(false),
    PERMISSION_DENIED(true),
    API_SERVER_UNREACHABLE(true),
    TOKEN_NOT_ISSUED(true),
    CONFLICT(true),
    /** Since v1.2: the token the cluster issued is rejected or lacks the seed's rights, even after a replacement. */
    CREDENTIAL_UNUSABLE(true),
    INTERNAL(true);

    private final boolean retryable;

    FailureCode(boolean retryable) {
        this.retryable = retryable;
    }

    public boolean retryable() {
        return retryable;
    }
}

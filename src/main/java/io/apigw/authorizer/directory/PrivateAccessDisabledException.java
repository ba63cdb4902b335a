package io.apigw.authorizer.directory;

/** The cluster exists but its private (intranet) API server endpoint is off; the user must enable it and retry. */
public class PrivateAccessDisabledException extends RuntimeException {

    public PrivateAccessDisabledException(String reason) {
        super(reason, null, false, false);
    }
}

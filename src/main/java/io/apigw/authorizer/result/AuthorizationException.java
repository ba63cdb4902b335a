package io.apigw.authorizer.result;

/**
 * A failure already sorted into a contract code. {@code transientFailure} says whether the worker itself should try
 * again (I/O, 429, 5xx, optimistic-lock conflicts) before giving the code to the console. Messages never carry
 * secrets: they are published and logged as they are.
 */
public class AuthorizationException extends RuntimeException {

    private final FailureCode code;
    private final boolean transientFailure;

    public AuthorizationException(FailureCode code, String message, boolean transientFailure) {
        super(message, null, false, false);
        this.code = code;
        this.transientFailure = transientFailure;
    }

    public static AuthorizationException permanent(FailureCode code, String message) {
        return new AuthorizationException(code, message, false);
    }

    public static AuthorizationException transientFailure(FailureCode code, String message) {
        return new AuthorizationException(code, message, true);
    }

    public FailureCode code() {
        return code;
    }

    public boolean isTransient() {
        return transientFailure;
    }
}

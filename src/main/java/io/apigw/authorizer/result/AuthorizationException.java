package io.apigw.authorizer.result;

import java.time.Duration;
import java.util.Optional;

/**
 * A failure already sorted into a contract code. {@code transientFailure} says whether the worker itself should try
 * again (I/O, 429, 5xx, optimistic-lock conflicts) before giving the code to the console. Messages never carry
 * secrets: they are published and logged as they are.
 */
public class AuthorizationException extends RuntimeException {

    private final FailureCode code;
    private final boolean transientFailure;
    private final Duration retryAfter;

    public AuthorizationException(FailureCode code, String message, boolean transientFailure) {
        this(code, message, transientFailure, null);
    }

    /** @param retryAfter how long the server asked us to wait before trying again (429/503), or null */
    public AuthorizationException(FailureCode code, String message, boolean transientFailure, Duration retryAfter) {
        super(message, null, false, false);
        this.code = code;
        this.transientFailure = transientFailure;
        this.retryAfter = retryAfter;
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

    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}

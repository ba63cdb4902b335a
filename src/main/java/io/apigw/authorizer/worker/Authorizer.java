package io.apigw.authorizer.worker;

import java.time.Duration;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.directory.PrivateAccessDisabledException;
import io.apigw.authorizer.grant.ChangeLog;
import io.apigw.authorizer.lifecycle.Authorize;
import io.apigw.authorizer.lifecycle.Check;
import io.apigw.authorizer.lifecycle.Deauthorize;
import io.apigw.authorizer.lifecycle.Rotate;
import io.apigw.authorizer.lifecycle.UseCase;
import io.apigw.authorizer.metrics.AuthorizerMetrics;
import io.apigw.authorizer.request.AuthorizationRequest;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.apigw.authorizer.result.Result;
import io.apigw.authorizer.timing.Watchdog;

/**
 * Runs a request's use case ({@code lifecycle/}) to an answer: retries of transient failures with backoff, the
 * request's deadline over all of them, and the answers that are no use case's own (private access off, past the
 * deadline, an unexpected error). Every step of a use case is idempotent, so a retry runs the whole attempt again.
 */
@ApplicationScoped
public class Authorizer {

    private static final Logger LOG = Logger.getLogger(Authorizer.class);
    /** A server's Retry-After is honoured up to this, so one request cannot hold its cluster's queue for long. */
    private static final Duration MAX_RETRY_AFTER = Duration.ofSeconds(30);
    /** A retry is started only if this much of the deadline is left after its pause: less could not finish. */
    private static final Duration SHORTEST_ATTEMPT = Duration.ofSeconds(1);

    private final Authorize authorize;
    private final Check check;
    private final Rotate rotate;
    private final Deauthorize deauthorize;
    private final Backoff backoff;
    private final AuthorizerMetrics metrics;
    private final Drain drain;
    private final Duration deadline;

    public Authorizer(Authorize authorize, Check check, Rotate rotate, Deauthorize deauthorize,
            AuthorizerConfig config, AuthorizerMetrics metrics, Drain drain) {
        this.authorize = authorize;
        this.check = check;
        this.rotate = rotate;
        this.deauthorize = deauthorize;
        this.metrics = metrics;
        this.drain = drain;
        this.backoff = Backoff.of(config.retry());
        this.deadline = config.request().deadline();
    }

    public Result handle(AuthorizationRequest request) {
        return switch (request.type()) {
            case AUTHORIZE -> withRetries(request, authorize);
            case CHECK -> withRetries(request, check);
            case DEAUTHORIZE -> withRetries(request, deauthorize);
            case ROTATE -> withRetries(request, rotate);
        };
    }

    /**
     * Runs attempts until one succeeds, a failure is permanent, the attempts are used up, or the request's deadline
     * passes. The deadline bounds the whole request, whatever a step does: a watchdog interrupts the thread when it
     * passes, and every blocking wait gives up when interrupted.
     */
    private Result withRetries(AuthorizationRequest request, UseCase step) {
        ChangeLog changes = new ChangeLog();
        long deadlineAt = System.nanoTime() + this.deadline.toNanos();
        try (Watchdog watchdog = Watchdog.start(this.deadline)) {
            for (int attempt = 1;; attempt++) {
                try {
                    return step.attempt(request, attempt, changes);
                } catch (PrivateAccessDisabledException e) {
                    LOG.debugf("request %s: private access of %s is off: %s", request.requestId(),
                            request.clusterId(), e.getMessage());
                    return new Result.PrivateAccessDisabled(request.requestId(), request.clusterId(), region(request),
                            Result.now(), attempt, true, Result.PrivateAccessDisabled.MESSAGE);
                } catch (AuthorizationException e) {
                    Optional<Result> answer = afterFailure(request, attempt, e, watchdog, deadlineAt);
                    if (answer.isPresent()) {
                        return answer.get();
                    }
                } catch (RuntimeException e) {
                    return unexpected(request, attempt, e, watchdog);
                }
            }
        }
    }

    /** The answer to a failed attempt; empty once the pause before the next attempt is over. */
    private Optional<Result> afterFailure(AuthorizationRequest request, int attempt, AuthorizationException e,
            Watchdog watchdog, long deadlineAt) {
        if (watchdog.expired()) {
            return Optional.of(pastDeadline(request, attempt, e));
        }
        Duration wait = pause(attempt, e.retryAfter().orElse(Duration.ZERO));
        boolean inTime = System.nanoTime() + wait.plus(SHORTEST_ATTEMPT).toNanos() < deadlineAt;
        if (e.isTransient() && attempt < backoff.maxAttempts() && inTime) {
            metrics.retry(e.code().name());
            LOG.infof("request %s: attempt %d for %s failed (%s: %s); retrying", request.requestId(), attempt,
                    request.clusterId(), e.code(), e.getMessage());
            if (sleep(wait)) {
                return Optional.empty();
            }
            if (watchdog.expired()) {
                return Optional.of(pastDeadline(request, attempt, e));
            }
            // Stopping: leave the record unacknowledged for redelivery, not a false failure.
            throw new IllegalStateException("interrupted between attempts");
        }
        if (drain.tearingDown()) {
            // The failure may be the teardown's doing (a closed client): redeliver rather than publish it.
            throw e;
        }
        return Optional.of(new Result.Failed(request.requestId(), request.clusterId(), region(request), attempt,
                e.code(), e.getMessage()));
    }

    private Result unexpected(AuthorizationRequest request, int attempt, RuntimeException e, Watchdog watchdog) {
        if (watchdog.expired()) {
            return pastDeadline(request, attempt, null);
        }
        if (drain.draining()) {
            // Stopping pulls things from under the attempt: no false INTERNAL, redeliver it instead.
            throw e;
        }
        // Unknown exceptions may quote what they saw: log the type only, never the message.
        LOG.errorf("request %s: unexpected %s while handling %s", request.requestId(), e.getClass().getName(),
                request.clusterId());
        return new Result.Failed(request.requestId(), request.clusterId(), region(request), attempt,
                FailureCode.INTERNAL, "unexpected internal error (" + e.getClass().getSimpleName() + ")");
    }

    /**
     * The deadline cut the request short: retryable, as {@code TOKEN_NOT_ISSUED} if it was waiting for the token,
     * else as an API server that did not answer in time.
     */
    private Result pastDeadline(AuthorizationRequest request, int attempt, AuthorizationException cut) {
        FailureCode code = cut != null && cut.code() == FailureCode.TOKEN_NOT_ISSUED ? FailureCode.TOKEN_NOT_ISSUED
                : FailureCode.API_SERVER_UNREACHABLE;
        String what = code == FailureCode.TOKEN_NOT_ISSUED ? "while waiting for the token"
                : "while waiting for an answer (the cluster's API server, the cluster directory or the gateway's own "
                        + "cluster)";
        LOG.infof("request %s: deadline of %ss passed for %s in attempt %d", request.requestId(),
                deadline.toSeconds(), request.clusterId(), attempt);
        return new Result.Failed(request.requestId(), request.clusterId(), region(request), attempt, code,
                "the request's deadline (" + deadline.toSeconds() + "s) passed " + what);
    }

    private static String region(AuthorizationRequest request) {
        return request.region().orElse(null);
    }

    /** The backoff, or longer if the server asked for it (429/503 Retry-After), up to a bound. */
    private Duration pause(int attempt, Duration serverAsked) {
        Duration wait = backoff.after(attempt);
        if (serverAsked.compareTo(wait) > 0) {
            wait = serverAsked.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : serverAsked;
        }
        return wait;
    }

    /** @return false if interrupted (the deadline passed, or the worker is stopping) */
    private static boolean sleep(Duration wait) {
        try {
            Thread.sleep(wait.toMillis());
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}

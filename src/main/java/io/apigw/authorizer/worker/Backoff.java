package io.apigw.authorizer.worker;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

import io.apigw.authorizer.config.AuthorizerConfig;

/** Exponential backoff with full jitter, so a region's worth of retries does not arrive in lockstep. */
record Backoff(int maxAttempts, Duration initial, Duration max) {

    static Backoff of(AuthorizerConfig.Retry retry) {
        return new Backoff(Math.max(1, retry.maxAttempts()), retry.initialBackoff(), retry.maxBackoff());
    }

    /** The pause after the given (1-based) failed attempt. */
    Duration after(int attempt) {
        long ceiling = Math.min(max.toMillis(), initial.toMillis() << Math.min(attempt - 1, 20));
        return Duration.ofMillis(ceiling <= 0 ? 0 : ThreadLocalRandom.current().nextLong(ceiling / 2, ceiling + 1));
    }
}

package io.apigw.authorizer.delivery;

import java.time.Duration;

import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import io.apigw.authorizer.config.AuthorizerConfig;

/**
 * The worker's {@link KeyedDispatcher}s: the console's requests (unqualified, sized by {@code authorizer.concurrency})
 * and the sweep's checks ({@link Sweeps}).
 */
@Singleton
public class Dispatchers {

    /** The channel whose records run on the sweeps dispatcher. */
    public static final String SWEEP_CHANNEL = "sweep-requests";

    /** Headroom over the request deadline for publishing the result once the deadline has ended the work. */
    private static final Duration PUBLISH_HEADROOM = Duration.ofSeconds(15);
    /** Records handed over per worker slot before the consumer is held back: enough to keep every slot busy. */
    private static final int ADMITTED_PER_SLOT = 4;

    @Produces
    @Singleton
    KeyedDispatcher dispatcher(AuthorizerConfig config) {
        return new KeyedDispatcher(config.concurrency(), ADMITTED_PER_SLOT * config.concurrency(),
                "authorization-worker");
    }

    void close(@Disposes KeyedDispatcher dispatcher) {
        dispatcher.shutdownNow();
    }

    /** The sweep's checks: threads and slots of their own ({@code authorizer.sweep.concurrency}). */
    @Produces
    @Singleton
    @Sweeps
    KeyedDispatcher sweeps(AuthorizerConfig config) {
        return new KeyedDispatcher(config.sweep().concurrency(), ADMITTED_PER_SLOT * config.sweep().concurrency(),
                "sweep-worker");
    }

    void closeSweeps(@Disposes @Sweeps KeyedDispatcher dispatcher) {
        dispatcher.shutdownNow();
    }

    /** The longest one request can run: its deadline plus the time to publish what it ended with. */
    public static Duration longestRun(AuthorizerConfig config) {
        return config.request().deadline().plus(PUBLISH_HEADROOM);
    }
}

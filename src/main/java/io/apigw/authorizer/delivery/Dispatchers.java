package io.apigw.authorizer.delivery;

import java.time.Duration;

import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import io.apigw.authorizer.config.AuthorizerConfig;

/** The worker's one {@link KeyedDispatcher}, sized by {@code authorizer.concurrency}. */
@Singleton
public class Dispatchers {

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

    /** The longest one request can run: its deadline plus the time to publish what it ended with. */
    public static Duration longestRun(AuthorizerConfig config) {
        return config.request().deadline().plus(PUBLISH_HEADROOM);
    }
}

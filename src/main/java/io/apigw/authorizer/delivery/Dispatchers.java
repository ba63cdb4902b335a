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
    /** Records that can run, per worker slot, before the consumer is held back: enough to keep every slot busy. */
    private static final int RUNNABLE_PER_SLOT = 4;
    /**
     * Records queued behind a running record of their own cluster, per slot: room for the console's retries of
     * clusters that stall (each waits for its cluster's deadline) while the others' records still come in.
     */
    private static final int QUEUED_PER_SLOT = 32;
    /**
     * Records of one cluster queued behind its running one: the console's Retry of a stalled cluster a few times over.
     * One more is answered at once ({@code Failed/CONFLICT}, retryable), so that no cluster fills the room.
     */
    public static final int QUEUED_PER_CLUSTER = 16;
    /**
     * The bytes of each room, records counted whole. A request is about 400 bytes; one at the limits (value and
     * headers each up to authorizer.request.max-bytes, 64 KiB) about 128 KiB. README, Operations: what the worker
     * holds in all, against the deployed heap.
     */
    static final long RUNNABLE_BYTES = 4L << 20;
    static final long QUEUED_BYTES = 4L << 20;
    /**
     * One cluster's bytes queued behind its running record: an eighth of the room, so that a few records of one
     * cluster near the size limit do not fill it (four such records did, and stopped the consumer for everyone).
     */
    public static final long QUEUED_BYTES_PER_CLUSTER = QUEUED_BYTES / 8;

    @Produces
    @Singleton
    KeyedDispatcher dispatcher(AuthorizerConfig config) {
        return dispatcher(config.concurrency(), "authorization-worker");
    }

    static KeyedDispatcher dispatcher(int concurrency, String threadName) {
        return new KeyedDispatcher(concurrency, new KeyedDispatcher.Limits(RUNNABLE_PER_SLOT * concurrency,
                RUNNABLE_BYTES, QUEUED_PER_SLOT * concurrency, QUEUED_BYTES, QUEUED_PER_CLUSTER, QUEUED_BYTES_PER_CLUSTER),
                threadName);
    }

    void close(@Disposes KeyedDispatcher dispatcher) {
        dispatcher.shutdownNow();
    }

    /** The sweep's checks: threads and slots of their own ({@code authorizer.sweep.concurrency}). */
    @Produces
    @Singleton
    @Sweeps
    KeyedDispatcher sweeps(AuthorizerConfig config) {
        return dispatcher(config.sweep().concurrency(), "sweep-worker");
    }

    void closeSweeps(@Disposes @Sweeps KeyedDispatcher dispatcher) {
        dispatcher.shutdownNow();
    }

    /** The longest one request can run: its deadline plus the time to publish what it ended with. */
    public static Duration longestRun(AuthorizerConfig config) {
        return config.request().deadline().plus(PUBLISH_HEADROOM);
    }
}

package io.apigw.authorizer.timing;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Bounds blocking work as a whole: interrupts the thread that started it if it outlives its limit. HTTP clients
 * bound only the wait for headers or for each read, so a server that stalls or trickles a body would otherwise hold
 * the thread for as long as it likes; every blocking wait the worker uses gives up when interrupted.
 * <p>
 * Use one per bounded piece of work, in try-with-resources; after {@link #close()} no interrupt can arrive, and one
 * that arrived is cleared so that it cannot hit later work. {@link #expired()} stays readable after closing.
 */
public final class Watchdog implements AutoCloseable {

    private static final ScheduledExecutorService TIMERS = timers();
    /** The bound of one piece of work on a client without a request timeout: two reads or writes of 10 s. */
    private static final long DEFAULT_CLIENT_LIMIT_MS = 20_000;

    /** One timer thread; a cancelled timer leaves its queue at once (most work ends long before its limit). */
    private static ScheduledExecutorService timers() {
        ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1, DaemonThreads.named("watchdog"));
        timers.setRemoveOnCancelPolicy(true);
        return timers;
    }

    private final Thread owner;
    private final ScheduledFuture<?> timer;
    private boolean done;
    private boolean expired;

    private Watchdog(Duration limit) {
        this.owner = Thread.currentThread();
        this.timer = TIMERS.schedule(this::expire, Math.max(1, limit.toMillis()), TimeUnit.MILLISECONDS);
    }

    /** Starts watching the current thread. */
    public static Watchdog start(Duration limit) {
        return new Watchdog(limit);
    }

    /**
     * The bound of one piece of work on a client whose requests time out after {@code requestTimeoutMs} (0: never):
     * two reads or writes, or 20 s when the client sets no timeout.
     */
    public static Duration forClient(int requestTimeoutMs) {
        return Duration.ofMillis(requestTimeoutMs > 0 ? requestTimeoutMs * 2L : DEFAULT_CLIENT_LIMIT_MS);
    }

    private synchronized void expire() {
        if (!done) {
            expired = true;
            owner.interrupt();
        }
    }

    /** Whether the limit passed before the work ended. */
    public synchronized boolean expired() {
        return expired;
    }

    @Override
    public synchronized void close() {
        if (!done) {
            done = true;
            timer.cancel(false);
            if (expired) {
                Thread.interrupted();
            }
        }
    }
}

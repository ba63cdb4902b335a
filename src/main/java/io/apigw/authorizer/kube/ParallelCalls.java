package io.apigw.authorizer.kube;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.timing.DaemonThreads;

/**
 * Threads for the calls an attempt makes at once (the five reads, two writes per wave). Bounded by
 * {@link #PER_ATTEMPT} per authorization in flight, so raising {@code authorizer.concurrency} cannot spawn threads
 * without limit (an unbounded pool held 5 threads per request, 400+ at concurrency 128); idle threads end after a
 * minute.
 */
@ApplicationScoped
public class ParallelCalls {

    /** Most calls an attempt hands to this pool at once (four reads and the stored credential); it makes one more itself on its own thread. */
    static final int PER_ATTEMPT = 5;

    private final ThreadPoolExecutor pool;

    public ParallelCalls(AuthorizerConfig config) {
        int threads = PER_ATTEMPT * Math.max(1, config.concurrency());
        // A thread is started only when none is idle (a hand-off queue), so the pool grows to what is really in
        // flight. It cannot overflow, as no more than PER_ATTEMPT calls per authorization are submitted; should it
        // ever, the caller makes the call itself. Once stopped it refuses, so that no caller waits for a dropped call.
        pool = new ThreadPoolExecutor(0, threads, 60, TimeUnit.SECONDS, new SynchronousQueue<>(),
                DaemonThreads.named("kube-calls"), (call, executor) -> {
                    if (executor.isShutdown()) {
                        throw new RejectedExecutionException("the worker is stopping");
                    }
                    call.run();
                });
    }

    public <T> CompletableFuture<T> submit(Supplier<T> call) {
        return CompletableFuture.supplyAsync(call, pool);
    }

    /**
     * Runs {@code pooled} on the pool and {@code here} on the caller's thread, and returns once both have ended, so
     * that the caller knows which of them took effect. Each call is bounded by its own deadline.
     */
    public <T> Outcome<T> both(Runnable pooled, Supplier<T> here) {
        CompletableFuture<Void> onPool = CompletableFuture.runAsync(pooled, pool);
        T value = null;
        RuntimeException hereFailed = null;
        RuntimeException thereFailed = null;
        try {
            value = here.get();
        } catch (RuntimeException e) {
            hereFailed = e;
        }
        try {
            join(onPool);
        } catch (CancellationException e) {
            // Interrupted: still wait for the pooled call (it is bounded on its own), so the caller knows what it did.
            thereFailed = settled(onPool);
            if (thereFailed == null) {
                thereFailed = e;
            }
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            thereFailed = e;
        }
        return new Outcome<>(thereFailed, value, hereFailed);
    }

    /**
     * How two calls made at once ended: the failure (null if it succeeded) of the call on the pool and of the one on
     * the caller's thread, and the latter's value.
     */
    public record Outcome<T>(RuntimeException pooledFailure, T value, RuntimeException callerFailure) {

        /** Nothing to run: the value as it already is. */
        public static <T> Outcome<T> done(T value) {
            return new Outcome<>(null, value, null);
        }

        /** Throws a failure if there was one, the caller's first; else returns the value. */
        public T orThrow() {
            RuntimeException first = callerFailure != null ? callerFailure : pooledFailure;
            if (first == null) {
                return value;
            }
            if (first == callerFailure && pooledFailure != null) {
                // kept with the first, so a second cause is not lost from view
                callerFailure.addSuppressed(pooledFailure);
            }
            throw first;
        }
    }

    /**
     * The call's own failure, unwrapped; every call is bounded by its deadline, so this never waits forever. The wait
     * gives up when interrupted (the request's deadline, or a stop), like every other wait of a request.
     */
    public static <T> T join(CompletableFuture<T> call) {
        try {
            return call.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new CompletionException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted while waiting for a call to the cluster");
        }
    }

    /** Waits for a call without being interrupted (each call is bounded on its own); its failure, or null. */
    public static RuntimeException settled(CompletableFuture<?> call) {
        boolean interrupted = Thread.interrupted();
        try {
            return call.handle((v, t) -> t == null ? null
                    : t instanceof CompletionException && t.getCause() instanceof RuntimeException r ? r
                    : t instanceof RuntimeException r ? r : new CompletionException(t)).join();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @PreDestroy
    void stop() {
        pool.shutdownNow();
    }
}

package io.apigw.authorizer.grant;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

import io.apigw.authorizer.config.AuthorizerConfig;

/**
 * Threads for the calls an attempt makes at once (the five reads, two writes per wave). Bounded by
 * {@link #PER_ATTEMPT} per authorization in flight, so raising {@code authorizer.concurrency} cannot spawn threads
 * without limit (an unbounded pool held 5 threads per request, 400+ at concurrency 128); idle threads end after a
 * minute.
 */
@ApplicationScoped
public class ParallelCalls {

    /** Most calls an attempt hands to this pool at once; it makes one more itself on its own thread. */
    static final int PER_ATTEMPT = 4;

    private final ThreadPoolExecutor pool;

    public ParallelCalls(AuthorizerConfig config) {
        int threads = PER_ATTEMPT * Math.max(1, config.concurrency());
        // A thread is started only when none is idle (a hand-off queue), so the pool grows to what is really in
        // flight. It cannot overflow, as no more than PER_ATTEMPT calls per authorization are submitted; should it
        // ever, the caller makes the call itself. Once stopped it refuses, so that no caller waits for a dropped call.
        pool = new ThreadPoolExecutor(0, threads, 60, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "kube-calls");
            t.setDaemon(true);
            return t;
        }, (call, executor) -> {
            if (executor.isShutdown()) {
                throw new RejectedExecutionException("the worker is stopping");
            }
            call.run();
        });
    }

    <T> CompletableFuture<T> submit(Supplier<T> call) {
        return CompletableFuture.supplyAsync(call, pool);
    }

    /**
     * Runs {@code there} on the pool and {@code here} on the caller's thread, and returns once both have ended, so
     * that the caller knows which of them took effect. Each call is bounded by its own deadline.
     */
    <T> Outcome<T> both(Runnable there, Supplier<T> here) {
        CompletableFuture<Void> pooled = CompletableFuture.runAsync(there, pool);
        T value = null;
        RuntimeException hereFailed = null;
        RuntimeException thereFailed = null;
        try {
            value = here.get();
        } catch (RuntimeException e) {
            hereFailed = e;
        }
        try {
            join(pooled);
        } catch (RuntimeException e) {
            thereFailed = e;
        }
        return new Outcome<>(thereFailed, value, hereFailed);
    }

    /** How two calls made at once ended: a failure of each (null if it succeeded) and the value of the second. */
    record Outcome<T>(RuntimeException there, T value, RuntimeException here) {

        /** Nothing to run: the value as it already is. */
        static <T> Outcome<T> done(T value) {
            return new Outcome<>(null, value, null);
        }

        /** Throws a failure if there was one, {@code here}'s first; else returns the value. */
        T orThrow() {
            RuntimeException first = here != null ? here : there;
            if (first == null) {
                return value;
            }
            if (first == here && there != null) {
                here.addSuppressed(there); // kept with the first, so a second cause is not lost from view
            }
            throw first;
        }
    }

    /** The call's own failure, unwrapped; every call is bounded by its deadline, so this never waits forever. */
    static <T> T join(CompletableFuture<T> call) {
        try {
            return call.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    @PreDestroy
    void stop() {
        pool.shutdownNow();
    }
}

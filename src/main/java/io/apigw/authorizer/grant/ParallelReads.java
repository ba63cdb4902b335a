package io.apigw.authorizer.grant;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

import io.apigw.authorizer.config.AuthorizerConfig;

/**
 * Threads for the reads an attempt makes at once. Bounded by {@link #PER_ATTEMPT} per authorization in flight, so
 * raising {@code authorizer.concurrency} cannot spawn threads without limit (an unbounded pool held 5 threads per
 * request, 400+ at concurrency 128); idle threads end after a minute.
 */
@ApplicationScoped
public class ParallelReads {

    /** Reads an attempt hands to this pool; it makes one more itself on its own thread. */
    static final int PER_ATTEMPT = 4;

    private final ThreadPoolExecutor pool;

    public ParallelReads(AuthorizerConfig config) {
        int threads = PER_ATTEMPT * Math.max(1, config.concurrency());
        pool = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "kube-reads");
            t.setDaemon(true);
            return t;
        });
        pool.allowCoreThreadTimeOut(true);
    }

    <T> CompletableFuture<T> submit(Supplier<T> read) {
        return CompletableFuture.supplyAsync(read, pool);
    }

    @PreDestroy
    void stop() {
        pool.shutdownNow();
    }
}

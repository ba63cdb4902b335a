package io.apigw.authorizer.delivery;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.common.TopicPartition;

import io.apigw.authorizer.timing.DaemonThreads;
import java.util.function.Predicate;

/**
 * Runs the records of one key (cluster id) one at a time in arrival order, and records of different keys
 * concurrently, at most {@code concurrency} at once. A record waiting for its key holds no slot, so a cluster with a
 * long queue never holds up the others.
 * <p>
 * The Kafka edge hands every record over as soon as it arrives; this is what lets the offset ledger know every
 * record that is not answered yet. {@link #admit} returns a stage that completes once there is room, so the
 * consumer stops fetching (back-pressure) rather than buffering without bound. There are two rooms, each bounded in
 * records and in bytes (a record counted whole: key, value and headers): records that can run (their key's first) up
 * to {@code maxRunnable}, enough to keep every slot busy; and records queued behind their key's first, up to
 * {@code maxQueued}. A stalled cluster's queue fills only the second, so the consumer goes on fetching other clusters'
 * records while it lasts (issue 18: 20 stalled clusters with ten requests each used to hold the consumer back until
 * they had drained). One cluster may hold at most {@code maxPerKey} records and {@code maxPerKeyBytes} of the second
 * room (issue 27: one cluster's flood of records, or a few of its records near the size limit, filled it and stopped
 * the consumer for every cluster): a record beyond that runs its job's {@code overflow}
 * instead of its work, at once and as a record of its own, which answers it without touching the cluster.
 * <p>
 * Two ways to stop taking work: {@link #drain} (the worker stops: nothing new starts, what runs may finish) and
 * {@link #revoke} (a rebalance took partitions away: their waiting records are dropped for the new owner to run, and
 * the caller waits for their running ones, so that two workers never act on one cluster at once).
 */
public final class KeyedDispatcher {

    /**
     * One record's work. {@code partition} is where it came from; the work acknowledges the record itself.
     * {@code bytes} is the record's whole size, which counts in the room it is held in. {@code overflow} answers the
     * record (and acknowledges it) instead of the work when too many records of its key wait already.
     */
    public record Job(TopicPartition partition, String key, Runnable work, int bytes, Runnable overflow) {
    }

    /** The room for records: how many may be held that can run, and how many queued behind their key's first. */
    public record Limits(int maxRunnable, long maxRunnableBytes, int maxQueued, long maxQueuedBytes, int maxPerKey,
            long maxPerKeyBytes) {
    }

    /** Keys of records answered by their overflow: no cluster id has this first character. */
    private static final String OVERFLOW_KEY = "\0overflow-";

    private final int concurrency;
    private final Limits limits;
    private long overflows;
    private final ExecutorService pool;
    /** Completes admissions outside the dispatcher's lock: the consumer's pipeline goes on on this thread. */
    private final ExecutorService admissions;
    /** Per key: the job that runs or is ready (head), then the jobs waiting behind it. */
    private final Map<String, Deque<Job>> byKey = new HashMap<>();
    /** Heads whose key is free but that wait for a slot. */
    private final Deque<Job> ready = new ArrayDeque<>();
    private final Set<Job> running = new HashSet<>();
    private final Set<TopicPartition> revoked = new HashSet<>();
    /** Records held: running, ready, or queued behind their key's first, and their bytes. */
    private int admitted;
    private long admittedBytes;
    /** Of those, queued behind their key's first, and their bytes. */
    private int queued;
    private long queuedBytes;
    private boolean draining;
    private CompletableFuture<Void> room;

    /**
     * @param limits records (and their bytes) that can run, or are queued behind their key's first, before the
     *        consumer is held back; records of one key queued at most
     */
    public KeyedDispatcher(int concurrency, Limits limits, String threadName) {
        this.concurrency = concurrency;
        this.limits = limits;
        ThreadPoolExecutor executor = new ThreadPoolExecutor(concurrency, concurrency, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), DaemonThreads.numbered(threadName));
        executor.allowCoreThreadTimeOut(true);
        this.pool = executor;
        this.admissions = Executors.newSingleThreadExecutor(DaemonThreads.named(threadName + "-admission"));
    }

    /**
     * Takes a record. The stage completes when another record may be handed over; while draining it never does, so
     * no further record arrives and nothing is started or acknowledged.
     */
    public synchronized CompletionStage<Void> admit(Job job) {
        if (draining) {
            return new CompletableFuture<>();
        }
        if (revoked.contains(job.partition())) {
            // Fetched before the partition was taken away: its new owner runs it.
            return CompletableFuture.completedFuture(null);
        }
        Deque<Job> waiting = byKey.get(job.key());
        if (waiting != null && job.overflow() != null && (waiting.size() > limits.maxPerKey()
                || queuedBytes(waiting) + job.bytes() > limits.maxPerKeyBytes())) {
            // Its key's share of the queued room is used up: answered now, beside the others' records.
            job = new Job(job.partition(), OVERFLOW_KEY + overflows++, job.overflow(), job.bytes(), null);
        }
        admitted++;
        admittedBytes += job.bytes();
        Deque<Job> queue = byKey.computeIfAbsent(job.key(), k -> new ArrayDeque<>());
        queue.addLast(job);
        if (queue.size() == 1) {
            ready.addLast(job);
            startReady();
        } else {
            queued++;
            queuedBytes += job.bytes();
        }
        if (hasRoom()) {
            return CompletableFuture.completedFuture(null);
        }
        if (room == null) {
            room = new CompletableFuture<>();
        }
        return room;
    }

    /** The bytes of a key's records queued behind its first. */
    private static long queuedBytes(Deque<Job> waiting) {
        long sum = 0;
        for (Job j : waiting) {
            sum += j.bytes();
        }
        return sum - waiting.peekFirst().bytes();
    }

    /** Partitions are assigned (again): their records are accepted. */
    public synchronized void assigned(Collection<TopicPartition> partitions) {
        revoked.removeAll(partitions);
    }

    /** What a revocation found: records of the partitions running when it began, and still running when it ended. */
    public record Revocation(int running, int unfinished) {
    }

    /**
     * Partitions are taken away: their waiting records are dropped (never started, never acknowledged) and this
     * returns once their running records have finished, or after {@code within}.
     */
    public synchronized Revocation revoke(Collection<TopicPartition> partitions, Duration within)
            throws InterruptedException {
        revoked.addAll(partitions);
        ready.removeIf(j -> partitions.contains(j.partition()));
        for (var it = byKey.values().iterator(); it.hasNext();) {
            Deque<Job> queue = it.next();
            Job head = queue.peekFirst();
            for (var behind = queue.iterator(); behind.hasNext();) {
                Job j = behind.next();
                if (j != head && partitions.contains(j.partition())) {
                    behind.remove();
                    dropped(j);
                    unqueued(j);
                }
            }
            if (!running.contains(head) && partitions.contains(head.partition())) {
                queue.removeFirst();
                dropped(head);
                Job next = queue.peekFirst();
                if (next == null) {
                    it.remove();
                } else {
                    unqueued(next);
                    ready.addLast(next);
                }
            }
        }
        startReady();
        wakeAdmission();
        int running = (int) count(j -> partitions.contains(j.partition()));
        return new Revocation(running, awaitRunning(j -> partitions.contains(j.partition()), within));
    }

    /** The worker stops: nothing new starts; returns once nothing runs, or after {@code within}. */
    public synchronized int drain(Duration within) throws InterruptedException {
        draining = true;
        ready.clear();
        return awaitRunning(j -> true, within);
    }

    public synchronized boolean draining() {
        return draining;
    }

    /** Records being handled now (waiting ones not counted). */
    public synchronized int running() {
        return running.size();
    }

    /** Stops the threads; whatever still runs is interrupted (its record stays unacknowledged). */
    public void shutdownNow() {
        pool.shutdownNow();
        admissions.shutdownNow();
    }

    private int awaitRunning(Predicate<Job> which, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        long left;
        while ((left = count(which)) > 0 && System.nanoTime() < deadline) {
            wait(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
        }
        return (int) left;
    }

    private long count(Predicate<Job> which) {
        return running.stream().filter(which).count();
    }

    private void startReady() {
        while (!draining && running.size() < concurrency && !ready.isEmpty()) {
            Job next = ready.pollFirst();
            running.add(next);
            pool.execute(() -> run(next));
        }
    }

    private void run(Job job) {
        try {
            job.work().run();
        } finally {
            finished(job);
        }
    }

    private synchronized void finished(Job job) {
        try {
            release(job);
        } finally {
            notifyAll();
        }
    }

    private void release(Job job) {
        running.remove(job);
        dropped(job);
        Deque<Job> queue = byKey.get(job.key());
        if (queue != null && queue.peekFirst() == job) {
            queue.removeFirst();
            Job next = queue.peekFirst();
            if (next == null) {
                byKey.remove(job.key());
            } else {
                unqueued(next);
                ready.addLast(next);
            }
        }
        startReady();
        wakeAdmission();
    }

    /** {@code job} is no longer held. */
    private void dropped(Job job) {
        admitted--;
        admittedBytes -= job.bytes();
    }

    /** {@code job} is no longer queued behind its key: it is its key's first now, or dropped. */
    private void unqueued(Job job) {
        queued--;
        queuedBytes -= job.bytes();
    }

    private boolean hasRoom() {
        // Checked after a record is taken, so a room holds at most one record past its byte bound.
        boolean runnable = admitted - queued < Math.max(concurrency, limits.maxRunnable())
                && admittedBytes - queuedBytes < limits.maxRunnableBytes();
        return runnable && (queued == 0 || queued < limits.maxQueued() && queuedBytes < limits.maxQueuedBytes());
    }

    private void wakeAdmission() {
        if (room != null && hasRoom()) {
            CompletableFuture<Void> r = room;
            room = null;
            try {
                admissions.execute(() -> r.complete(null));
            } catch (RejectedExecutionException e) {
                // Stopped: no record is taken any more, so nobody waits for the room.
            }
        }
    }
}

package io.apigw.authorizer.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.common.TopicPartition;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Per-key order, bounded concurrency, back-pressure, revocation and drain of the dispatcher, with plain threads. */
class KeyedDispatcherTest {

    static final TopicPartition P0 = new TopicPartition("requests", 0);
    static final TopicPartition P1 = new TopicPartition("requests", 1);
    static final Duration WAIT = Duration.ofSeconds(10);

    final List<KeyedDispatcher> dispatchers = new ArrayList<>();
    final List<String> ran = new CopyOnWriteArrayList<>();
    final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void tearDown() {
        release.countDown();
        dispatchers.forEach(KeyedDispatcher::shutdownNow);
    }

    /** Room for {@code maxRunnable} records that can run, and as many queued behind their key. */
    private KeyedDispatcher dispatcher(int concurrency, int maxRunnable) {
        return dispatcher(concurrency, maxRunnable, maxRunnable, Long.MAX_VALUE);
    }

    private KeyedDispatcher dispatcher(int concurrency, int maxRunnable, int maxQueued, long maxQueuedBytes) {
        KeyedDispatcher d = new KeyedDispatcher(concurrency, new KeyedDispatcher.Limits(maxRunnable, Long.MAX_VALUE,
                maxQueued, maxQueuedBytes, Integer.MAX_VALUE, Long.MAX_VALUE), "test-worker");
        dispatchers.add(d);
        return d;
    }

    private static KeyedDispatcher.Job job(TopicPartition p, String key, Runnable work) {
        return new KeyedDispatcher.Job(p, key, work, 0, null);
    }

    /** A job that records its name and then waits until the test releases it. */
    private KeyedDispatcher.Job held(TopicPartition p, String key, String name) {
        return job(p, key, () -> {
            ran.add(name);
            await(release);
        });
    }

    private KeyedDispatcher.Job quick(TopicPartition p, String key, String name) {
        return job(p, key, () -> ran.add(name));
    }

    @Test
    void recordsOfOneKeyRunOneAtATimeInOrderAndKeysRunConcurrently() {
        KeyedDispatcher d = dispatcher(4, 64);
        ConcurrentHashMap<String, AtomicInteger> runningPerKey = new ConcurrentHashMap<>();
        AtomicInteger maxPerKey = new AtomicInteger();
        AtomicInteger running = new AtomicInteger();
        AtomicInteger maxRunning = new AtomicInteger();
        List<String> order = new CopyOnWriteArrayList<>();
        for (int i = 0; i < 5; i++) {
            for (String key : List.of("a", "b", "c")) {
                String name = key + i;
                d.admit(job(P0, key, () -> {
                    int perKey = runningPerKey.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
                    maxPerKey.accumulateAndGet(perKey, Math::max);
                    maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
                    sleep(20);
                    order.add(name);
                    running.decrementAndGet();
                    runningPerKey.get(key).decrementAndGet();
                }));
            }
        }
        Awaitility.await().atMost(WAIT).until(() -> order.size() == 15);

        assertThat(maxPerKey.get()).as("records of one key at once").isEqualTo(1);
        assertThat(maxRunning.get()).as("keys at once").isGreaterThan(1);
        for (String key : List.of("a", "b", "c")) {
            assertThat(order.stream().filter(n -> n.startsWith(key)))
                    .containsExactly(key + 0, key + 1, key + 2, key + 3, key + 4);
        }
    }

    @Test
    void aKeyWithALongQueueHoldsOneSlotAtMost() {
        KeyedDispatcher d = dispatcher(2, 64);
        for (int i = 0; i < 10; i++) {
            d.admit(held(P0, "busy", "busy" + i));
        }
        d.admit(quick(P0, "other-1", "other-1"));
        d.admit(quick(P0, "other-2", "other-2"));

        Awaitility.await().atMost(WAIT).until(() -> ran.containsAll(List.of("other-1", "other-2")));
        assertThat(ran).containsOnly("busy0", "other-1", "other-2");
    }

    @Test
    void stalledClustersQueuesDoNotHoldBackTheOtherClustersRecords() {
        // Two stalled clusters hold both slots; the console asks each of them ten times meanwhile.
        KeyedDispatcher d = dispatcher(2, 4, 64, Long.MAX_VALUE);
        List<CompletionStage<Void>> stages = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            stages.add(d.admit(held(P0, "stalled-a", "a" + i)));
            stages.add(d.admit(held(P1, "stalled-b", "b" + i)));
        }
        assertThat(stages).as("queued behind their own cluster, they leave room for records that can run")
                .allMatch(s -> s.toCompletableFuture().isDone());
        CompletionStage<Void> other = d.admit(quick(P0, "healthy", "healthy"));
        assertThat(other.toCompletableFuture()).isDone();
        release.countDown();
        Awaitility.await().atMost(WAIT).until(() -> ran.contains("healthy") && ran.size() == 21);
    }

    @Test
    void recordsQueuedBehindTheirKeyAreBoundedInNumberAndInBytes() {
        KeyedDispatcher byCount = dispatcher(1, 4, 2, Long.MAX_VALUE);
        byCount.admit(held(P0, "k", "running"));
        assertThat(byCount.admit(held(P0, "k", "queued-1")).toCompletableFuture()).isDone();
        CompletionStage<Void> full = byCount.admit(held(P0, "k", "queued-2"));
        assertThat(full.toCompletableFuture()).as("two queued behind their key: the next must wait").isNotDone();

        KeyedDispatcher byBytes = dispatcher(1, 4, 100, 1000);
        byBytes.admit(new KeyedDispatcher.Job(P0, "k", () -> await(release), 600, null));
        assertThat(byBytes.admit(new KeyedDispatcher.Job(P0, "k", () -> { }, 600, null)).toCompletableFuture())
                .as("the first queued record is taken whatever its size").isDone();
        CompletionStage<Void> heavy = byBytes.admit(new KeyedDispatcher.Job(P0, "k", () -> { }, 600, null));
        assertThat(heavy.toCompletableFuture()).as("1200 bytes queued of 1000").isNotDone();

        release.countDown();
        Awaitility.await().atMost(WAIT).until(() -> full.toCompletableFuture().isDone()
                && heavy.toCompletableFuture().isDone());
    }

    @Test
    void revokingQueuedRecordsGivesTheirRoomBack() throws Exception {
        KeyedDispatcher d = dispatcher(1, 4, 2, Long.MAX_VALUE);
        CountDownLatch finish = new CountDownLatch(1);
        d.admit(job(P0, "k", () -> await(finish)));
        d.admit(quick(P0, "k", "queued-1"));
        assertThat(d.admit(quick(P0, "k", "queued-2")).toCompletableFuture()).isNotDone();
        Thread releaser = new Thread(() -> {
            sleep(50);
            finish.countDown();
        });
        releaser.start();
        assertThat(d.revoke(List.of(P0), WAIT)).isEqualTo(new KeyedDispatcher.Revocation(1, 0));
        d.assigned(List.of(P0));
        d.admit(held(P1, "k2", "running"));
        assertThat(d.admit(quick(P1, "k2", "again-1")).toCompletableFuture()).isDone();
        assertThat(d.admit(quick(P1, "k2", "again-2")).toCompletableFuture()).as("as much room as at the start")
                .isNotDone();
        assertThat(ran).doesNotContain("queued-1", "queued-2");
    }

    @Test
    void admissionHoldsBackTheConsumerWhenFullAndLetsItGoOnWhenThereIsRoom() {
        KeyedDispatcher d = dispatcher(1, 2);
        assertThat(d.admit(held(P0, "a", "a")).toCompletableFuture()).isCompleted();
        CompletionStage<Void> full = d.admit(quick(P0, "b", "b"));
        assertThat(full.toCompletableFuture()).as("two admitted: the next must wait").isNotDone();

        release.countDown();
        Awaitility.await().atMost(WAIT).until(() -> full.toCompletableFuture().isDone());
        Awaitility.await().atMost(WAIT).until(() -> ran.contains("b"));
    }

    @Test
    void revocationDropsWaitingRecordsOfThePartitionWaitsForItsRunningOnesAndLeavesOthersRunning() throws Exception {
        KeyedDispatcher d = dispatcher(2, 64);
        CountDownLatch runningOnP0 = new CountDownLatch(1);
        CountDownLatch finishP0 = new CountDownLatch(1);
        d.admit(job(P0, "a", () -> {
            ran.add("a0");
            runningOnP0.countDown();
            await(finishP0);
        }));
        // More clusters wait than there are slots, on both partitions.
        for (int i = 0; i < 6; i++) {
            d.admit(held(P0, "p0-" + i, "p0-" + i));
            d.admit(quick(P1, "p1-" + i, "p1-" + i));
        }
        d.admit(quick(P0, "a", "a1"));
        await(runningOnP0);

        List<KeyedDispatcher.Revocation> revocation = new CopyOnWriteArrayList<>();
        Thread revoking = new Thread(() -> {
            try {
                revocation.add(d.revoke(List.of(P0), WAIT));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        revoking.start();
        revoking.join(300);
        assertThat(revoking.isAlive()).as("revocation waits for the running record of P0").isTrue();
        finishP0.countDown();
        release.countDown();
        revoking.join(WAIT.toMillis());
        assertThat(revoking.isAlive()).isFalse();
        assertThat(revocation).containsExactly(new KeyedDispatcher.Revocation(2, 0));

        Awaitility.await().atMost(WAIT).until(() -> ran.stream().filter(n -> n.startsWith("p1-")).count() == 6);
        // A record of the revoked partition that arrives late is its new owner's; once assigned again they run.
        d.admit(quick(P0, "late", "late"));
        d.assigned(List.of(P0));
        d.admit(quick(P0, "again", "again"));
        Awaitility.await().atMost(WAIT).until(() -> ran.contains("again"));
        assertThat(ran).doesNotContain("a1", "late")
                .as("at most the one that held a slot ran on P0 besides a0")
                .filteredOn(n -> n.startsWith("p0-")).hasSizeLessThanOrEqualTo(1);
        Awaitility.await().atMost(WAIT).until(() -> d.running() == 0);
    }

    @Test
    void repeatedRevocationsLeakNoCapacity() throws Exception {
        KeyedDispatcher d = dispatcher(2, 4);
        for (int round = 0; round < 50; round++) {
            CountDownLatch roundDone = new CountDownLatch(1);
            // Two run (holding the slots), two wait: the revocation must drop the waiting ones and free their room.
            for (int i = 0; i < 4; i++) {
                d.admit(job(P0, "k" + i, () -> await(roundDone)));
            }
            Thread releaser = new Thread(() -> {
                sleep(5);
                roundDone.countDown();
            });
            releaser.start();
            assertThat(d.revoke(List.of(P0), WAIT)).as("round %d", round)
                    .isEqualTo(new KeyedDispatcher.Revocation(2, 0));
            d.assigned(List.of(P0));
        }
        Awaitility.await().atMost(WAIT).until(() -> d.running() == 0);
        List<CompletionStage<Void>> admitted = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            admitted.add(d.admit(held(P1, "last" + i, "last" + i)));
        }
        assertThat(admitted).as("room for maxAdmitted - 1 records, as at the start")
                .allMatch(s -> s.toCompletableFuture().isDone());
        assertThat(d.admit(held(P1, "full", "full")).toCompletableFuture()).isNotDone();
    }

    @Test
    void drainLetsRunningRecordsFinishStartsNothingNewAndStopsTheFlow() throws Exception {
        KeyedDispatcher d = dispatcher(1, 64);
        d.admit(held(P0, "a", "running"));
        d.admit(quick(P0, "b", "waiting"));
        Awaitility.await().atMost(WAIT).until(() -> ran.contains("running"));

        Thread releaser = new Thread(() -> {
            sleep(200);
            release.countDown();
        });
        releaser.start();
        assertThat(d.drain(WAIT)).as("unfinished after the drain").isZero();

        assertThat(d.admit(quick(P0, "c", "new")).toCompletableFuture()).as("no more records flow in").isNotDone();
        sleep(100);
        assertThat(ran).containsExactly("running");
    }

    @Test
    void drainGivesUpAfterTheGraceAndSaysHowManyAreUnfinished() throws Exception {
        KeyedDispatcher d = dispatcher(2, 64);
        d.admit(held(P0, "a", "a"));
        d.admit(held(P0, "b", "b"));
        Awaitility.await().atMost(WAIT).until(() -> ran.size() == 2);

        assertThat(d.drain(Duration.ofMillis(100))).isEqualTo(2);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

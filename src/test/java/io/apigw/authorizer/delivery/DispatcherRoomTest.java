package io.apigw.authorizer.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/**
 * The dispatcher's rooms as {@link Dispatchers} makes them for authorizer.concurrency=32 (issue 27; the security
 * review's G4 and G5 tests, their assertions kept). Plain threads, no Kafka: an uncompleted stage from admit() is what
 * stops the Kafka consumer for every partition of the pod, so each case takes records the way the consumer does, one
 * after the other once the last one's stage completed.
 */
class DispatcherRoomTest {

    static final TopicPartition P0 = new TopicPartition("requests", 0);
    static final TopicPartition P1 = new TopicPartition("requests", 1);
    static final int CONCURRENCY = 32;
    static final Duration WAIT = Duration.ofSeconds(10);

    final CountDownLatch release = new CountDownLatch(1);
    final List<KeyedDispatcher> dispatchers = new ArrayList<>();

    @AfterEach
    void tearDown() {
        release.countDown();
        dispatchers.forEach(KeyedDispatcher::shutdownNow);
    }

    private KeyedDispatcher asDeployed() {
        KeyedDispatcher d = Dispatchers.dispatcher(CONCURRENCY, "room-test-worker");
        dispatchers.add(d);
        return d;
    }

    /** Work whose cluster's API server stalls: it holds its slot until the request deadline (here: the test's end). */
    private Runnable stall() {
        return () -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
    }

    @Test
    void aFloodOfOneClustersRequestsDoesNotStopTheConsumerForOtherClusters() {
        KeyedDispatcher d = asDeployed();
        AtomicInteger answeredAtOnce = new AtomicInteger();
        CompletionStage<Void> last = null;
        for (int i = 0; i <= 32 * CONCURRENCY; i++) {
            last = d.admit(new KeyedDispatcher.Job(P0, "cls-flooded", stall(), 400, answeredAtOnce::incrementAndGet));
            assertThat(last.toCompletableFuture()).as("the consumer may fetch the record after flood record %d", i)
                    .succeedsWithin(WAIT);
        }
        assertThat(last.toCompletableFuture()).as("may the consumer fetch the next record (another cluster's)?")
                .isDone();
        CountDownLatch healthyRan = new CountDownLatch(1);
        assertThat(d.admit(new KeyedDispatcher.Job(P1, "cls-healthy", healthyRan::countDown, 400, null))
                .toCompletableFuture()).succeedsWithin(WAIT);
        assertThat(await(healthyRan)).as("another cluster's request ran beside the flood").isTrue();
        // Answered on the dispatcher's threads: the last of them may still be running when the other cluster's ran.
        Awaitility.await().atMost(WAIT).untilAsserted(() -> assertThat(answeredAtOnce.get())
                .as("flood records over the cluster's share, answered at once")
                .isEqualTo(32 * CONCURRENCY - Dispatchers.QUEUED_PER_CLUSTER));
        Awaitility.await().atMost(WAIT).untilAsserted(() -> assertThat(d.running()).isEqualTo(1));
    }

    /** FloodIT found it: four of a slow cluster's records near 1 MiB filled the queued room's bytes. */
    @Test
    void aFewLargeRecordsOfOneClusterDoNotStopTheConsumerForOtherClusters() {
        KeyedDispatcher d = asDeployed();
        AtomicInteger answeredAtOnce = new AtomicInteger();
        d.admit(new KeyedDispatcher.Job(P0, "cls-slow", stall(), 400, null));
        int large = 900_000;
        for (int i = 0; i < 8; i++) {
            assertThat(d.admit(new KeyedDispatcher.Job(P0, "cls-slow", stall(), large, answeredAtOnce::incrementAndGet))
                    .toCompletableFuture()).as("the consumer may fetch the record after large record %d", i)
                    .succeedsWithin(WAIT);
        }
        CountDownLatch otherRan = new CountDownLatch(1);
        assertThat(d.admit(new KeyedDispatcher.Job(P1, "cls-other", otherRan::countDown, 400, null))
                .toCompletableFuture()).succeedsWithin(WAIT);
        assertThat(await(otherRan)).as("another cluster's request ran beside the large records").isTrue();
        Awaitility.await().atMost(WAIT).untilAsserted(() -> assertThat(answeredAtOnce.get())
                .as("large records over the cluster's share of bytes, answered at once")
                .isEqualTo(8 - (int) (Dispatchers.QUEUED_BYTES_PER_CLUSTER / large)));
    }

    @Test
    void recordsThatCanRunAreBoundedInBytesToo() {
        KeyedDispatcher d = asDeployed();
        for (int i = 0; i < CONCURRENCY; i++) {
            d.admit(new KeyedDispatcher.Job(P0, "cls-stalled-" + i, stall(), 400, null));
        }
        long heldBytes = 0;
        int oneMiB = 1 << 20;
        for (int i = 0; i < 4 * CONCURRENCY - CONCURRENCY; i++) {
            CompletionStage<Void> next = d.admit(new KeyedDispatcher.Job(P1, "big-" + i, stall(), oneMiB, null));
            heldBytes += oneMiB;
            if (!next.toCompletableFuture().isDone()) {
                break;
            }
        }
        assertThat(heldBytes).as("bytes of records held that can run").isLessThanOrEqualTo(16L << 20);
        assertThat(heldBytes).isLessThanOrEqualTo(Dispatchers.RUNNABLE_BYTES + oneMiB);
    }

    @Test
    void theQueuedRoomsByteBoundCountsWhatTheRecordsReallyHold() {
        KeyedDispatcher d = asDeployed();
        byte[] junk = new byte[1000 * 1024]; // shared here; on a real consumer every record has its own copy
        byte[] value = "{\"requestId\":\"r\",\"clusterId\":\"cls-stalled\",\"region\":\"ap-guangzhou\"}"
                .getBytes(StandardCharsets.UTF_8);
        long realBytes = 0;
        for (long offset = 0; offset <= 32 * CONCURRENCY; offset++) {
            ConsumerRecord<String, byte[]> r = new ConsumerRecord<>("requests", 0, offset, 0L,
                    TimestampType.CREATE_TIME, "cls-stalled".length(), value.length, "cls-stalled", value,
                    new RecordHeaders(new Header[] { new RecordHeader("x-pad", junk) }), Optional.empty());
            CompletionStage<Void> next = RecordJobs.admit(d, Message.of(r), stall(), stall());
            realBytes += value.length + junk.length + "cls-stalled".length();
            if (!next.toCompletableFuture().isDone()) {
                break;
            }
        }
        assertThat(realBytes).as("record bytes held by the queued room").isLessThanOrEqualTo((16L << 20) + (1 << 20));
    }

    private static boolean await(CountDownLatch latch) {
        try {
            return latch.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}

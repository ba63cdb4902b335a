package io.apigw.authorizer.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.apigw.authorizer.result.DeadLetters;
import io.apigw.authorizer.testing.KafkaClients;
import io.apigw.authorizer.testing.Requests;
import io.apigw.authorizer.testing.TargetCluster;
import io.apigw.authorizer.testing.TargetCluster.TokenController;
import io.apigw.authorizer.testing.PackagedWorkers;
import io.apigw.authorizer.testing.WorkerProcess;

/**
 * Issue 27 on a real broker, with the packaged worker as deployed (the image's heap of about 102 MiB, serial GC, C1):
 * a flood of one slow cluster's requests and a flood of records near and over the size limit neither stop the other
 * clusters nor take the worker down, and a worker restarted in front of such records starts and serves. The topics
 * take records up to the broker's default of 1 MiB, as a topic not made from {@code k8s/} would.
 */
class FloodIT extends PackagedWorkers {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> AS_DEPLOYED = List.of("-Xmx102m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
    /** authorizer.request.max-bytes as shipped. */
    private static final int LIMIT = 64 * 1024;

    private WorkerProcess worker(String name) {
        Map<String, String> config = config();
        WorkerProcess w = WorkerProcess.start(name, config, AS_DEPLOYED);
        workers.add(w);
        return w.awaitReady(Duration.ofSeconds(90));
    }

    private TargetCluster cluster(Duration roundTrip) {
        TargetCluster c = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY, TargetCluster.CLUSTER_ADMIN,
                roundTrip);
        clusters.add(c);
        return c;
    }

    /** A record sent, and how to recognise its answer: a result with its requestId or a dead letter of its offset. */
    record Sent(String requestId, int partition, long offset) {
    }

    private Sent send(String clusterId, String type, String body, List<Header> extraHeaders, String requestId) {
        List<Header> headers = new ArrayList<>(List.of(Requests.header("ce_specversion", "1.0"),
                Requests.header("ce_type", type), Requests.header("ce_id", "evt-" + requestId),
                Requests.header("ce_source", "/test")));
        headers.addAll(extraHeaders);
        RecordMetadata m = kafka.send(requests, clusterId, body.getBytes(StandardCharsets.UTF_8), headers);
        return new Sent(requestId, m.partition(), m.offset());
    }

    private Sent authorize(String clusterId) {
        String id = "flood-" + UUID.randomUUID();
        return send(clusterId, "ClusterAuthorizationRequested", Requests.request(id, clusterId), List.of(), id);
    }

    /** A valid request whose value is padded to {@code bytes} with a field the reader does not know. */
    private Sent padded(String clusterId, int bytes) {
        String id = "big-" + UUID.randomUUID();
        String plain = Requests.request(id, clusterId);
        String body = plain.substring(0, plain.length() - 1) + ",\"padding\":\""
                + "x".repeat(Math.max(0, bytes - plain.length() - 14)) + "\"}";
        return send(clusterId, "ClusterAuthorizationCheckRequested", body, List.of(), id);
    }

    /** A valid request carrying {@code bytes} of extra headers, in 8 KiB headers. */
    private Sent withHeaders(String clusterId, int bytes) {
        String id = "hdr-" + UUID.randomUUID();
        List<Header> extra = new ArrayList<>();
        for (int i = 0; i * 8192 < bytes; i++) {
            extra.add(Requests.header("x-padding-" + i, "h".repeat(Math.min(8192, bytes - i * 8192))));
        }
        return send(clusterId, "ClusterAuthorizationCheckRequested", Requests.request(id, clusterId), extra, id);
    }

    /** The sent records without an answer yet: no result with their requestId, no dead letter of their offset. */
    private List<Sent> unanswered(List<Sent> sent, Duration within) {
        List<Sent> left = new ArrayList<>(sent);
        long deadline = System.nanoTime() + within.toNanos();
        do {
            List<ConsumerRecord<byte[], byte[]>> answers = new ArrayList<>();
            answers.addAll(kafka.readUntil(results, rs -> false, Duration.ofSeconds(2)));
            answers.addAll(kafka.readUntil(deadLetters, rs -> false, Duration.ofSeconds(1)));
            left.removeIf(s -> answers.stream().anyMatch(a -> answers(a, s)));
        } while (!left.isEmpty() && System.nanoTime() < deadline);
        return left;
    }

    private boolean answers(ConsumerRecord<byte[], byte[]> a, Sent s) {
        if (a.topic().equals(deadLetters)) {
            return String.valueOf(s.partition()).equals(KafkaClients.header(a, DeadLetters.PARTITION))
                    && String.valueOf(s.offset()).equals(KafkaClients.header(a, DeadLetters.OFFSET));
        }
        return s.requestId().equals(body(a).path("requestId").asText());
    }

    private List<JsonNode> resultsOf(List<Sent> sent) {
        return kafka.readUntil(results, rs -> false, Duration.ofSeconds(2)).stream().map(FloodIT::body)
                .filter(b -> sent.stream().anyMatch(s -> s.requestId().equals(b.path("requestId").asText())))
                .toList();
    }

    private static JsonNode body(ConsumerRecord<byte[], byte[]> r) {
        try {
            return JSON.readTree(r.value());
        } catch (Exception e) {
            return JSON.createObjectNode();
        }
    }

    /** Polls liveness every 250 ms and keeps every answer other than 200 (or no answer at all). */
    private static final class LivenessWatch implements AutoCloseable {
        final List<String> failures = new CopyOnWriteArrayList<>();
        final AtomicBoolean running = new AtomicBoolean(true);
        final Thread poller;

        LivenessWatch(WorkerProcess w) {
            poller = new Thread(() -> {
                while (running.get()) {
                    try {
                        WorkerProcess.Answer a = w.get("/q/health/live");
                        if (a.status() != 200) {
                            failures.add(a.status() + " " + a.body());
                        }
                    } catch (RuntimeException e) {
                        failures.add(e.toString());
                    }
                    try {
                        Thread.sleep(250);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "liveness-watch");
            poller.setDaemon(true);
            poller.start();
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            poller.join();
        }
    }

    @Test
    void elevenHundredRequestsForOneSlowClusterLeaveTheOthersServedAndAreEachAnswered() throws Exception {
        WorkerProcess w = worker("flood");
        TargetCluster slow = cluster(Duration.ofMillis(400));
        TargetCluster other = cluster(Duration.ZERO);
        List<Sent> flood = new ArrayList<>();
        for (int i = 0; i < 1100; i++) {
            flood.add(authorize(slow.clusterId));
        }

        long sentOther = System.nanoTime();
        Sent otherRequest = authorize(other.clusterId);
        assertThat(unanswered(List.of(otherRequest), Duration.ofSeconds(30)))
                .as("the other cluster's request answered within 30 s of the flood\n" + w.log()).isEmpty();
        Duration otherTook = Duration.ofNanos(System.nanoTime() - sentOther);

        assertThat(unanswered(flood, Duration.ofSeconds(150))).as("every flood request answered\n" + w.log())
                .isEmpty();
        List<JsonNode> answered = resultsOf(flood);
        long authorized = answered.stream().filter(b -> b.path("code").isMissingNode()).count();
        List<JsonNode> busy = answered.stream().filter(b -> "CONFLICT".equals(b.path("code").asText())).toList();
        assertThat(otherTook).isLessThan(Duration.ofSeconds(30));
        assertThat(authorized).as("the requests within the cluster's share ran").isGreaterThanOrEqualTo(1);
        assertThat(authorized + busy.size()).as("each request either ran or was turned away as busy")
                .isEqualTo(answered.size());
        assertThat(busy).allSatisfy(b -> {
            assertThat(b.path("retryable").asBoolean()).isTrue();
            assertThat(b.path("attempts").asInt()).isZero();
            assertThat(b.path("message").asText()).contains("waiting already");
        });
        assertThat(w.log()).doesNotContain("OutOfMemoryError");
    }

    @Test
    void recordsNearAndOverTheSizeLimitNeitherExhaustTheHeapNorStopARestartedWorker() throws Exception {
        WorkerProcess first = worker("large-records");
        TargetCluster slow = cluster(Duration.ofSeconds(1));
        List<Sent> sent = new ArrayList<>();
        List<Sent> restartFaces;
        Duration otherTook;
        try (LivenessWatch live = new LivenessWatch(first)) {
            sent.add(authorize(slow.clusterId));
            sent.addAll(largeRecords(slow.clusterId));

            TargetCluster other = cluster(Duration.ZERO);
            long t0 = System.nanoTime();
            assertThat(unanswered(List.of(authorize(other.clusterId)), Duration.ofSeconds(30)))
                    .as("another cluster served beside the large records\n" + first.log()).isEmpty();
            otherTook = Duration.ofNanos(System.nanoTime() - t0);
            assertThat(unanswered(sent, Duration.ofSeconds(150)))
                    .as("every record answered or dead-lettered\n" + first.log()).isEmpty();

            // The same again, and the worker killed before it can finish them: its successor faces them all.
            restartFaces = new ArrayList<>();
            restartFaces.add(authorize(slow.clusterId));
            restartFaces.addAll(largeRecords(slow.clusterId));
            live.close();
            assertThat(live.failures).as("liveness while the records were handled\n" + first.log()).isEmpty();
        }
        first.kill();
        assertThat(first.log()).doesNotContain("OutOfMemoryError");

        WorkerProcess second = worker("large-records-restarted");
        try (LivenessWatch live = new LivenessWatch(second)) {
            assertThat(unanswered(restartFaces, Duration.ofSeconds(150)))
                    .as("the restarted worker answered or dead-lettered every record\n" + second.log()).isEmpty();
            live.close();
            assertThat(live.failures).as("liveness of the restarted worker\n" + second.log()).isEmpty();
        }
        assertThat(second.log()).doesNotContain("OutOfMemoryError");
        assertThat(otherTook).isLessThan(Duration.ofSeconds(30));
        List<ConsumerRecord<byte[], byte[]>> stubs = kafka.readUntil(deadLetters, rs -> false, Duration.ofSeconds(2));
        assertThat(stubs).as("oversize records are set aside as bounded stubs").isNotEmpty()
                .allSatisfy(d -> assertThat(d.serializedValueSize() + d.serializedKeySize()).isLessThan(LIMIT));
    }

    /**
     * 100 records of one cluster: a quarter each with a value just under the limit, a value far over it (900 KB),
     * headers just under it, and headers far over it (880 KB, as in the review).
     */
    private List<Sent> largeRecords(String clusterId) {
        List<Sent> sent = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            sent.add(padded(clusterId, LIMIT - 1024));
            sent.add(padded(clusterId, 900_000));
            sent.add(withHeaders(clusterId, LIMIT - 2048));
            sent.add(withHeaders(clusterId, 880_000));
        }
        return sent;
    }
}

package io.apigw.authorizer.delivery;

import static io.apigw.authorizer.testing.KafkaClients.header;
import static io.apigw.authorizer.testing.KafkaClients.text;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.apigw.authorizer.result.ResultPublisher;
import io.apigw.authorizer.testing.KafkaBroker;
import io.apigw.authorizer.testing.KafkaClients;
import io.apigw.authorizer.testing.RealKafka;
import io.apigw.authorizer.testing.Requests;
import io.apigw.authorizer.testing.TargetCluster;
import io.apigw.authorizer.testing.TargetCluster.TokenController;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;

/** Delivery on a real Apache Kafka broker: order per cluster, concurrency across clusters, dead letters, commits. */
@QuarkusTest
@WithKubernetesTestServer
@QuarkusTestResource(value = RealKafka.class, restrictToAnnotatedClass = true)
class RealKafkaDeliveryTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration RTT = Duration.ofMillis(100);

    KafkaClients kafka;
    final List<TargetCluster> clusters = new ArrayList<>();

    @BeforeEach
    void setUp() {
        kafka = new KafkaClients(RealKafka.broker.bootstrapServers());
    }

    @AfterEach
    void tearDown() {
        kafka.close();
        clusters.forEach(TargetCluster::close);
    }

    private TargetCluster slowCluster() {
        TargetCluster c = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY, TargetCluster.CLUSTER_ADMIN, RTT);
        clusters.add(c);
        return c;
    }

    private List<JsonNode> awaitResults(List<String> requestIds, Duration within) {
        List<ConsumerRecord<byte[], byte[]>> read = kafka.readUntil(KafkaBroker.RESULTS,
                rs -> bodies(rs).stream().map(b -> b.get("requestId").asText()).collect(Collectors.toSet())
                        .containsAll(requestIds),
                within);
        return bodies(read).stream().filter(b -> requestIds.contains(b.get("requestId").asText())).toList();
    }

    @Test
    void clustersAreAuthorizedInParallelAndEachClusterInOrder() {
        List<TargetCluster> fleet = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            fleet.add(slowCluster());
        }
        List<String> ids = new ArrayList<>();
        long started = System.nanoTime();
        for (TargetCluster c : fleet) {
            String id = "par-" + UUID.randomUUID();
            ids.add(id);
            kafka.sendRequest(id, c.clusterId);
        }
        List<JsonNode> results = awaitResults(ids, Duration.ofSeconds(60));
        Duration wall = Duration.ofNanos(System.nanoTime() - started);

        assertThat(results).hasSize(12).allMatch(r -> r.has("alreadyAuthorized"));
        // What the same work costs one cluster after another: the sum of each cluster's busy time.
        long serialNanos = fleet.stream().mapToLong(c -> busyNanos(c.workerArrivals())).sum();
        assertThat(wall.toNanos()).as("wall %s vs serial %s ms", wall.toMillis(), serialNanos / 1_000_000)
                .isLessThan(serialNanos / 3);

        // One cluster, five requests in a row: handled one at a time, answered in the order sent.
        TargetCluster one = fleet.get(0);
        int before = one.workerVersionReads().size();
        List<String> inOrder = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            String id = "seq-" + i + "-" + UUID.randomUUID();
            inOrder.add(id);
            kafka.sendRequest(id, one.clusterId);
        }
        List<JsonNode> sequence = awaitResults(inOrder, Duration.ofSeconds(60));
        assertThat(sequence).extracting(r -> r.get("requestId").asText()).containsExactlyElementsOf(inOrder);
        // Each authorization starts (reads /version) only after the previous one completed.
        List<Instant> starts = one.workerVersionReads().subList(before, one.workerVersionReads().size());
        assertThat(starts).hasSize(5);
        for (int i = 1; i < 5; i++) {
            Instant previousDone = Instant.parse(sequence.get(i - 1).get("completedAt").asText());
            assertThat(starts.get(i)).as("start of request %d vs completion of request %d", i, i - 1)
                    .isAfterOrEqualTo(previousDone.truncatedTo(ChronoUnit.MILLIS));
        }
    }

    @Test
    void aDeauthorizationSentRightAfterAnAuthorizationIsAppliedAfterIt() {
        TargetCluster c = slowCluster();
        String authorize = "auth-" + UUID.randomUUID();
        String deauthorize = "deauth-" + UUID.randomUUID();
        kafka.sendRequest(KafkaBroker.REQUESTS, authorize, c.clusterId, "ClusterAuthorizationRequested");
        kafka.sendRequest(KafkaBroker.REQUESTS, deauthorize, c.clusterId, "ClusterDeauthorizationRequested");

        List<JsonNode> results = awaitResults(List.of(authorize, deauthorize), Duration.ofSeconds(60));

        assertThat(results).extracting(r -> r.get("requestId").asText()).containsExactly(authorize, deauthorize);
        assertThat(results.get(1).get("resources").findValuesAsText("action")).contains("deleted")
                .doesNotContain("absent");
        assertThat(c.client.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress").get()).isNull();
    }

    @Test
    void theTraceOfARequestContinuesOnItsResult() {
        String clusterId = TargetCluster.registerWithoutPrivateEndpoint();
        String id = "trace-" + UUID.randomUUID();
        String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        kafka.send(KafkaBroker.REQUESTS, clusterId, Requests.request(id, clusterId).getBytes(StandardCharsets.UTF_8),
                List.of(Requests.header("ce_specversion", "1.0"),
                        Requests.header("ce_type", "ClusterAuthorizationRequested"), Requests.header("ce_id", id),
                        Requests.header("ce_source", "/test"),
                        Requests.header("traceparent", "00-" + traceId + "-00f067aa0ba902b7-01")));

        ConsumerRecord<byte[], byte[]> result = kafka.readUntil(KafkaBroker.RESULTS,
                rs -> rs.stream().anyMatch(x -> text(x.value()).contains(id)), Duration.ofSeconds(30)).stream()
                .filter(x -> text(x.value()).contains(id)).findFirst().orElseThrow();

        assertThat(header(result, "traceparent")).as("traceparent of the result").startsWith("00-" + traceId + "-");
    }

    @Test
    void resultsAreKeyedByClusterWithDeterministicEventIds() throws Exception {
        String clusterId = TargetCluster.registerWithoutPrivateEndpoint();
        String id = "key-" + UUID.randomUUID();
        kafka.sendRequest(id, clusterId);
        ConsumerRecord<byte[], byte[]> r = kafka.readUntil(KafkaBroker.RESULTS,
                rs -> rs.stream().anyMatch(x -> text(x.value()).contains(id)), Duration.ofSeconds(30)).stream()
                .filter(x -> text(x.value()).contains(id)).findFirst().orElseThrow();

        assertThat(text(r.key())).isEqualTo(clusterId);
        assertThat(header(r, "ce_type")).isEqualTo("PrivateAccessDisabled");
        assertThat(header(r, "ce_id")).isEqualTo(ResultPublisher.eventId(id, "PrivateAccessDisabled"));
        assertThat(header(r, "ce_subject")).isEqualTo(clusterId);
        assertThat(header(r, "content-type")).isEqualTo("application/json");
        assertThat(JSON.readTree(r.value()).get("requestId").asText()).isEqualTo(id);
    }

    @Test
    void poisonRecordsAreDeadLetteredAndDoNotBlockTheirPartition() throws Exception {
        String clusterId = TargetCluster.registerWithoutPrivateEndpoint();
        byte[] garbage = { (byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef, 0, 1, 2 };
        byte[] oversized = ("{\"requestId\":\"big\",\"clusterId\":\"" + clusterId + "\",\"pad\":\""
                + "x".repeat(200_000) + "\"}").getBytes(StandardCharsets.UTF_8);
        kafka.send(KafkaBroker.REQUESTS, clusterId, garbage, List.of(Requests.header("trace", "g")));
        kafka.send(KafkaBroker.REQUESTS, clusterId, oversized, List.of());
        String id = "after-poison-" + UUID.randomUUID();
        kafka.sendRequest(id, clusterId);

        assertThat(awaitResults(List.of(id), Duration.ofSeconds(30))).hasSize(1);
        List<ConsumerRecord<byte[], byte[]>> dead = kafka.readUntil(KafkaBroker.DEAD_LETTERS,
                rs -> rs.stream().filter(x -> clusterId.equals(text(x.key()))).count() >= 2, Duration.ofSeconds(30))
                .stream().filter(x -> clusterId.equals(text(x.key()))).toList();
        assertThat(dead).hasSize(2);
        assertThat(dead.get(0).value()).as("dead letter value").containsExactly(garbage);
        assertThat(header(dead.get(0), "trace")).isEqualTo("g");
        assertThat(header(dead.get(0), "dead-letter-reason")).startsWith("value is not a JSON document");
        assertThat(header(dead.get(0), "dead-letter-topic")).isEqualTo(KafkaBroker.REQUESTS);
        assertThat(header(dead.get(1), "dead-letter-reason")).contains("exceeds the limit of 65536");
    }

    @Test
    void offsetsAreCommittedOnceResultsArePublished() throws Exception {
        String clusterId = TargetCluster.registerWithoutPrivateEndpoint();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ids.add("commit-" + i + "-" + UUID.randomUUID());
            kafka.sendRequest(ids.get(i), clusterId);
        }
        assertThat(awaitResults(ids, Duration.ofSeconds(30))).hasSize(10);

        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                RealKafka.broker.bootstrapServers()))) {
            Awaitility.await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                Map<TopicPartition, Long> committed = admin.listConsumerGroupOffsets("apigw-tke-authorizer")
                        .partitionsToOffsetAndMetadata().get().entrySet().stream()
                        .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
                Map<TopicPartition, OffsetSpec> latest = committed.keySet().stream()
                        .collect(Collectors.toMap(tp -> tp, tp -> OffsetSpec.latest()));
                admin.listOffsets(latest).all().get().forEach((tp, end) -> assertThat(committed.get(tp))
                        .as("committed offset of %s", tp).isEqualTo(end.offset()));
            });
        }
    }

    private static List<JsonNode> bodies(List<ConsumerRecord<byte[], byte[]>> records) {
        List<JsonNode> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            try {
                out.add(JSON.readTree(r.value()));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        return out;
    }

    /** From a cluster's first request to its last answer. */
    private static long busyNanos(List<Long> arrivals) {
        return arrivals.isEmpty() ? 0 : Collections.max(arrivals) - Collections.min(arrivals) + RTT.toNanos();
    }
}

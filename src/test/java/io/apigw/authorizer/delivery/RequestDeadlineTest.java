package io.apigw.authorizer.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.apigw.authorizer.testing.KafkaBroker;
import io.apigw.authorizer.testing.KafkaClients;
import io.apigw.authorizer.testing.RealKafka;
import io.apigw.authorizer.testing.StallingApiServer;
import io.apigw.authorizer.testing.TargetCluster;
import io.apigw.authorizer.testing.TargetCluster.TokenController;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import java.util.function.Predicate;

/**
 * One request's deadline on a real broker: whatever a target's API server does (stall a write's body after the
 * headers, ask for long Retry-After pauses, never issue the token), the request ends within
 * {@code authorizer.request.deadline} as a retryable {@code Failed}, the worker stays live, and other clusters are
 * served meanwhile.
 */
@QuarkusTest
@WithKubernetesTestServer
@QuarkusTestResource(value = RequestDeadlineTest.ShortDeadline.class, restrictToAnnotatedClass = true)
class RequestDeadlineTest {

    static final Duration DEADLINE = Duration.ofSeconds(8);
    /** Publishing and the test's own polling of the result topic. */
    static final Duration MARGIN = Duration.ofSeconds(3);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The real broker, a deadline shorter than the retries would take, and a token wait longer than the deadline. */
    public static class ShortDeadline extends RealKafka {
        @Override
        public Map<String, String> start() {
            Map<String, String> config = new HashMap<>(super.start());
            config.put("authorizer.request.deadline", DEADLINE.toSeconds() + "s");
            config.put("authorizer.token.timeout", "30s");
            config.put("authorizer.retry.max-attempts", "5");
            return config;
        }
    }

    @TestHTTPResource("/q/health/live")
    URL live;

    KafkaClients kafka;
    final List<AutoCloseable> resources = new ArrayList<>();
    final List<Integer> liveness = new CopyOnWriteArrayList<>();
    final AtomicBoolean watching = new AtomicBoolean(true);
    Thread watcher;

    @BeforeEach
    void setUp() {
        kafka = new KafkaClients(RealKafka.broker.bootstrapServers());
        HttpClient http = HttpClient.newHttpClient();
        watcher = new Thread(() -> {
            while (watching.get()) {
                try {
                    liveness.add(http.send(HttpRequest.newBuilder(URI.create(live.toString())).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode());
                    Thread.sleep(200);
                } catch (Exception e) {
                    liveness.add(-1);
                }
            }
        }, "liveness-watcher");
        watcher.start();
    }

    @AfterEach
    void tearDown() throws Exception {
        watching.set(false);
        watcher.join();
        kafka.close();
        for (AutoCloseable r : resources) {
            r.close();
        }
    }

    @Test
    void aStalledRightsReviewEndsAtTheDeadlineWhileOtherClustersAreServed() throws Exception {
        assertStalledWriteEndsAtTheDeadline(r -> r.equals("POST /apis/authorization.k8s.io/v1/selfsubjectrulesreviews"));
    }

    @Test
    void aStalledTokenSecretPostEndsAtTheDeadlineWhileOtherClustersAreServed() throws Exception {
        assertStalledWriteEndsAtTheDeadline(r -> r.equals("POST /api/v1/namespaces/kube-system/secrets"));
    }

    @Test
    void retryAfterPausesLongerThanTheDeadlineAreCutShort() {
        TargetCluster cluster = cluster("v1.28.3", TokenController.FILL_ONLY);
        cluster.server.expect().get().withPath("/api/v1/namespaces/kube-system/serviceaccounts/apigw-ingress")
                .andReturn(429, new StatusBuilder().withCode(429).withReason("TooManyRequests").withStatus("Failure")
                        .withNewDetails().withRetryAfterSeconds(30).endDetails().build())
                .always();

        Answer answer = authorize(cluster.clusterId);

        assertRetryableFailure(answer, "API_SERVER_UNREACHABLE");
        assertThat(answer.took).as("the server asked for 30 s pauses").isLessThan(DEADLINE.plus(MARGIN));
        assertThat(liveness).isNotEmpty().allMatch(code -> code == 200);
    }

    @Test
    void aTokenThatIsNotIssuedBeforeTheDeadlineIsRetryable() {
        TargetCluster cluster = cluster("v1.28.3", TokenController.NONE);

        Answer answer = authorize(cluster.clusterId);

        assertRetryableFailure(answer, "TOKEN_NOT_ISSUED");
        assertThat(answer.took).isBetween(DEADLINE.minusSeconds(1), DEADLINE.plus(MARGIN));
    }

    /** At-least-once under concurrency: records after a running one are answered, but not committed past it. */
    @Test
    void theCommitNeverPassesARequestThatIsStillRunning() throws Exception {
        StallingApiServer stalling = new StallingApiServer(
                r -> r.equals("POST /apis/authorization.k8s.io/v1/selfsubjectrulesreviews"));
        resources.add(stalling);
        long started = System.nanoTime();
        String stalledRequest = "deadline-" + UUID.randomUUID();
        RecordMetadata held = kafka.sendRequest(stalledRequest, TargetCluster.registerServer(stalling.url()));
        // Requests of other clusters (unknown ones: answered at once) that land behind it on its partition.
        List<String> behind = new ArrayList<>();
        long last = -1;
        for (int i = 0; behind.size() < 3; i++) {
            String clusterId = "cls-unknown-" + i;
            if (KafkaBroker.partitionOf(clusterId, 4) == held.partition()) {
                String id = "behind-" + UUID.randomUUID();
                behind.add(id);
                last = kafka.sendRequest(id, clusterId).offset();
            }
        }
        TopicPartition partition = new TopicPartition(KafkaBroker.REQUESTS, held.partition());

        await(behind, started);
        assertThat(stalling.stalled).as("the first request is still running").isNotEmpty();
        Thread.sleep(2_000); // two commit intervals
        long committedMeanwhile = RealKafka.broker.committed("apigw-tke-authorizer", partition);
        Assumptions.assumeTrue(Duration.ofNanos(System.nanoTime() - started).compareTo(DEADLINE) < 0,
                "this machine took longer than the deadline to answer the other requests: nothing left to check");
        assertThat(committedMeanwhile).as("committed offset while offset %d runs", held.offset())
                .isLessThanOrEqualTo(held.offset());

        await(List.of(stalledRequest), started);
        long answeredAll = last + 1;
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> RealKafka.broker.committed("apigw-tke-authorizer", partition) >= answeredAll);
    }

    private void assertStalledWriteEndsAtTheDeadline(Predicate<String> stall) throws Exception {
        StallingApiServer stalling = new StallingApiServer(stall);
        resources.add(stalling);
        String stalled = TargetCluster.registerServer(stalling.url());
        TargetCluster healthy = cluster("v1.28.3", TokenController.FILL_ONLY);

        long started = System.nanoTime();
        String stalledRequest = send(stalled);
        String healthyRequest = send(healthy.clusterId);
        Map<String, Answer> answers = await(List.of(stalledRequest, healthyRequest), started);

        assertThat(stalling.stalled).as("the server stalled the write").isNotEmpty();
        Answer cut = answers.get(stalledRequest);
        assertRetryableFailure(cut, "API_SERVER_UNREACHABLE");
        assertThat(cut.took).isLessThan(DEADLINE.plus(MARGIN));
        Answer served = answers.get(healthyRequest);
        assertThat(served.type).isEqualTo("Authorized");
        assertThat(served.took).as("the healthy cluster did not wait for the stalled one").isLessThan(cut.took);
        assertThat(liveness).as("liveness while a write stalled").isNotEmpty().allMatch(code -> code == 200);
    }

    private TargetCluster cluster(String version, TokenController tokens) {
        TargetCluster c = TargetCluster.start(version, tokens);
        resources.add(c);
        return c;
    }

    record Answer(String type, JsonNode body, Duration took) {
    }

    private String send(String clusterId) {
        String requestId = "deadline-" + UUID.randomUUID();
        kafka.sendRequest(requestId, clusterId);
        return requestId;
    }

    private Answer authorize(String clusterId) {
        long started = System.nanoTime();
        String id = send(clusterId);
        return await(List.of(id), started).get(id);
    }

    /** Waits for the results of {@code ids}; each answer's time is when this test first saw it. */
    private Map<String, Answer> await(List<String> ids, long started) {
        Map<String, Answer> answers = new HashMap<>();
        kafka.readUntil(KafkaBroker.RESULTS, records -> {
            for (ConsumerRecord<byte[], byte[]> r : records) {
                JsonNode body = body(r);
                String id = body.path("requestId").asText();
                if (ids.contains(id) && !answers.containsKey(id)) {
                    answers.put(id, new Answer(KafkaClients.header(r, "ce_type"), body,
                            Duration.ofNanos(System.nanoTime() - started)));
                }
            }
            return answers.keySet().containsAll(ids);
        }, DEADLINE.multipliedBy(4));
        assertThat(answers.keySet()).as("answered within %s", DEADLINE.multipliedBy(4))
                .containsExactlyInAnyOrderElementsOf(ids);
        return answers;
    }

    private static void assertRetryableFailure(Answer answer, String code) {
        assertThat(answer.type).as("outcome of %s", answer.body).isEqualTo("Failed");
        assertThat(answer.body.get("code").asText()).as("code of %s", answer.body).isEqualTo(code);
        assertThat(answer.body.get("retryable").asBoolean()).isTrue();
    }

    private static JsonNode body(ConsumerRecord<byte[], byte[]> r) {
        try {
            return JSON.readTree(r.value());
        } catch (Exception e) {
            return JSON.createObjectNode();
        }
    }
}

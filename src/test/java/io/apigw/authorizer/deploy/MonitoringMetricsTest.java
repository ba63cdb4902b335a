package io.apigw.authorizer.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.apigw.authorizer.testing.KafkaBroker;
import io.apigw.authorizer.testing.KafkaClients;
import io.apigw.authorizer.testing.RealKafka;
import io.apigw.authorizer.testing.TargetCluster;
import io.apigw.authorizer.testing.TargetCluster.TokenController;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import io.restassured.RestAssured;

/**
 * Every metric an alert or a dashboard panel uses is one the worker really serves on {@code /q/metrics}, scraped from
 * the worker on a real broker (the Kafka client metrics exist only there) after it has authorized a cluster, retried
 * an unreachable one and dead-lettered a record: a renamed metric breaks this test, not the pager.
 */
@QuarkusTest
@WithKubernetesTestServer
@QuarkusTestResource(value = RealKafka.class, restrictToAnnotatedClass = true)
class MonitoringMetricsTest {

    /** Series Prometheus makes itself for every target. */
    private static final Set<String> PROMETHEUS_OWN = Set.of("up");
    private static final Pattern SAMPLE = Pattern.compile("(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*})? ");

    @Test
    void everyMetricOfTheAlertsAndTheDashboardIsServed() throws Exception {
        TargetCluster cluster = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY);
        TargetCluster gone = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY);
        gone.close(); // still in the kubeconfig, nothing listens: API_SERVER_UNREACHABLE after retries
        String ok = "mon-" + UUID.randomUUID();
        String unreachable = "mon-" + UUID.randomUUID();
        try (KafkaClients kafka = new KafkaClients(RealKafka.broker.bootstrapServers())) {
            kafka.sendRequest(ok, cluster.clusterId);
            kafka.sendRequest(unreachable, gone.clusterId);
            kafka.send(KafkaBroker.REQUESTS, "poison", "not json".getBytes(StandardCharsets.UTF_8), List.of());
            ObjectMapper json = new ObjectMapper();
            kafka.readUntil(KafkaBroker.RESULTS, rs -> rs.stream().map(r -> {
                try {
                    return json.readTree(r.value()).path("requestId").asText();
                } catch (Exception e) {
                    return "";
                }
            }).filter(id -> id.equals(ok) || id.equals(unreachable)).distinct().count() == 2, Duration.ofSeconds(60));
        } finally {
            cluster.close();
        }

        Set<String> used = new TreeSet<>();
        Monitoring.expressions().forEach(e -> used.addAll(Monitoring.metricNames(e)));
        used.removeAll(PROMETHEUS_OWN);
        assertThat(used).as("metric names found in the rules and the dashboard")
                .contains("authorizer_requests_total", "kafka_consumer_fetch_manager_records_lag_max");

        // Kafka client metrics are bound a little after the consumer's first poll.
        String metrics = Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                .until(() -> RestAssured.get("/q/metrics").then().statusCode(200).extract().asString(),
                        m -> served(m).containsAll(used));
        assertThat(served(metrics)).containsAll(used);
    }

    @Test
    void requestDurationsHaveExplicitBucketsUpToTenMinutes() {
        TargetCluster cluster = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY);
        String id = "mon-" + UUID.randomUUID();
        try (KafkaClients kafka = new KafkaClients(RealKafka.broker.bootstrapServers())) {
            kafka.sendRequest(id, cluster.clusterId);
            kafka.readUntil(KafkaBroker.RESULTS, rs -> rs.stream().anyMatch(r -> new String(r.value(),
                    StandardCharsets.UTF_8).contains(id)), Duration.ofSeconds(60));
        } finally {
            cluster.close();
        }
        String metrics = RestAssured.get("/q/metrics").then().statusCode(200).extract().asString();
        for (String histogram : List.of("authorizer_request_duration_seconds", "authorizer_step_duration_seconds",
                "authorizer_token_wait_seconds")) {
            Map<Double, String> le = new TreeMap<>();
            Matcher m = Pattern.compile("(?m)^" + histogram + "_bucket\\{[^}]*le=\"([^\"]+)\"").matcher(metrics);
            while (m.find()) {
                le.put(m.group(1).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(m.group(1)), m.group(1));
            }
            assertThat(le.keySet()).as(histogram).hasSizeBetween(12, 20).contains(0.05, 300.0, 600.0,
                    Double.POSITIVE_INFINITY);
        }
    }

    /** Metric names with at least one sample in a Prometheus text scrape. */
    private static Set<String> served(String scrape) {
        Set<String> names = new TreeSet<>();
        Matcher m = SAMPLE.matcher(scrape);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }
}

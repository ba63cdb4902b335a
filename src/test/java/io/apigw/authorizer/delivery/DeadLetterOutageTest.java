package io.apigw.authorizer.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import io.apigw.authorizer.testing.KafkaBroker;
import io.apigw.authorizer.testing.KafkaClients;
import io.apigw.authorizer.testing.RealKafka;
import io.apigw.authorizer.testing.TargetCluster;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;

/**
 * A dead-letter topic that refuses everything (here: its record size limit is below any dead letter, even a stub) is
 * an outage, not something to hide: the record is not acknowledged, the channel stops, health says so, and the
 * record's offset is never committed, so it is read again once the worker restarts.
 */
@QuarkusTest
@WithKubernetesTestServer
@QuarkusTestResource(value = DeadLetterOutageTest.OwnBroker.class, restrictToAnnotatedClass = true)
class DeadLetterOutageTest {

    /** A broker of its own: this test leaves the worker's channel stopped. */
    public static class OwnBroker extends RealKafka {
    }

    @TestHTTPResource("/q/health/ready")
    URL ready;

    @Test
    void aRecordWhoseDeadLetterCannotBeSentStopsTheChannelVisiblyAndIsNeverCommitted() throws Exception {
        try (KafkaClients kafka = new KafkaClients(RealKafka.broker.bootstrapServers())) {
            String clusterId = TargetCluster.registerWithoutPrivateEndpoint();
            String first = "before-outage-" + UUID.randomUUID();
            kafka.sendRequest(first, clusterId);
            kafka.readUntil(KafkaBroker.RESULTS, rs -> rs.stream().anyMatch(r -> text(r.value()).contains(first)),
                    Duration.ofSeconds(30));
            assertThat(status(ready)).as("ready before the outage").isEqualTo(200);

            RealKafka.broker.setDeadLetterTopicMaxMessageBytes("50");
            RecordMetadata poison = kafka.send(KafkaBroker.REQUESTS, clusterId,
                    "not json".getBytes(StandardCharsets.UTF_8), List.of());
            TopicPartition partition = new TopicPartition(KafkaBroker.REQUESTS, poison.partition());

            Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                    .until(() -> status(ready) == 503);
            Thread.sleep(2_000); // more than a commit interval
            assertThat(RealKafka.broker.committed("apigw-tke-authorizer", partition)).as("committed offset of the partition whose record has no dead letter")
                    .isLessThanOrEqualTo(poison.offset());
            assertThat(kafka.readUntil(KafkaBroker.DEAD_LETTERS, rs -> !rs.isEmpty(), Duration.ofSeconds(2)))
                    .as("nothing reached the dead-letter topic").isEmpty();
        } finally {
            RealKafka.broker.setDeadLetterTopicMaxMessageBytes(null);
        }
    }

    private static int status(URL url) {
        try {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url.toString())).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    private static String text(byte[] b) {
        return b == null ? "" : new String(b, StandardCharsets.UTF_8);
    }
}

package io.apigw.authorizer.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

import io.smallrye.reactive.messaging.kafka.companion.test.EmbeddedKafkaBroker;

/** A real single-node KRaft Apache Kafka broker in this JVM (no Docker), with the contract's three topics. */
public final class KafkaBroker implements AutoCloseable {

    public static final String REQUESTS = "apigw.tke-authorization.requests";
    public static final String RESULTS = "apigw.tke-authorization.results";
    public static final String DEAD_LETTERS = "apigw.tke-authorization.requests.dlq";

    private final EmbeddedKafkaBroker broker;
    private final Path logs;

    private KafkaBroker(EmbeddedKafkaBroker broker, Path logs) {
        this.broker = broker;
        this.logs = logs;
    }

    public static KafkaBroker start(int port, int requestPartitions) {
        try {
            Path logs = Files.createTempDirectory("kafka-logs");
            EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker()
                    .withNodeId(0)
                    .withKafkaPort(port)
                    .withControllerPort(FreePort.closed())
                    .withKafkaHost("127.0.0.1")
                    .withDeleteLogDirsOnClose(false)
                    .withAdditionalProperties(p -> {
                        p.put("log.dirs", logs.toString());
                        p.put("group.initial.rebalance.delay.ms", "0");
                        p.put("offsets.topic.num.partitions", "4");
                    })
                    .start();
            KafkaBroker kafka = new KafkaBroker(broker, logs);
            kafka.createTopics(requestPartitions);
            return kafka;
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the embedded Kafka broker", e);
        }
    }

    public String bootstrapServers() {
        return broker.getAdvertisedListeners().replace("PLAINTEXT://", "");
    }

    /** The three topics under names of their own, for a test that must not see any other test's records. */
    public void createTopics(String requests, String results, String deadLetters, int requestPartitions) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(requests, requestPartitions, (short) 1),
                    new NewTopic(results, 4, (short) 1), new NewTopic(deadLetters, 1, (short) 1))).all().get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void createTopics(int requestPartitions) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(REQUESTS, requestPartitions, (short) 1),
                    new NewTopic(RESULTS, 4, (short) 1), new NewTopic(DEAD_LETTERS, 1, (short) 1))).all().get();
        }
    }

    /** Stops the broker as a crash or maintenance would, keeping its data. */
    public void stop() {
        broker.close();
    }

    /** Starts it again on the same port with the same data. */
    public void restart() {
        broker.start();
    }

    @Override
    public void close() {
        broker.close();
        try (var files = Files.walk(logs)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (java.io.IOException e) {
            // a temporary folder: nothing to do
        }
    }
}

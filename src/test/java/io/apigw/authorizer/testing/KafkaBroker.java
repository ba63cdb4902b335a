package io.apigw.authorizer.testing;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.Endpoint;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.security.auth.SecurityProtocol;

import io.smallrye.reactive.messaging.kafka.companion.test.EmbeddedKafkaBroker;
import java.io.IOException;
import java.util.Comparator;

/** A real single-node KRaft Apache Kafka broker in this JVM (no Docker), with the contract's three topics. */
public final class KafkaBroker implements AutoCloseable {

    public static final String REQUESTS = "apigw.tke-authorization.requests";
    public static final String RESULTS = "apigw.tke-authorization.results";
    public static final String DEAD_LETTERS = "apigw.tke-authorization.requests.dlq";
    public static final String SWEEPS = "apigw.tke-authorization.sweeps";

    private final EmbeddedKafkaBroker broker;
    private final Path logs;

    private KafkaBroker(EmbeddedKafkaBroker broker, Path logs) {
        this.broker = broker;
        this.logs = logs;
    }

    public static KafkaBroker start(int port, int requestPartitions) {
        return start(port, requestPartitions, new Endpoint[0], p -> {
        });
    }

    /**
     * As {@link #start}, plus a SASL_SSL listener on {@code securedPort} (SCRAM-SHA-512 over TLS with {@code pki}'s
     * server certificate) and the KRaft ACL authorizer. The PLAINTEXT listener stays for the broker itself and for the
     * test's admin and clients: its anonymous principal is the only super user, so a principal on the secured listener
     * may do exactly what its ACLs allow.
     */
    public static KafkaBroker startSecured(int plainPort, int securedPort, TestPki pki, int requestPartitions) {
        Endpoint plain = EmbeddedKafkaBroker.endpoint(SecurityProtocol.PLAINTEXT, "127.0.0.1", plainPort);
        Endpoint secured = EmbeddedKafkaBroker.endpoint(SecurityProtocol.SASL_SSL, "127.0.0.1", securedPort);
        return start(plainPort, requestPartitions, new Endpoint[] { plain, secured }, p -> {
            p.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
            p.put("super.users", "User:ANONYMOUS");
            p.put("sasl.enabled.mechanisms", "SCRAM-SHA-512");
            p.put("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config",
                    "org.apache.kafka.common.security.scram.ScramLoginModule required;");
            p.put("listener.name.sasl_ssl.ssl.keystore.type", "PKCS12");
            p.put("listener.name.sasl_ssl.ssl.keystore.location", pki.serverKeystore.toString());
            p.put("listener.name.sasl_ssl.ssl.keystore.password", pki.keystorePassword);
        });
    }

    private static KafkaBroker start(int port, int requestPartitions, Endpoint[] listeners,
            Consumer<Properties> security) {
        try {
            Path logs = Files.createTempDirectory("kafka-logs");
            EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker()
                    .withNodeId(0)
                    .withKafkaPort(port)
                    .withControllerPort(FreePort.closed())
                    .withKafkaHost("127.0.0.1")
                    .withAdvertisedListeners(listeners)
                    .withDeleteLogDirsOnClose(false)
                    .withAdditionalProperties(p -> {
                        p.put("log.dirs", logs.toString());
                        p.put("group.initial.rebalance.delay.ms", "0");
                        p.put("offsets.topic.num.partitions", "4");
                        security.accept(p);
                    })
                    .start();
            KafkaBroker kafka = new KafkaBroker(broker, logs);
            kafka.createTopics(requestPartitions);
            return kafka;
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the embedded Kafka broker", e);
        }
    }

    /** The PLAINTEXT listener (on a secured broker: the super user's). */
    public String bootstrapServers() {
        return listener("PLAINTEXT://");
    }

    /** The SASL_SSL listener of a broker made by {@link #startSecured}. */
    public String securedBootstrapServers() {
        return listener("SASL_SSL://");
    }

    private String listener(String prefix) {
        return Arrays.stream(broker.getAdvertisedListeners().split(",")).filter(l -> l.startsWith(prefix))
                .map(l -> l.substring(prefix.length())).findFirst()
                .orElseThrow(() -> new IllegalStateException("no " + prefix + " listener"));
    }

    /** A SCRAM-SHA-512 user, as Strimzi's User Operator would make it for a KafkaUser. */
    public void addScramUser(String name, String password) {
        admin(a -> a.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(name,
                new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), password))).all().get());
    }

    public void allow(Collection<AclBinding> acls) {
        admin(a -> a.createAcls(acls).all().get());
    }

    private interface AdminCall {
        void run(Admin admin) throws Exception;
    }

    private void admin(AdminCall call) {
        try (Admin admin = admin()) {
            call.run(admin);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The three topics under names of their own, for a test that must not see any other test's records. */
    public void createTopics(String requests, String results, String deadLetters, int requestPartitions) {
        admin(a -> a.createTopics(List.of(new NewTopic(requests, requestPartitions, (short) 1),
                new NewTopic(results, 4, (short) 1), new NewTopic(deadLetters, 1, (short) 1))).all().get());
    }

    private void createTopics(int requestPartitions) {
        createTopics(REQUESTS, RESULTS, DEAD_LETTERS, requestPartitions);
        admin(a -> a.createTopics(List.of(new NewTopic(SWEEPS, 4, (short) 1))).all().get());
    }

    /** The partition a record with this key lands on (the producer's default partitioner). */
    public static int partitionOf(String key, int partitions) {
        return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
    }

    /** The offset the consumer group has committed for the partition, or -1. */
    public long committed(String group, TopicPartition partition) throws Exception {
        try (Admin admin = admin()) {
            OffsetAndMetadata offset = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get()
                    .get(partition);
            return offset == null ? -1 : offset.offset();
        }
    }

    /** Records of {@code topic} that {@code group} has not committed yet, over all its partitions. */
    public long uncommitted(String group, String topic) throws Exception {
        try (Admin admin = admin()) {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get();
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions()
                    .forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
            long left = 0;
            for (var e : admin.listOffsets(latest).all().get().entrySet()) {
                OffsetAndMetadata c = committed.get(e.getKey());
                left += e.getValue().offset() - (c == null ? 0 : c.offset());
            }
            return left;
        }
    }

    /** Sets (or, with null, removes) the dead-letter topic's own record size limit. */
    public void setDeadLetterTopicMaxMessageBytes(String bytes) throws Exception {
        try (Admin admin = admin()) {
            AlterConfigOp op = new AlterConfigOp(new ConfigEntry("max.message.bytes", bytes),
                    bytes == null ? AlterConfigOp.OpType.DELETE : AlterConfigOp.OpType.SET);
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, DEAD_LETTERS),
                    List.of(op))).all().get();
        }
    }

    private Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()));
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
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a temporary folder: nothing to do
        }
    }
}

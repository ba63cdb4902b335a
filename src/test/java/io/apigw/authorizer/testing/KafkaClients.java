package io.apigw.authorizer.testing;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Plain Kafka clients, as the console and upstream services would use them. */
public final class KafkaClients implements AutoCloseable {

    private final String bootstrap;
    private final KafkaProducer<byte[], byte[]> producer;

    public KafkaClients(String bootstrap) {
        this.bootstrap = bootstrap;
        this.producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** @return where the record landed */
    public RecordMetadata send(String topic, String key, byte[] value, List<Header> headers) {
        try {
            return producer.send(new ProducerRecord<>(topic, null,
                    key == null ? null : key.getBytes(StandardCharsets.UTF_8), value, headers)).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public RecordMetadata sendRequest(String requestId, String clusterId) {
        return sendRequest(KafkaBroker.REQUESTS, requestId, clusterId);
    }

    public RecordMetadata sendRequest(String topic, String requestId, String clusterId) {
        return sendRequest(topic, requestId, clusterId, "ClusterAuthorizationRequested");
    }

    public RecordMetadata sendRequest(String topic, String requestId, String clusterId, String type) {
        return send(topic, clusterId, Requests.request(requestId, clusterId).getBytes(StandardCharsets.UTF_8),
                List.of(Requests.header("ce_specversion", "1.0"),
                        Requests.header("ce_type", type),
                        Requests.header("ce_id", "evt-" + requestId), Requests.header("ce_source", "/test")));
    }

    /** Reads the whole topic from the start until {@code done} holds for what was read, or the time is up. */
    public List<ConsumerRecord<byte[], byte[]>> readUntil(String topic, Predicate<List<ConsumerRecord<byte[], byte[]>>> done,
            Duration within) {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, "reader-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false"), new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            List<ConsumerRecord<byte[], byte[]>> read = new ArrayList<>();
            long deadline = System.nanoTime() + within.toNanos();
            while (!done.test(read) && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(100)).forEach(read::add);
            }
            return read;
        }
    }

    public static String header(ConsumerRecord<?, ?> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    public static String text(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        producer.close();
    }
}

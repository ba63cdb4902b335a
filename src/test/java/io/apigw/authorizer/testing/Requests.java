package io.apigw.authorizer.testing;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.awaitility.Awaitility;
import org.eclipse.microprofile.reactive.messaging.Message;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import io.smallrye.reactive.messaging.memory.InMemoryConnector;
import io.smallrye.reactive.messaging.memory.InMemorySink;
import java.util.LinkedHashMap;

/** Sends records the way a producer on the request topic would, and reads what the worker published. */
public final class Requests {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicLong OFFSETS = new AtomicLong();

    private final InMemoryConnector connector;

    public Requests(InMemoryConnector connector) {
        this.connector = connector;
    }

    /** A published result: its JSON value, headers and key. */
    public record Published(JsonNode body, Map<String, String> headers, Object key) {

        public String header(String name) {
            return headers.get(name);
        }
    }

    public static String request(String requestId, String clusterId) {
        return "{\"requestId\":\"" + requestId + "\",\"clusterId\":\"" + clusterId + "\",\"region\":\"ap-guangzhou\"}";
    }

    /** Binary-mode CloudEvent. */
    public void sendBinary(String key, String data) {
        sendBinary(key, data, "ClusterAuthorizationRequested");
    }

    /** Binary-mode CloudEvent of the given type (authorize, check or deauthorize). */
    public void sendBinary(String key, String data, String type) {
        send(key, data.getBytes(StandardCharsets.UTF_8), List.of(
                header("ce_specversion", "1.0"), header("ce_type", type),
                header("ce_id", "evt-" + OFFSETS.get()), header("ce_source", "/apigw/console"),
                header("content-type", "application/json")));
    }

    public void send(String key, byte[] value, List<Header> headers) {
        long offset = OFFSETS.getAndIncrement();
        ConsumerRecord<String, byte[]> record = new ConsumerRecord<>("apigw.tke-authorization.requests", 0, offset,
                System.currentTimeMillis(), TimestampType.CREATE_TIME, -1, value == null ? -1 : value.length,
                key, value,
                new RecordHeaders(headers.toArray(Header[]::new)), Optional.empty());
        connector.<ConsumerRecord<String, byte[]>> source("authorization-requests").send(record);
    }

    public static Header header(String key, String value) {
        return new RecordHeader(key, value.getBytes(StandardCharsets.UTF_8));
    }

    public Published awaitResult(String requestId) {
        return awaitResult(requestId, Duration.ofSeconds(30));
    }

    public Published awaitResult(String requestId, Duration within) {
        InMemorySink<String> sink = connector.sink("authorization-results");
        return Awaitility.await().atMost(within).pollInterval(Duration.ofMillis(20))
                .until(() -> results(sink).stream().filter(p -> requestId.equals(p.body().path("requestId").asText()))
                        .findFirst(), Optional::isPresent)
                .get();
    }

    public List<Published> results() {
        return results(connector.sink("authorization-results"));
    }

    public List<Published> deadLetters() {
        InMemorySink<byte[]> sink = connector.sink("authorization-dead-letters");
        return sink.received().stream().map(m -> published(m, new String(m.getPayload(), StandardCharsets.UTF_8)))
                .toList();
    }

    private static List<Published> results(InMemorySink<String> sink) {
        return sink.received().stream().map(m -> published(m, m.getPayload())).toList();
    }

    private static Published published(Message<?> m, String payload) {
        @SuppressWarnings("unchecked")
        OutgoingKafkaRecordMetadata<Object> meta = m.getMetadata(OutgoingKafkaRecordMetadata.class).orElseThrow();
        Map<String, String> headers = new LinkedHashMap<>();
        for (Header h : meta.getHeaders()) {
            headers.put(h.key(), new String(h.value(), StandardCharsets.UTF_8));
        }
        JsonNode body;
        try {
            body = JSON.readTree(payload);
        } catch (Exception e) {
            body = JSON.getNodeFactory().textNode(payload);
        }
        Object key = meta.getKey() instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : meta.getKey();
        return new Published(body, headers, key);
    }
}

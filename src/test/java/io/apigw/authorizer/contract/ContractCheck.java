package io.apigw.authorizer.contract;

import static io.apigw.authorizer.testing.Requests.header;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

import org.apache.kafka.common.header.Header;
import org.eclipse.microprofile.reactive.messaging.Message;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.apigw.authorizer.result.ResultPublisher;
import io.apigw.authorizer.testing.Requests;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import io.smallrye.reactive.messaging.memory.InMemoryConnector;

/**
 * Checks records, as the worker really published them to the in-memory sinks (value text, every header, key), and
 * requests before they are sent, against the shipped contract.
 */
final class ContractCheck {

    /** One record as it would reach Kafka: raw value, headers in order (duplicates kept), key. */
    record Record(String value, List<Header> headers, Object key) {

        String header(String name) {
            return headers.stream().filter(h -> h.key().equals(name)).map(h -> text(h.value())).findFirst()
                    .orElse(null);
        }

        /** The headers as a JSON object, failing on a header that appears twice. */
        ObjectNode headerObject() {
            ObjectNode out = Contract.JSON.createObjectNode();
            for (Header h : headers) {
                assertThat(out.has(h.key())).as("header %s appears more than once", h.key()).isFalse();
                out.put(h.key(), text(h.value()));
            }
            return out;
        }
    }

    private final Contract contract = Contract.load();
    private final InMemoryConnector connector;
    private final Requests requests;

    ContractCheck(InMemoryConnector connector, Requests requests) {
        this.connector = connector;
        this.requests = requests;
    }

    /** A request body with a new requestId and the region, plus {@code more} JSON members (",\"k\":v" or ""). */
    static String data(String clusterId, String more) {
        return "{\"requestId\":\"req-" + UUID.randomUUID() + "\",\"clusterId\":\"" + clusterId
                + "\",\"region\":\"ap-guangzhou\"" + more + "}";
    }

    /** Binary-mode CloudEvents headers as the console sends them. */
    static List<Header> headers(String type, String clusterId) {
        return List.of(header("ce_specversion", "1.0"), header("ce_type", type),
                header("ce_id", "evt-" + UUID.randomUUID()), header("ce_source", "/apigw/console"),
                header("ce_subject", clusterId), header("ce_time", Instant.now().toString()),
                header("content-type", "application/json"));
    }

    /** Sends a binary-mode request after checking it against the contract; returns its requestId. */
    String send(String type, String clusterId, String data) {
        List<Header> headers = headers(type, clusterId);
        assertRequestConforms(type, clusterId, headers, data);
        requests.send(clusterId, data.getBytes(StandardCharsets.UTF_8), headers);
        return Contract.parse(data).path("requestId").asText();
    }

    /** Waits for the one result of a request, checks it against the contract and its expected type. */
    JsonNode answer(String requestId, String expectedType) {
        requests.awaitResult(requestId);
        Record result = resultOf(requestId);
        JsonNode body = assertResultConforms(result);
        assertThat(result.header("ce_type")).as(result.value()).isEqualTo(expectedType);
        return body;
    }

    /** After each test: there were results, and every result and dead letter conforms. */
    void assertEverythingPublishedConforms() {
        List<Record> results = results();
        assertThat(results).isNotEmpty();
        results.forEach(this::assertResultConforms);
        deadLetters().forEach(this::assertDeadLetterConforms);
    }

    List<Record> results() {
        return connector.<String> sink("authorization-results").received().stream()
                .map(m -> record(m, m.getPayload())).toList();
    }

    List<Record> deadLetters() {
        return connector.<byte[]> sink("authorization-dead-letters").received().stream()
                .map(m -> record(m, m.getPayload() == null ? "" : text(m.getPayload()))).toList();
    }

    Record resultOf(String requestId) {
        List<Record> found = results().stream()
                .filter(r -> requestId.equals(Contract.parse(r.value()).path("requestId").asText())).toList();
        assertThat(found).as("results of %s", requestId).hasSize(1);
        return found.get(0);
    }

    /** A request about to be sent must conform: headers, key, data. */
    void assertRequestConforms(String type, String key, List<Header> headers, String data) {
        Record r = new Record(data, headers, key);
        assertThat(r.header("ce_type")).isEqualTo(type);
        assertThat(contract.channelMessages("authorization-requests")).contains(type);
        assertNoViolations("request headers", Contract.violations(contract.headerSchema(type), r.headerObject()));
        assertNoViolations("request key", Contract.violations(contract.keySchema(type), textNode(key)));
        assertNoViolations("request data", Contract.violations(contract.payloadSchema(type), Contract.parse(data)));
    }

    /** Violations of the request data schema (for requests the worker must refuse). */
    List<String> requestDataViolations(String data) {
        return Contract.violations(contract.payloadSchema("ClusterAuthorizationRequested"), Contract.parse(data));
    }

    /** A published result must conform to the message its ce_type names; returns its value. */
    JsonNode assertResultConforms(Record r) {
        String type = r.header("ce_type");
        assertThat(type).as("ce_type of %s", r.value()).isNotNull();
        assertThat(contract.channelMessages("authorization-results")).as("result types").contains(type);

        ObjectNode headers = r.headerObject();
        assertNoViolations(type + " headers", Contract.violations(contract.headerSchema(type), headers));
        // No header beyond the documented ones: nothing else (a token, say) rides along.
        Set<String> documented = new TreeSet<>();
        collectProperties(contract.headerDefinition(type), documented);
        Set<String> published = new TreeSet<>();
        headers.fieldNames().forEachRemaining(published::add);
        assertThat(documented).as("documented headers").containsAll(published);

        assertNoViolations(type + " key", Contract.violations(contract.keySchema(type), textNode(r.key())));

        JsonNode body = Contract.parse(r.value());
        assertNoViolations(type + " payload " + r.value(), Contract.violations(contract.payloadSchema(type), body));

        // What the schemas cannot say across headers, key and value.
        assertThat(r.key()).isEqualTo(body.path("clusterId").asText());
        assertThat(r.header("ce_subject")).isEqualTo(body.path("clusterId").asText());
        assertThat(r.header("ce_id")).isEqualTo(ResultPublisher.eventId(body.path("requestId").asText(), type));
        return body;
    }

    void assertDeadLetterConforms(Record r) {
        assertNoViolations("dead letter headers",
                Contract.violations(contract.headerSchema("DeadLetter"), r.headerObject()));
        assertNoViolations("dead letter key",
                Contract.violations(contract.keySchema("DeadLetter"), textNode(r.key())));
    }

    private static void assertNoViolations(String what, List<String> violations) {
        assertThat(violations).as(what).isEmpty();
    }

    private static JsonNode textNode(Object key) {
        return key == null ? Contract.JSON.getNodeFactory().nullNode()
                : Contract.JSON.getNodeFactory().textNode(String.valueOf(key));
    }

    private static void collectProperties(JsonNode schema, Set<String> out) {
        schema.path("properties").fieldNames().forEachRemaining(out::add);
        schema.path("allOf").forEach(s -> collectProperties(s, out));
    }

    private static Record record(Message<?> m, String value) {
        @SuppressWarnings("unchecked")
        OutgoingKafkaRecordMetadata<Object> meta = m.getMetadata(OutgoingKafkaRecordMetadata.class).orElseThrow();
        List<Header> headers = new ArrayList<>();
        meta.getHeaders().forEach(headers::add);
        Object key = meta.getKey() instanceof byte[] b ? text(b) : meta.getKey();
        return new Record(value, headers, key);
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}

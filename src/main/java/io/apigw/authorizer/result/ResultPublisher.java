package io.apigw.authorizer.result;

import io.apigw.authorizer.request.Trigger;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;

import jakarta.enterprise.context.ApplicationScoped;

import org.apache.kafka.common.header.internals.RecordHeader;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.Metadata;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import io.smallrye.reactive.messaging.MutinyEmitter;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Publishes results as binary-mode CloudEvents keyed by cluster id, and waits until the broker has them: the
 * request's offset is committed only afterwards.
 */
@ApplicationScoped
public class ResultPublisher {

    public static final String SOURCE = "/apigw/tke-authorizer";

    private final MutinyEmitter<String> results;
    private final ObjectMapper json;

    public ResultPublisher(@Channel("authorization-results") MutinyEmitter<String> results, ObjectMapper json) {
        this.results = results;
        this.json = json;
    }

    public void publish(Result result) {
        publish(result, Trigger.console);
    }

    /** A result of a sweep's check or repair carries {@code trigger} (v1.3); the console's own carry none. */
    public void publish(Result result, Trigger trigger) {
        String body;
        try {
            if (trigger == Trigger.console) {
                body = json.writeValueAsString(result);
            } else {
                ObjectNode tree = json.valueToTree(result);
                tree.put("trigger", trigger.name());
                body = json.writeValueAsString(tree);
            }
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("result cannot be serialized: " + result.type(), e);
        }
        List<RecordHeader> headers = List.of(
                header("ce_specversion", "1.0"),
                header("ce_id", eventId(result.requestId(), result.type())),
                header("ce_type", result.type()),
                header("ce_source", SOURCE),
                header("ce_subject", result.clusterId()),
                header("ce_time", Result.now()),
                header("content-type", "application/json"));
        results.sendMessageAndAwait(Message.of(body, Metadata.of(OutgoingKafkaRecordMetadata.<String>builder()
                .withKey(result.clusterId()).withHeaders(headers).build())));
    }

    /** The same (requestId, outcome) always gets the same id, so consumers can drop a redelivered duplicate. */
    public static String eventId(String requestId, String type) {
        return UUID.nameUUIDFromBytes((requestId + "\n" + type).getBytes(StandardCharsets.UTF_8)).toString();
    }

    private static RecordHeader header(String key, String value) {
        return new RecordHeader(key, value.getBytes(StandardCharsets.UTF_8));
    }
}

package io.apigw.authorizer.sweep;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import org.apache.kafka.common.header.internals.RecordHeader;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.apigw.authorizer.credential.CredentialStore.Registered;
import io.apigw.authorizer.request.AuthorizationRequest;
import io.apigw.authorizer.request.RequestType;
import io.apigw.authorizer.request.Trigger;
import io.apigw.authorizer.result.Result;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import org.eclipse.microprofile.reactive.messaging.Metadata;
import java.util.ArrayList;

/**
 * The requests a sweep sends, as CloudEvents keyed by cluster id like the console's: checks to the sweeps topic,
 * repairs to the request topic (where they queue in order with the console's requests for the same cluster).
 */
@ApplicationScoped
public class SweepRequests {

    /** The sweep a check belongs to, so that its verdict is recorded against it. */
    public static final String SWEEP_ID_HEADER = "apigw_sweep_id";
    static final String SOURCE = "/apigw/tke-authorizer/sweep";

    private final MutinyEmitter<String> checks;
    private final MutinyEmitter<String> repairs;
    private final ObjectMapper json;

    public SweepRequests(@Channel("sweep-checks") MutinyEmitter<String> checks,
            @Channel("repair-requests") MutinyEmitter<String> repairs, ObjectMapper json) {
        this.checks = checks;
        this.repairs = repairs;
        this.json = json;
    }

    /** A read-only check of one stored credential, on the sweeps topic. */
    void check(String sweepId, Registered target) {
        ObjectNode data = request("sweep-" + sweepId + "-" + target.clusterId(), target.clusterId(), target.region(),
                target.appId(), target.ownerUin(), Trigger.sweep);
        send(checks, RequestType.CHECK, data, List.of(header(SWEEP_ID_HEADER, sweepId)));
    }

    /** Re-authorizes a cluster only while its stored credential is still the one judged ({@code version}). */
    void repair(String sweepId, AuthorizationRequest check, String version) {
        ObjectNode data = request("repair-" + sweepId + "-" + check.clusterId(), check.clusterId(), check.region(),
                check.appId(), check.ownerUin(), Trigger.repair);
        data.put("ifCredentialVersion", version);
        data.put("requestedBy", "apigw-tke-authorizer sweep " + sweepId);
        send(repairs, RequestType.AUTHORIZE, data, List.of());
    }

    /** Moves a cluster to {@code policyVersion}, only while its stored credential is still {@code version}. */
    void rollout(String sweepId, Registered r, int policyVersion) {
        ObjectNode data = request("rollout-" + sweepId + "-" + r.clusterId(), r.clusterId(), r.region(), r.appId(),
                r.ownerUin(), Trigger.rollout);
        data.put("ifCredentialVersion", r.version());
        data.put("policyVersion", policyVersion);
        data.put("requestedBy", "apigw-tke-authorizer rollout of policy v" + policyVersion + ", sweep " + sweepId);
        send(repairs, RequestType.AUTHORIZE, data, List.of());
    }

    private ObjectNode request(String requestId, String clusterId, Optional<String> region, Optional<String> appId,
            Optional<String> ownerUin, Trigger trigger) {
        ObjectNode data = json.createObjectNode();
        data.put("requestId", requestId);
        data.put("clusterId", clusterId);
        region.ifPresent(r -> data.put("region", r));
        appId.ifPresent(a -> data.put("appId", a));
        ownerUin.ifPresent(u -> data.put("ownerUin", u));
        data.put("trigger", trigger.name());
        return data;
    }

    private void send(MutinyEmitter<String> to, RequestType type, ObjectNode data, List<RecordHeader> extra) {
        String body;
        try {
            body = json.writeValueAsString(data);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("sweep request cannot be serialized", e);
        }
        String requestId = data.get("requestId").asText();
        String clusterId = data.get("clusterId").asText();
        List<RecordHeader> headers = new ArrayList<>(List.of(
                header("ce_specversion", "1.0"),
                header("ce_id", requestId),
                header("ce_type", type.eventType()),
                header("ce_source", SOURCE),
                header("ce_subject", clusterId),
                header("ce_time", Result.now()),
                header("content-type", "application/json")));
        headers.addAll(extra);
        to.sendMessageAndAwait(Message.of(body, Metadata.of(OutgoingKafkaRecordMetadata.<String>builder()
                .withKey(clusterId).withHeaders(headers).build())));
    }

    private static RecordHeader header(String key, String value) {
        return new RecordHeader(key, value.getBytes(StandardCharsets.UTF_8));
    }
}

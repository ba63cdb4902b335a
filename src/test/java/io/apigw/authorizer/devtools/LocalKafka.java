package io.apigw.authorizer.devtools;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.apigw.authorizer.testing.KafkaBroker;
import io.apigw.authorizer.testing.KafkaClients;

/**
 * Developer tooling for the one-command run (scripts/run-local.sh), kept on the test classpath so that the embedded
 * broker never ships in the production image.
 * <ul>
 * <li>{@code broker PORT READY_FILE}: runs a single-node KRaft broker with the contract's topics until killed.</li>
 * <li>{@code request BOOTSTRAP authorize|check|deauthorize CLUSTER_ID [REGION]}: sends one binary-mode request and
 * prints the result the worker publishes for it, then a one-line summary.</li>
 * </ul>
 */
public final class LocalKafka {

    private LocalKafka() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length >= 3 && args[0].equals("broker")) {
            try (KafkaBroker broker = KafkaBroker.start(Integer.parseInt(args[1]), 4)) {
                Files.writeString(Path.of(args[2]), broker.bootstrapServers());
                System.out.println("Kafka broker ready at " + broker.bootstrapServers());
                new CountDownLatch(1).await();
            }
        } else if (args.length >= 4 && args[0].equals("request") && TYPES.containsKey(args[2])) {
            try {
                request(args[1], TYPES.get(args[2]), args[3], args.length > 4 ? args[4] : "ap-guangzhou");
            } catch (RuntimeException e) {
                System.err.println("no result: " + e.getMessage() + " (is the worker running? start "
                        + "scripts/run-local.sh, or set KAFKA_BOOTSTRAP_SERVERS to its broker)");
                System.exit(1);
            }
        } else {
            System.err.println("usage: LocalKafka broker PORT READY_FILE"
                    + " | request BOOTSTRAP authorize|check|deauthorize CLUSTER_ID [REGION]");
            System.exit(2);
        }
    }

    private static final Map<String, String> TYPES = Map.of("authorize", "ClusterAuthorizationRequested",
            "check", "ClusterAuthorizationCheckRequested", "deauthorize", "ClusterDeauthorizationRequested");

    private static void request(String bootstrap, String type, String clusterId, String region) {
        String requestId = "cli-" + UUID.randomUUID();
        String body = "{\"requestId\":\"" + requestId + "\",\"clusterId\":\"" + clusterId + "\",\"region\":\"" + region
                + "\",\"requestedBy\":\"local-cli\"}";
        try (KafkaClients kafka = new KafkaClients(bootstrap)) {
            kafka.send(KafkaBroker.REQUESTS, clusterId, body.getBytes(StandardCharsets.UTF_8), List.of(
                    header("ce_specversion", "1.0"), header("ce_type", type),
                    header("ce_id", requestId), header("ce_source", "/local-cli"),
                    header("content-type", "application/json")));
            System.out.println("sent " + body);
            List<ConsumerRecord<byte[], byte[]>> results = kafka.readUntil(KafkaBroker.RESULTS,
                    rs -> rs.stream().anyMatch(r -> KafkaClients.text(r.value()).contains(requestId)),
                    Duration.ofMinutes(3));
            ConsumerRecord<byte[], byte[]> result = results.stream()
                    .filter(r -> KafkaClients.text(r.value()).contains(requestId)).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no result for " + requestId + " within 3 minutes"));
            System.out.println(KafkaClients.header(result, "ce_type") + " " + KafkaClients.text(result.value()));
            System.out.println(summary(KafkaClients.header(result, "ce_type"), KafkaClients.text(result.value())));
        }
    }

    /** One line a person reads first: the outcome and what matters about it. */
    static String summary(String outcome, String json) {
        try {
            JsonNode r = new ObjectMapper().readTree(json);
            return "=> " + outcome + switch (outcome) {
                case "Authorized" -> (r.path("alreadyAuthorized").asBoolean() ? " (already authorized)" : "")
                        + ", token in " + r.path("credentialRef").asText();
                case "Failed" -> " " + r.path("code").asText() + (r.path("retryable").asBoolean() ? " (retryable)"
                        : " (not retryable)") + ": " + r.path("message").asText();
                case "NotAuthorized" -> ": missing " + r.path("missing") + ", drifted " + r.path("drifted")
                        + ", stored credential " + (r.path("credentialValid").asBoolean() ? "valid" : "not valid");
                case "Deauthorized" -> r.path("complete").asBoolean(true) ? ": everything removed"
                        : ": incomplete, " + r.path("message").asText();
                default -> ": " + r.path("message").asText("");
            };
        } catch (java.io.IOException e) {
            return "=> " + outcome;
        }
    }

    private static org.apache.kafka.common.header.Header header(String k, String v) {
        return new org.apache.kafka.common.header.internals.RecordHeader(k, v.getBytes(StandardCharsets.UTF_8));
    }
}

package io.apigw.authorizer.devtools;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.apigw.authorizer.testing.KafkaBroker;
import io.apigw.authorizer.testing.KafkaClients;
import java.io.IOException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * Developer tooling for the one-command run (scripts/run-local.sh), kept on the test classpath so that the embedded
 * broker never ships in the production image.
 * <ul>
 * <li>{@code broker PORT READY_FILE}: runs a single-node KRaft broker with the contract's topics until killed.</li>
 * <li>{@code request BOOTSTRAP authorize|check|deauthorize|rotate CLUSTER_ID [REGION] [--grace DURATION]}: sends one
 * binary-mode request and prints the result the worker publishes for it, then a one-line summary. {@code --grace}
 * (rotate only) goes into the request data as the string {@code grace}, e.g. {@code PT10M}.</li>
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
            List<String> rest = new ArrayList<>(List.of(args).subList(3, args.length));
            String grace = null;
            int g = rest.indexOf("--grace");
            if (g >= 0) {
                if (g + 1 >= rest.size() || !args[2].equals("rotate")) {
                    usage();
                }
                grace = rest.get(g + 1);
                rest.subList(g, g + 2).clear();
            }
            if (rest.isEmpty() || rest.size() > 2) {
                usage();
            }
            try {
                request(args[1], TYPES.get(args[2]), rest.get(0), rest.size() > 1 ? rest.get(1) : "ap-guangzhou",
                        grace);
            } catch (RuntimeException e) {
                System.err.println("no result: " + e.getMessage() + " (is the worker running? start "
                        + "scripts/run-local.sh, or set KAFKA_BOOTSTRAP_SERVERS to its broker)");
                System.exit(1);
            }
        } else {
            usage();
        }
    }

    private static void usage() {
        System.err.println("usage: LocalKafka broker PORT READY_FILE"
                + " | request BOOTSTRAP authorize|check|deauthorize CLUSTER_ID [REGION]"
                + " | request BOOTSTRAP rotate CLUSTER_ID [REGION] [--grace DURATION]");
        System.exit(2);
    }

    private static final Map<String, String> TYPES = Map.of("authorize", "ClusterAuthorizationRequested",
            "check", "ClusterAuthorizationCheckRequested", "deauthorize", "ClusterDeauthorizationRequested",
            "rotate", "ClusterCredentialRotationRequested");

    private static void request(String bootstrap, String type, String clusterId, String region, String grace) {
        String requestId = "cli-" + UUID.randomUUID();
        ObjectNode data = new ObjectMapper().createObjectNode().put("requestId", requestId).put("clusterId", clusterId)
                .put("region", region).put("requestedBy", "local-cli");
        if (grace != null) {
            data.put("grace", grace);
        }
        String body = data.toString();
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
                case "NotAuthorized" -> ": missing " + r.path("missing") + ", drifted " + r.path("drifted") + ", "
                        + (r.path("credentialValid").asBoolean() ? "stored credential valid"
                                : text(r, "credentialProblem") == null ? "stored credential not valid"
                                : "credential invalid: " + text(r, "credentialProblem")
                                        + (text(r, "credentialMessage") == null ? ""
                                                : " (" + text(r, "credentialMessage") + ")"));
                case "CredentialRotated" -> ": new token in " + r.path("credentialRef").asText() + " (Secret kube-system/"
                        + r.path("tokenSecret").asText() + "); "
                        + (text(r, "previousTokenSecret") == null ? "no earlier token was stored"
                                : "old " + text(r, "previousTokenSecret") + (r.path("revoked").asBoolean()
                                        ? " already revoked"
                                        : " revoked after " + (text(r, "revokeAfter") == null ? "the grace"
                                                : text(r, "revokeAfter"))));
                case "Deauthorized" -> r.path("complete").asBoolean(true) ? ": everything removed"
                        : ": incomplete, " + r.path("message").asText();
                default -> ": " + r.path("message").asText("");
            };
        } catch (IOException e) {
            return "=> " + outcome;
        }
    }

    /** The field's text, or null when it is absent or JSON null. */
    private static String text(JsonNode r, String field) {
        JsonNode v = r.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static Header header(String k, String v) {
        return new RecordHeader(k, v.getBytes(StandardCharsets.UTF_8));
    }
}

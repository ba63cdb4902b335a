package io.apigw.authorizer.devtools;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import io.apigw.authorizer.testing.KafkaBroker;
import io.apigw.authorizer.testing.KafkaClients;

/**
 * Developer tooling for the one-command run (scripts/run-local.sh), kept on the test classpath so that the embedded
 * broker never ships in the production image.
 * <ul>
 * <li>{@code broker PORT READY_FILE}: runs a single-node KRaft broker with the contract's topics until killed.</li>
 * <li>{@code request BOOTSTRAP CLUSTER_ID [REGION]}: sends one binary-mode ClusterAuthorizationRequested and prints
 * the result the worker publishes for it.</li>
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
        } else if (args.length >= 3 && args[0].equals("request")) {
            request(args[1], args[2], args.length > 3 ? args[3] : "ap-guangzhou");
        } else {
            System.err.println("usage: LocalKafka broker PORT READY_FILE | request BOOTSTRAP CLUSTER_ID [REGION]");
            System.exit(2);
        }
    }

    private static void request(String bootstrap, String clusterId, String region) {
        String requestId = "cli-" + UUID.randomUUID();
        String body = "{\"requestId\":\"" + requestId + "\",\"clusterId\":\"" + clusterId + "\",\"region\":\"" + region
                + "\",\"requestedBy\":\"local-cli\"}";
        try (KafkaClients kafka = new KafkaClients(bootstrap)) {
            kafka.send(KafkaBroker.REQUESTS, clusterId, body.getBytes(StandardCharsets.UTF_8), List.of(
                    header("ce_specversion", "1.0"), header("ce_type", "ClusterAuthorizationRequested"),
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
        }
    }

    private static org.apache.kafka.common.header.Header header(String k, String v) {
        return new org.apache.kafka.common.header.internals.RecordHeader(k, v.getBytes(StandardCharsets.UTF_8));
    }
}

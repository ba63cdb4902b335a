package io.apigw.authorizer.delivery;

import static io.apigw.authorizer.testing.KafkaClients.header;
import static io.apigw.authorizer.testing.KafkaClients.text;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.apigw.authorizer.contract.Contract;
import io.apigw.authorizer.testing.KafkaBroker;
import io.apigw.authorizer.testing.KafkaClients;
import io.apigw.authorizer.testing.RealKafka;
import io.apigw.authorizer.testing.Requests;
import io.apigw.authorizer.testing.TargetCluster;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;

/**
 * On a real broker, a record whose dead-letter copy cannot be sent (the copy's added headers push it past the
 * producer's max.request.size, or past the dead-letter topic's own limit) is dead-lettered as a bounded stub, and the
 * requests after it on its partition are still answered.
 */
@QuarkusTest
@WithKubernetesTestServer
@QuarkusTestResource(value = RealKafka.class, restrictToAnnotatedClass = true)
class DeadLetterSizeTest {

    /**
     * Fits a producer's default max.request.size (1 MiB) and the broker's default message.max.bytes with the few bytes
     * of key, one header and framing it has here, but not once the dead-letter headers (about 170 bytes) are added.
     */
    static final int NEAR_ONE_MIB = 1_048_576 - 176;

    @Test
    void aRecordNearOneMibIsDeadLetteredAsAStubAndItsPartitionMovesOn() throws Exception {
        byte[] huge = new byte[NEAR_ONE_MIB];
        Arrays.fill(huge, (byte) 'x');
        System.arraycopy(bytes("{\"pad\":\""), 0, huge, 0, 8);

        assertStubAndNextAnswered(huge);
    }

    @Test
    void aCopyRefusedByTheDeadLetterTopicsOwnLimitIsReplacedByAStub() throws Exception {
        byte[] large = bytes("{\"requestId\":\"r\",\"clusterId\":\"c\",\"pad\":\"" + "y".repeat(150_000) + "\"}");
        RealKafka.broker.setDeadLetterTopicMaxMessageBytes("100000");
        try {
            assertStubAndNextAnswered(large);
        } finally {
            RealKafka.broker.setDeadLetterTopicMaxMessageBytes(null);
        }
    }

    private void assertStubAndNextAnswered(byte[] value) throws Exception {
        try (KafkaClients kafka = new KafkaClients(RealKafka.broker.bootstrapServers())) {
            assertStubAndNextAnswered(kafka, value);
        }
    }

    private void assertStubAndNextAnswered(KafkaClients kafka, byte[] value) throws Exception {
        String clusterId = TargetCluster.registerWithoutPrivateEndpoint();
        kafka.send(KafkaBroker.REQUESTS, clusterId, value, List.of(Requests.header("trace", "t-1")));
        String next = "after-large-" + UUID.randomUUID();
        kafka.sendRequest(next, clusterId);

        List<ConsumerRecord<byte[], byte[]>> answered = kafka.readUntil(KafkaBroker.RESULTS,
                rs -> rs.stream().anyMatch(r -> text(r.value()).contains(next)), Duration.ofSeconds(60));
        assertThat(answered).as("the request after the large record is answered")
                .anyMatch(r -> text(r.value()).contains(next));

        ConsumerRecord<byte[], byte[]> original = kafka.readUntil(KafkaBroker.REQUESTS,
                rs -> rs.stream().anyMatch(r -> isLarge(r, clusterId, value)), Duration.ofSeconds(30)).stream()
                .filter(r -> isLarge(r, clusterId, value)).findFirst().orElseThrow();
        ConsumerRecord<byte[], byte[]> stub = kafka.readUntil(KafkaBroker.DEAD_LETTERS,
                rs -> rs.stream().anyMatch(r -> clusterId.equals(text(r.key()))), Duration.ofSeconds(30)).stream()
                .filter(r -> clusterId.equals(text(r.key()))).findFirst().orElseThrow();

        assertThat(header(stub, "dead-letter-reason")).isEqualTo(
                "record of " + value.length + " bytes exceeds the limit of 65536");
        assertThat(header(stub, "dead-letter-topic")).isEqualTo(KafkaBroker.REQUESTS);
        assertThat(header(stub, "dead-letter-partition")).isEqualTo(Integer.toString(original.partition()));
        assertThat(header(stub, "dead-letter-offset")).isEqualTo(Long.toString(original.offset()));
        assertThat(header(stub, "dead-letter-original-size")).isEqualTo(Integer.toString(value.length));
        assertThat(header(stub, "dead-letter-sha256"))
                .isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(value)));
        assertThat(header(stub, "dead-letter-truncated")).isEqualTo("true");
        assertThat(stub.value()).as("the first KiB of the original").isEqualTo(Arrays.copyOf(value, 1024));
        assertThat(header(stub, "trace")).as("the original's headers are not copied into a stub").isNull();
        ObjectNode headers = Contract.JSON.createObjectNode();
        stub.headers().forEach(h -> headers.put(h.key(), text(h.value())));
        assertThat(Contract.violations(Contract.load().headerSchema("DeadLetter"), headers)).isEmpty();
    }

    private static boolean isLarge(ConsumerRecord<byte[], byte[]> r, String clusterId, byte[] value) {
        return clusterId.equals(text(r.key())) && r.value() != null && r.value().length == value.length;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}

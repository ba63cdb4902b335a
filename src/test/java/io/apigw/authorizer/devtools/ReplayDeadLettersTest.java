package io.apigw.authorizer.devtools;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.apigw.authorizer.testing.FreePort;
import io.apigw.authorizer.testing.KafkaBroker;
import io.apigw.authorizer.testing.KafkaClients;
import io.apigw.authorizer.testing.Requests;

/** scripts/replay-dlq.sh on a real broker: the dry run sends nothing, a replay restores the records as received. */
class ReplayDeadLettersTest {

    static KafkaBroker broker;
    static Properties client = new Properties();

    @BeforeAll
    static void deadLetters() {
        broker = KafkaBroker.start(FreePort.closed(), 1);
        client.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        try (KafkaClients kafka = new KafkaClients(broker.bootstrapServers())) {
            long offset = 0;
            for (String[] r : List.of(new String[] { "cls-a", "not a JSON object" },
                    new String[] { "cls-b", "larger than 65536 bytes" }, new String[] { "cls-c", "not a JSON object" })) {
                kafka.send(KafkaBroker.DEAD_LETTERS, r[0], ("value of " + r[0]).getBytes(StandardCharsets.UTF_8),
                        List.of(Requests.header("ce_type", "ClusterAuthorizationRequested"),
                                Requests.header("dead-letter-reason", r[1]),
                                Requests.header("dead-letter-topic", KafkaBroker.REQUESTS),
                                Requests.header("dead-letter-partition", "0"),
                                Requests.header("dead-letter-offset", Long.toString(offset++))));
            }
        }
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    private static ReplayDeadLetters.Selection byReason(String reason) {
        return new ReplayDeadLetters.Selection(KafkaBroker.DEAD_LETTERS, 0, Long.MAX_VALUE, reason, null, 100);
    }

    /** The request topic, read until more than {@code enough} records arrived or 3 s passed. */
    private static List<ConsumerRecord<byte[], byte[]>> requests(int enough) {
        try (KafkaClients kafka = new KafkaClients(broker.bootstrapServers())) {
            return kafka.readUntil(KafkaBroker.REQUESTS, rs -> rs.size() > enough, Duration.ofSeconds(3));
        }
    }

    @Test
    void aDryRunListsTheSelectionAndSendsNothing() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int n = ReplayDeadLetters.run(client, byReason("not a JSON"), true, new PrintStream(out, true));

        assertThat(n).isEqualTo(2);
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("@0 key=cls-a", "@2 key=cls-c")
                .doesNotContain("cls-b").doesNotContain("value of");
        assertThat(requests(Integer.MAX_VALUE)).as("on the request topic after the dry run")
                .noneMatch(r -> List.of("cls-a", "cls-c").contains(KafkaClients.text(r.key())));
    }

    @Test
    void aReplayRestoresKeyValueAndHeadersWithoutTheDeadLetterOnes() {
        ReplayDeadLetters.Selection onlyB = new ReplayDeadLetters.Selection(KafkaBroker.DEAD_LETTERS, 1, 1, null, null,
                100);
        assertThat(ReplayDeadLetters.run(client, onlyB, false, new PrintStream(new ByteArrayOutputStream()))).isOne();

        List<ConsumerRecord<byte[], byte[]>> replayed = requests(0);
        assertThat(replayed).singleElement().satisfies(r -> {
            assertThat(KafkaClients.text(r.key())).isEqualTo("cls-b");
            assertThat(KafkaClients.text(r.value())).isEqualTo("value of cls-b");
            assertThat(KafkaClients.header(r, "ce_type")).isEqualTo("ClusterAuthorizationRequested");
            assertThat(r.headers()).noneMatch(h -> h.key().startsWith("dead-letter-"));
        });
    }
}

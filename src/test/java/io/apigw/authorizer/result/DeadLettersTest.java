package io.apigw.authorizer.result;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.junit.jupiter.api.Test;

import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.Cancellable;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import java.util.Arrays;

/** What reaches the dead-letter producer for records of every size, and which send failures stop the caller. */
class DeadLettersTest {

    static final int LIMIT = 8192;

    /** One record as handed to the producer. */
    record Sent(Object key, byte[] value, List<Header> headers) {

        String header(String name) {
            return headers.stream().filter(h -> h.key().equals(name)).map(h -> new String(h.value(),
                    StandardCharsets.UTF_8)).reduce((a, b) -> b).orElse(null);
        }
    }

    /** Records every send; {@code broker} decides, per record, what the broker answers (null: accepted). */
    static final class Producer implements MutinyEmitter<byte[]> {
        final List<Sent> attempts = new ArrayList<>();
        final Function<Sent, RuntimeException> broker;

        Producer(Function<Sent, RuntimeException> broker) {
            this.broker = broker;
        }

        @Override
        public <M extends Message<? extends byte[]>> void sendMessageAndAwait(M message) {
            OutgoingKafkaRecordMetadata<?> meta = message.getMetadata(OutgoingKafkaRecordMetadata.class).orElseThrow();
            List<Header> headers = new ArrayList<>();
            meta.getHeaders().forEach(headers::add);
            Sent sent = new Sent(meta.getKey(), message.getPayload(), headers);
            attempts.add(sent);
            RuntimeException refusal = broker.apply(sent);
            if (refusal != null) {
                throw refusal;
            }
        }

        @Override
        public Uni<Void> send(byte[] payload) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void sendAndAwait(byte[] payload) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Cancellable sendAndForget(byte[] payload) {
            throw new UnsupportedOperationException();
        }

        @Override
        public <M extends Message<? extends byte[]>> void send(M message) {
            throw new UnsupportedOperationException();
        }

        @Override
        public <M extends Message<? extends byte[]>> Uni<Void> sendMessage(M message) {
            throw new UnsupportedOperationException();
        }

        @Override
        public <M extends Message<? extends byte[]>> Cancellable sendMessageAndForget(M message) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void complete() {
        }

        @Override
        public void error(Exception e) {
        }

        @Override
        public boolean isCancelled() {
            return false;
        }

        @Override
        public boolean hasRequests() {
            return true;
        }
    }

    private static ConsumerRecord<String, byte[]> record(String key, byte[] value) {
        RecordHeaders headers = new RecordHeaders(new Header[] { new RecordHeader("ce_type", "X".getBytes()) });
        return new ConsumerRecord<>("requests", 3, 42L, 0L, TimestampType.CREATE_TIME, -1, value.length, key, value,
                headers, Optional.empty());
    }

    private static byte[] filled(int size) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) ('a' + i % 26);
        }
        return b;
    }

    @Test
    void aRecordThatFitsIsCopiedWholeWithItsHeaders() {
        Producer producer = new Producer(s -> null);
        byte[] value = filled(LIMIT - 1024);

        new DeadLetters(producer, LIMIT).send(record("cls-a", value), "why");

        assertThat(producer.attempts).hasSize(1);
        Sent copy = producer.attempts.get(0);
        assertThat(copy.key()).isEqualTo("cls-a");
        assertThat(copy.value()).isEqualTo(value);
        assertThat(copy.header("ce_type")).isEqualTo("X");
        assertThat(copy.header("dead-letter-reason")).isEqualTo("why");
        assertThat(copy.header("dead-letter-truncated")).isNull();
    }

    @Test
    void aCopyOverTheProducersLimitIsNeverTriedAndAStubGoesInstead() {
        Producer producer = new Producer(s -> null);
        // Within the limit with its own header and the framing margin, over it once the dead-letter headers are added.
        byte[] value = filled(LIMIT - 560);

        new DeadLetters(producer, LIMIT).send(record("cls-a", value), "too big");

        assertThat(producer.attempts).as("only the stub was handed to the producer").hasSize(1);
        Sent stub = producer.attempts.get(0);
        assertThat(stub.key()).isEqualTo("cls-a");
        assertThat(stub.value()).isEqualTo(Arrays.copyOf(value, 1024));
        assertThat(stub.headers()).extracting(Header::key).containsExactly("dead-letter-reason", "dead-letter-topic",
                "dead-letter-partition", "dead-letter-offset", "dead-letter-original-size", "dead-letter-sha256",
                "dead-letter-truncated");
        assertThat(stub.header("dead-letter-partition")).isEqualTo("3");
        assertThat(stub.header("dead-letter-offset")).isEqualTo("42");
        assertThat(stub.header("dead-letter-original-size")).isEqualTo(Integer.toString(value.length));
        assertThat(stub.header("dead-letter-sha256")).hasSize(64).matches("[0-9a-f]+");
    }

    @Test
    void aCopyTheBrokerRefusesForItsSizeIsReplacedByAStub() {
        Producer producer = new Producer(s -> s.header("dead-letter-truncated") == null
                ? new RuntimeException(new RecordTooLargeException("topic max.message.bytes")) : null);

        new DeadLetters(producer, LIMIT).send(record("cls-a", filled(4000)), "why");

        assertThat(producer.attempts).hasSize(2);
        assertThat(producer.attempts.get(1).header("dead-letter-truncated")).isEqualTo("true");
        assertThat(producer.attempts.get(1).value()).hasSize(1024);
    }

    @Test
    void anyOtherSendFailureIsThrownSoTheRecordIsNotAcknowledged() {
        Producer producer = new Producer(s -> new TimeoutException("broker unreachable"));

        assertThatThrownBy(() -> new DeadLetters(producer, LIMIT).send(record("cls-a", filled(10)), "why"))
                .isInstanceOf(TimeoutException.class);
        assertThat(producer.attempts).as("no stub stands in for an outage").hasSize(1);
    }

    @Test
    void aStubThatFailsToSendIsThrownToo() {
        Producer producer = new Producer(s -> new RecordTooLargeException("always"));

        assertThatThrownBy(() -> new DeadLetters(producer, LIMIT).send(record("cls-a", filled(100)), "why"))
                .isInstanceOf(RecordTooLargeException.class);
        assertThat(producer.attempts).hasSize(2);
    }

    @Test
    void aKeyTooLargeForEvenAStubIsReplacedByItsDigest() {
        Producer producer = new Producer(s -> null);
        String key = "k".repeat(LIMIT);

        new DeadLetters(producer, LIMIT).send(record(key, filled(10)), "why");

        Sent stub = producer.attempts.get(0);
        assertThat(stub.key()).isNull();
        assertThat(stub.header("dead-letter-key-sha256")).hasSize(64);
        assertThat(stub.value()).isEqualTo(filled(10));
    }
}

package io.apigw.authorizer.result;

import java.nio.charset.StandardCharsets;

import jakarta.enterprise.context.ApplicationScoped;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.Metadata;

import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;

/**
 * Forwards a record that cannot be read, byte for byte with its key and headers, to the dead-letter topic, adding
 * where it came from and why (the same header names SmallRye's own dead-letter strategy uses).
 */
@ApplicationScoped
public class DeadLetters {

    public static final String REASON = "dead-letter-reason";

    private final MutinyEmitter<byte[]> deadLetters;

    public DeadLetters(@Channel("authorization-dead-letters") MutinyEmitter<byte[]> deadLetters) {
        this.deadLetters = deadLetters;
    }

    public void send(ConsumerRecord<String, byte[]> record, String reason) {
        RecordHeaders headers = new RecordHeaders(record.headers().toArray());
        headers.add(REASON, bytes(reason));
        headers.add("dead-letter-topic", bytes(record.topic()));
        headers.add("dead-letter-partition", bytes(Integer.toString(record.partition())));
        headers.add("dead-letter-offset", bytes(Long.toString(record.offset())));
        deadLetters.sendMessageAndAwait(Message.of(record.value() == null ? new byte[0] : record.value(),
                Metadata.of(OutgoingKafkaRecordMetadata.<String>builder().withKey(record.key()).withHeaders(headers)
                        .build())));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}

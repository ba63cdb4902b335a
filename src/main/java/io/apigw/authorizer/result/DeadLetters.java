package io.apigw.authorizer.result;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

import jakarta.enterprise.context.ApplicationScoped;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.Metadata;
import org.jboss.logging.Logger;

import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;

/**
 * Forwards a record that cannot be read, byte for byte with its key and headers, to the dead-letter topic, adding
 * where it came from and why (the same header names SmallRye's own dead-letter strategy uses).
 * <p>
 * A copy that cannot be sent because of its size (over the producer's {@code max.request.size} once the headers
 * above are added, or refused by the broker's or the topic's own limit) would block the record's partition for good:
 * such a record is forwarded as a bounded stub instead, which says where the original is and how to recognise it.
 * Any other failure to send (the broker unreachable) is thrown, so the record is not acknowledged.
 */
@ApplicationScoped
public class DeadLetters {

    public static final String REASON = "dead-letter-reason";
    public static final String TOPIC = "dead-letter-topic";
    public static final String PARTITION = "dead-letter-partition";
    public static final String OFFSET = "dead-letter-offset";
    /** Stub only: the size of the original value in bytes, its SHA-256 (hex), and that the stub is not the record. */
    public static final String ORIGINAL_SIZE = "dead-letter-original-size";
    public static final String SHA256 = "dead-letter-sha256";
    public static final String TRUNCATED = "dead-letter-truncated";
    /** Stub only, when even the original key does not fit: the key's SHA-256 (hex); the stub then has no key. */
    public static final String KEY_SHA256 = "dead-letter-key-sha256";
    /** How much of the original value a stub keeps. */
    public static final int STUB_VALUE_BYTES = 1024;
    /** Kafka's framing of one record in its batch is under 100 bytes, plus up to 10 per header: room for both. */
    static final int RECORD_OVERHEAD = 512;

    private static final Logger LOG = Logger.getLogger(DeadLetters.class);

    private final MutinyEmitter<byte[]> deadLetters;
    private final int maxRequestSize;

    /**
     * @param maxRequestSize the dead-letter producer's own limit (a Kafka producer key of the channel, hence not an
     *        {@code authorizer.*} key): a record above it never leaves the producer
     */
    public DeadLetters(@Channel("authorization-dead-letters") MutinyEmitter<byte[]> deadLetters,
            @ConfigProperty(name = "mp.messaging.outgoing.authorization-dead-letters.max.request.size",
                    defaultValue = "1048576") int maxRequestSize) {
        this.deadLetters = deadLetters;
        this.maxRequestSize = maxRequestSize;
    }

    public void send(ConsumerRecord<String, byte[]> record, String reason) {
        byte[] value = record.value() == null ? new byte[0] : record.value();
        RecordHeaders headers = new RecordHeaders(record.headers().toArray());
        addOrigin(headers, record, reason);
        if (size(record.key(), value, headers) <= maxRequestSize) {
            try {
                emit(record.key(), value, headers);
                return;
            } catch (RuntimeException e) {
                if (!tooLarge(e)) {
                    throw e;
                }
            }
        }
        LOG.warnf("the dead letter of %s-%d@%d (%d bytes of value) does not fit the dead-letter topic; sending a stub",
                record.topic(), record.partition(), record.offset(), value.length);
        sendStub(record, value, reason);
    }

    /**
     * A record over the request size limit (its value or its headers): only a bounded stub is set aside, whatever
     * the dead-letter topic would take, so that no copy of it is held again on its way out.
     */
    public void sendStub(ConsumerRecord<String, byte[]> record, String reason) {
        sendStub(record, record.value() == null ? new byte[0] : record.value(), reason);
    }

    private void sendStub(ConsumerRecord<String, byte[]> record, byte[] value, String reason) {
        RecordHeaders headers = new RecordHeaders();
        addOrigin(headers, record, reason);
        headers.add(ORIGINAL_SIZE, bytes(Integer.toString(value.length)));
        headers.add(SHA256, bytes(sha256(value)));
        headers.add(TRUNCATED, bytes("true"));
        byte[] first = Arrays.copyOf(value, Math.min(value.length, STUB_VALUE_BYTES));
        String key = record.key();
        if (key != null && size(key, first, headers) > maxRequestSize) {
            headers.add(KEY_SHA256, bytes(sha256(bytes(key))));
            key = null;
        }
        emit(key, first, headers);
    }

    private static void addOrigin(Headers headers, ConsumerRecord<String, byte[]> record, String reason) {
        headers.add(REASON, bytes(reason));
        headers.add(TOPIC, bytes(record.topic()));
        headers.add(PARTITION, bytes(Integer.toString(record.partition())));
        headers.add(OFFSET, bytes(Long.toString(record.offset())));
    }

    private void emit(String key, byte[] value, Headers headers) {
        deadLetters.sendMessageAndAwait(Message.of(value, Metadata.of(OutgoingKafkaRecordMetadata.<String>builder()
                .withKey(key).withHeaders(headers).build())));
    }

    /** An upper bound of what the producer counts against max.request.size (key as the StringSerializer writes it). */
    private static long size(String key, byte[] value, Headers headers) {
        long size = RECORD_OVERHEAD + (key == null ? 0 : bytes(key).length) + value.length;
        for (Header h : headers) {
            size += bytes(h.key()).length + (h.value() == null ? 0 : h.value().length);
        }
        return size;
    }

    private static boolean tooLarge(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof RecordTooLargeException || t instanceof RecordBatchTooLargeException) {
                return true;
            }
        }
        return false;
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}

package io.apigw.authorizer.delivery;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

import io.apigw.authorizer.request.RequestReader;
import io.apigw.authorizer.timing.DaemonThreads;

/**
 * A Kafka record as a {@link KeyedDispatcher} job, keyed by the record's key (cluster id). The record is acknowledged
 * once its work returns (its result or dead letter is on the broker); if the work throws it is nacked, which stops
 * the channel ({@code failure-strategy=fail}): nothing is committed past an unanswered record. While the worker stops,
 * a failure leaves the record for redelivery instead.
 */
public final class RecordJobs {

    private static final Logger LOG = Logger.getLogger(RecordJobs.class);
    /** Not on the job's thread: failing the channel closes the consumer, whose revocation waits for the job. */
    private static final Executor NACKS = Executors.newSingleThreadExecutor(DaemonThreads.named("record-nack"));

    private RecordJobs() {
    }

    /**
     * Hands the record over at once (so the offset ledger sees it); the stage completes when another may come.
     * {@code overflow} answers it instead of {@code work} when too many records of its cluster wait already.
     */
    public static CompletionStage<Void> admit(KeyedDispatcher dispatcher,
            Message<ConsumerRecord<String, byte[]>> message, Runnable work, Runnable overflow) {
        ConsumerRecord<String, byte[]> record = message.getPayload();
        // Records without a key are kept in order per partition.
        String key = record.key() != null ? record.key() : "\0partition-" + record.partition();
        return dispatcher.admit(new KeyedDispatcher.Job(new TopicPartition(record.topic(), record.partition()), key,
                () -> answer(dispatcher, message, record, work), bytes(record),
                () -> answer(dispatcher, message, record, overflow)));
    }

    /** What the record holds: key, value and headers (all of it is held while it waits). */
    static int bytes(ConsumerRecord<String, byte[]> record) {
        long bytes = Math.max(0, record.serializedKeySize()) + Math.max(0, record.serializedValueSize())
                + RequestReader.headerBytes(record.headers());
        return (int) Math.min(Integer.MAX_VALUE, bytes);
    }

    private static void answer(KeyedDispatcher dispatcher, Message<?> message, ConsumerRecord<?, ?> record,
            Runnable work) {
        try {
            work.run();
        } catch (Throwable e) {
            if (dispatcher.draining()) {
                LOG.infof("record %s-%d@%d left for redelivery: the worker is stopping (%s)", record.topic(),
                        record.partition(), record.offset(), e.getClass().getSimpleName());
                return;
            }
            LOG.errorf("record %s-%d@%d could not be answered (%s); stopping the channel", record.topic(),
                    record.partition(), record.offset(), e.getClass().getSimpleName());
            NACKS.execute(() -> message.nack(e));
            return;
        }
        message.ack();
    }
}

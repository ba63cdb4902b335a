package io.apigw.authorizer.delivery;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.BiConsumer;

import jakarta.enterprise.context.ApplicationScoped;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.smallrye.common.annotation.Identifier;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.kafka.IncomingKafkaRecord;
import io.smallrye.reactive.messaging.kafka.KafkaConnectorIncomingConfiguration;
import io.smallrye.reactive.messaging.kafka.KafkaConsumer;
import io.smallrye.reactive.messaging.kafka.commit.KafkaCommitHandler;
import io.vertx.mutiny.core.Vertx;

/**
 * Commit strategy {@code answered}: a partition's offset moves past a record only once that record and every
 * record before it has been acknowledged, i.e. its result or dead letter is on the broker.
 * <p>
 * It replaces SmallRye's {@code throttled} strategy for three reasons: every record is tracked from the moment it
 * is received (the worker's {@link KeyedDispatcher} takes records at once and orders them per cluster itself, so no
 * record waits unseen for an ordering slot); on revocation it first waits for the revoked partitions' running
 * requests and then commits them, so the partition's next owner neither re-runs them nor runs them concurrently;
 * and a request that takes long is not fatal (each is bounded by {@code authorizer.request.deadline} instead).
 */
public final class AnsweredOffsets implements KafkaCommitHandler {

    private static final Logger LOG = Logger.getLogger(AnsweredOffsets.class);

    /** Per partition: the records received and not answered yet, and the highest offset received. */
    private static final class Partition {
        final TreeSet<Long> unanswered = new TreeSet<>();
        long highestReceived = -1;
        long committed = -1;

        /** The offset to commit: the first unanswered record, or the one after the last received. */
        long next() {
            return unanswered.isEmpty() ? highestReceived + 1 : unanswered.first();
        }
    }

    private final KafkaConsumer<?, ?> consumer;
    private final KeyedDispatcher dispatcher;
    private final Duration revocationWait;
    private final Vertx vertx;
    private final long timer;
    private final Map<TopicPartition, Partition> partitions = new HashMap<>();

    AnsweredOffsets(KafkaConsumer<?, ?> consumer, KeyedDispatcher dispatcher, Duration revocationWait, Vertx vertx,
            long commitIntervalMs) {
        this.consumer = consumer;
        this.dispatcher = dispatcher;
        this.revocationWait = revocationWait;
        this.vertx = vertx;
        this.timer = vertx.setPeriodic(commitIntervalMs, id -> commitAsync());
    }

    /** Creates the strategy for a channel with {@code commit-strategy=answered}. */
    @ApplicationScoped
    @Identifier("answered")
    public static class Factory implements KafkaCommitHandler.Factory {

        private final KeyedDispatcher dispatcher;
        private final Duration revocationWait;

        public Factory(KeyedDispatcher dispatcher, AuthorizerConfig config) {
            this.dispatcher = dispatcher;
            this.revocationWait = Dispatchers.longestRun(config);
        }

        @Override
        public KafkaCommitHandler create(KafkaConnectorIncomingConfiguration config,
                Vertx vertx, KafkaConsumer<?, ?> consumer,
                BiConsumer<Throwable, Boolean> reportFailure) {
            long interval = config.config().getOptionalValue(ConsumerConfig.AUTO_COMMIT_INTERVAL_MS_CONFIG, Long.class)
                    .orElse(1000L);
            return new AnsweredOffsets(consumer, dispatcher, revocationWait, vertx, interval);
        }
    }

    @Override
    public synchronized <K, V> Uni<IncomingKafkaRecord<K, V>> received(IncomingKafkaRecord<K, V> record) {
        Partition p = partitions.computeIfAbsent(new TopicPartition(record.getTopic(), record.getPartition()),
                tp -> new Partition());
        p.unanswered.add(record.getOffset());
        p.highestReceived = Math.max(p.highestReceived, record.getOffset());
        return Uni.createFrom().item(record);
    }

    @Override
    public synchronized <K, V> Uni<Void> handle(IncomingKafkaRecord<K, V> record) {
        Partition p = partitions.get(new TopicPartition(record.getTopic(), record.getPartition()));
        if (p != null) {
            p.unanswered.remove(record.getOffset());
        }
        return Uni.createFrom().voidItem();
    }

    @Override
    public void partitionsAssigned(Collection<TopicPartition> assigned) {
        dispatcher.assigned(assigned);
    }

    /** Called on the polling thread, inside {@code poll()}: the group waits for it (up to max.poll.interval.ms). */
    @Override
    public void partitionsRevoked(Collection<TopicPartition> revoked) {
        try {
            int unfinished = dispatcher.revoke(revoked, revocationWait);
            if (unfinished > 0) {
                LOG.warnf("partitions %s revoked with %d requests still running after %ss; they will be redelivered",
                        revoked, unfinished, revocationWait.toSeconds());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = take(revoked);
        if (!offsets.isEmpty()) {
            consumer.unwrap().commitSync(offsets);
        }
    }

    @Override
    public void terminate(boolean graceful) {
        vertx.cancelTimer(timer);
        Map<TopicPartition, OffsetAndMetadata> offsets = pending();
        if (!offsets.isEmpty()) {
            try {
                consumer.commit(offsets).await().atMost(Duration.ofSeconds(10));
            } catch (RuntimeException e) {
                LOG.warnf("final commit failed (%s); the answered records after the last commit will be redelivered",
                        e.getClass().getSimpleName());
            }
        }
    }

    private void commitAsync() {
        Map<TopicPartition, OffsetAndMetadata> offsets = pending();
        if (!offsets.isEmpty()) {
            consumer.commit(offsets).subscribe().with(ok -> {
            }, failure -> {
                LOG.debugf("commit failed (%s); retried with the next one", failure.toString());
                resend(offsets.keySet());
            });
        }
    }

    /** The offsets that moved since the last commit (marked as committed). */
    private synchronized Map<TopicPartition, OffsetAndMetadata> pending() {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        partitions.forEach((tp, p) -> {
            long next = p.next();
            if (next > p.committed) {
                offsets.put(tp, new OffsetAndMetadata(next));
                p.committed = next;
            }
        });
        return offsets;
    }

    private synchronized void resend(Collection<TopicPartition> failed) {
        failed.forEach(tp -> {
            Partition p = partitions.get(tp);
            if (p != null) {
                p.committed = -1;
            }
        });
    }

    /** The last offsets of partitions that are going away; they are forgotten. */
    private synchronized Map<TopicPartition, OffsetAndMetadata> take(Collection<TopicPartition> revoked) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : revoked) {
            Partition p = partitions.remove(tp);
            if (p != null && p.highestReceived >= 0) {
                offsets.put(tp, new OffsetAndMetadata(p.next()));
            }
        }
        return offsets;
    }
}

package io.apigw.authorizer.delivery;

import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.function.BiConsumer;

import jakarta.enterprise.context.ApplicationScoped;

import org.apache.kafka.clients.consumer.Consumer;
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

    private final KafkaConsumer<?, ?> consumer;
    private final KeyedDispatcher dispatcher;
    private final Duration revocationWait;
    private final Vertx vertx;
    private final long timer;
    private final OffsetLedger ledger = new OffsetLedger();

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
        private final KeyedDispatcher sweeps;
        private final Duration revocationWait;

        public Factory(KeyedDispatcher dispatcher, @Sweeps KeyedDispatcher sweeps,
                AuthorizerConfig config) {
            this.dispatcher = dispatcher;
            this.sweeps = sweeps;
            this.revocationWait = Dispatchers.longestRun(config);
        }

        @Override
        public KafkaCommitHandler create(KafkaConnectorIncomingConfiguration config,
                Vertx vertx, KafkaConsumer<?, ?> consumer,
                BiConsumer<Throwable, Boolean> reportFailure) {
            long interval = config.config().getOptionalValue(ConsumerConfig.AUTO_COMMIT_INTERVAL_MS_CONFIG, Long.class)
                    .orElse(1000L);
            KeyedDispatcher runs = Dispatchers.SWEEP_CHANNEL.equals(config.getChannel()) ? sweeps : dispatcher;
            return new AnsweredOffsets(consumer, runs, revocationWait, vertx, interval);
        }
    }

    @Override
    public <K, V> Uni<IncomingKafkaRecord<K, V>> received(IncomingKafkaRecord<K, V> record) {
        // A record fetched before its partition was revoked belongs to the new owner: the ledger ignores it, and the
        // dispatcher drops it.
        ledger.received(new TopicPartition(record.getTopic(), record.getPartition()), record.getOffset());
        return Uni.createFrom().item(record);
    }

    /** The record is acknowledged: its result or dead letter is on the broker. */
    @Override
    public <K, V> Uni<Void> handle(IncomingKafkaRecord<K, V> record) {
        ledger.answered(new TopicPartition(record.getTopic(), record.getPartition()), record.getOffset());
        return Uni.createFrom().voidItem();
    }

    @Override
    public void partitionsAssigned(Collection<TopicPartition> assigned) {
        ledger.assigned(assigned);
        dispatcher.assigned(assigned);
    }

    /** Called on the polling thread, inside {@code poll()}: the group waits for it (up to max.poll.interval.ms). */
    @Override
    public void partitionsRevoked(Collection<TopicPartition> revoked) {
        ledger.revoked(revoked);
        try {
            long started = System.nanoTime();
            KeyedDispatcher.Revocation r = dispatcher.revoke(revoked, revocationWait);
            if (r.unfinished() > 0) {
                LOG.warnf("partitions %s revoked with %d requests still running after %ss; they will be redelivered",
                        revoked, r.unfinished(), revocationWait.toSeconds());
            } else if (r.running() > 0) {
                LOG.infof("partitions %s revoked: %d requests were running; waited %d ms for them", revoked,
                        r.running(), (System.nanoTime() - started) / 1_000_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = ledger.take(revoked);
        if (!offsets.isEmpty()) {
            try {
                consumer.unwrap().commitSync(offsets);
            } catch (RuntimeException e) {
                // Lost rather than revoked (another member owns them already): the new owner redoes what we did.
                LOG.warnf("partitions %s: final commit refused (%s); their answered records will be redelivered",
                        revoked, e.getClass().getSimpleName());
            }
        }
    }

    @Override
    public void terminate(boolean graceful) {
        vertx.cancelTimer(timer);
        try {
            consumer.runOnPollingThread(this::commitAnswered).await().atMost(Duration.ofSeconds(10));
        } catch (RuntimeException e) {
            LOG.warnf("final commit failed (%s); the answered records after the last commit will be redelivered",
                    e.getClass().getSimpleName());
        }
    }

    private void commitAsync() {
        consumer.runOnPollingThread(this::commitAnswered).subscribe().with(ok -> {
        }, failure -> LOG.debugf("commit failed (%s); retried with the next one", failure.toString()));
    }

    /**
     * On the polling thread, so never between a revocation and the next assignment: a commit computed before a
     * revocation and run after it could move an offset back. Only partitions still assigned are committed.
     */
    private void commitAnswered(Consumer<?, ?> kafka) {
        Map<TopicPartition, OffsetAndMetadata> offsets = ledger.toCommit(kafka.assignment());
        if (offsets.isEmpty()) {
            return;
        }
        try {
            kafka.commitSync(offsets);
        } catch (RuntimeException e) {
            ledger.commitFailed(offsets.keySet());
            throw e;
        }
    }
}

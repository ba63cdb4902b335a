package io.apigw.authorizer.worker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.apache.kafka.clients.producer.Producer;
import org.jboss.logging.Logger;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.delivery.KeyedDispatcher;
import io.apigw.authorizer.delivery.Sweeps;
import io.apigw.authorizer.timing.DaemonThreads;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;

/**
 * Graceful stop: on SIGTERM no new request starts (records stop flowing in and stay unacknowledged), and the ones in
 * flight get up to {@code authorizer.shutdown-grace} to finish and publish their results, while Kafka, the clients
 * and the producers still work. Then whatever still runs is interrupted and left unacknowledged; the Kafka
 * connector commits what was answered and leaves the group, and the rest is redelivered to the next owner.
 *
 * <p>The producers are closed here, within {@link #PRODUCERS_CLOSE}, before the connector's own teardown: with the
 * broker gone, a send waits for metadata for {@code max.block.ms} (60 s) on the producer's only sending thread, and
 * the connector's close queues behind it, which made a SIGTERM outlast the pod's grace. What they still held was
 * not acknowledged by the broker, so its records' offsets were not committed either: it is redelivered.
 */
@ApplicationScoped
public class Drain {

    private static final Logger LOG = Logger.getLogger(Drain.class);

    /** Each producer gets this long to hand what it holds to the broker, before it is closed by force. */
    static final Duration PRODUCERS_CLOSE = Duration.ofSeconds(2);

    private final Duration grace;
    private final KeyedDispatcher dispatcher;
    private final KeyedDispatcher sweeps;
    private final KafkaClientService kafka;
    private volatile boolean tearingDown;

    public Drain(AuthorizerConfig config, KeyedDispatcher dispatcher,
            @Sweeps KeyedDispatcher sweeps, KafkaClientService kafka, MeterRegistry registry) {
        this.grace = config.shutdownGrace();
        this.dispatcher = dispatcher;
        this.sweeps = sweeps;
        this.kafka = kafka;
        Gauge.builder("authorizer.inflight", dispatcher, KeyedDispatcher::running)
                .description("Requests being handled right now").strongReference(true).register(registry);
    }

    boolean draining() {
        return dispatcher.draining();
    }

    /** The grace is over: what still runs is being interrupted. */
    boolean tearingDown() {
        return tearingDown;
    }

    /** Runs before every other shutdown observer, while the connectors and clients still work. */
    void onShutdown(@Observes @Priority(0) ShutdownEvent event) throws InterruptedException {
        int running = dispatcher.running();
        if (running > 0) {
            LOG.infof("shutting down: waiting up to %ss for %d requests in flight", grace.toSeconds(), running);
        }
        int unfinished;
        long started = System.nanoTime();
        try {
            // Sweep checks are read-only and redelivered if cut short: they get what the requests leave of the grace.
            sweeps.drain(Duration.ZERO);
            unfinished = dispatcher.drain(grace);
            unfinished += sweeps.drain(grace.minusNanos(System.nanoTime() - started));
        } finally {
            tearingDown = true;
        }
        if (unfinished > 0) {
            LOG.warnf("shutting down with %d requests unfinished; they will be redelivered", unfinished);
            dispatcher.shutdownNow();
            sweeps.shutdownNow();
        }
        closeProducers();
    }

    /** All at once, each within {@link #PRODUCERS_CLOSE}: one stuck producer does not take the others' time. */
    private void closeProducers() {
        try {
            List<CompletableFuture<Void>> closes = new ArrayList<>();
            for (String channel : kafka.getProducerChannels()) {
                Producer<?, ?> producer = kafka.getProducer(channel).unwrap();
                closes.add(CompletableFuture.runAsync(() -> producer.close(PRODUCERS_CLOSE),
                        runnable -> DaemonThreads.daemon(runnable, "close-" + channel).start()));
            }
            CompletableFuture.allOf(closes.toArray(CompletableFuture[]::new))
                    .get(PRODUCERS_CLOSE.plusSeconds(1).toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            LOG.warnf("shutting down: the producers did not all close cleanly (%s)", e.getClass().getSimpleName());
        }
    }
}

package io.apigw.authorizer.health;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.jboss.logging.Logger;

import io.apigw.authorizer.timing.DaemonThreads;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.health.SmallRyeHealthReporter;

/**
 * {@code authorizer_ready}: 1 while {@code /q/health/ready} is UP, else 0, so that Prometheus can alert on a worker
 * that runs but is not ready (e.g. a Kafka principal without its ACLs) without kube-state-metrics. Evaluated on a
 * timer of its own, never on the scrape: a check waiting for Kafka must not stall the scrape.
 */
@ApplicationScoped
public class ReadinessGauge {

    private static final Logger LOG = Logger.getLogger(ReadinessGauge.class);
    private static final long PERIOD_SECONDS = 15;

    private final SmallRyeHealthReporter health;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            DaemonThreads.named("readiness-gauge"));
    private volatile int ready;

    public ReadinessGauge(SmallRyeHealthReporter health, MeterRegistry registry) {
        this.health = health;
        Gauge.builder("authorizer.ready", this, g -> g.ready)
                .description("1 while the readiness checks are UP (evaluated every 15 s), else 0")
                .strongReference(true).register(registry);
    }

    void start(@Observes StartupEvent event) {
        timer.scheduleWithFixedDelay(this::evaluate, 0, PERIOD_SECONDS, TimeUnit.SECONDS);
    }

    private void evaluate() {
        try {
            ready = health.getReadiness().isDown() ? 0 : 1;
        } catch (RuntimeException e) {
            ready = 0;
            LOG.debugf("readiness could not be evaluated: %s", e);
        }
    }

    @PreDestroy
    void stop() {
        timer.shutdownNow();
    }
}

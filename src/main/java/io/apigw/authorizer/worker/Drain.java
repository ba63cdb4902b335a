package io.apigw.authorizer.worker;

import java.time.Duration;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.jboss.logging.Logger;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.quarkus.runtime.ShutdownEvent;

/**
 * Graceful stop: on SIGTERM no new authorization starts, and the ones in flight get up to
 * {@code authorizer.shutdown-grace} to finish and publish their results before Kafka, HTTP clients and the worker
 * pool are closed. The Kafka connector then commits what was done; anything not done stays uncommitted and is
 * redelivered.
 */
@ApplicationScoped
public class Drain {

    private static final Logger LOG = Logger.getLogger(Drain.class);

    private final Duration grace;
    private int inFlight;
    private boolean draining;
    private boolean tearingDown;

    public Drain(AuthorizerConfig config, io.micrometer.core.instrument.MeterRegistry registry) {
        this.grace = config.shutdownGrace();
        io.micrometer.core.instrument.Gauge.builder("authorizer.inflight", this, Drain::inFlight)
                .description("Requests being handled right now").strongReference(true).register(registry);
    }

    synchronized boolean enter() {
        if (draining) {
            return false;
        }
        inFlight++;
        return true;
    }

    synchronized void leave() {
        inFlight--;
        notifyAll();
    }

    synchronized boolean draining() {
        return draining;
    }

    /** The grace is over: clients and connectors are being closed under whatever still runs. */
    synchronized boolean tearingDown() {
        return tearingDown;
    }

    public synchronized int inFlight() {
        return inFlight;
    }

    /** Runs before every other shutdown observer, while the connectors and clients still work. */
    void onShutdown(@Observes @Priority(0) ShutdownEvent event) throws InterruptedException {
        long deadline = System.nanoTime() + grace.toNanos();
        synchronized (this) {
            draining = true;
            try {
                if (inFlight > 0) {
                    LOG.infof("shutting down: waiting up to %ss for %d authorizations in flight", grace.toSeconds(),
                            inFlight);
                }
                while (inFlight > 0 && System.nanoTime() < deadline) {
                    wait(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                }
                if (inFlight > 0) {
                    LOG.warnf("shutting down with %d authorizations unfinished; they will be redelivered", inFlight);
                }
            } finally {
                tearingDown = true;
            }
        }
    }
}

package io.apigw.authorizer.metrics;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.Gauge;

import java.time.Duration;
import java.util.function.Supplier;
import java.util.stream.Stream;

import jakarta.enterprise.context.ApplicationScoped;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * What operators watch on {@code /q/metrics}: requests by type, outcome and code; end-to-end and per-step latency
 * histograms; retries; dead letters; the token controller's wait. In-flight work is a gauge registered by
 * {@code Drain}.
 */
@ApplicationScoped
public class AuthorizerMetrics {

    /**
     * Histogram buckets of every timer, in seconds. One request may take minutes at worst (its deadline, about 2 min,
     * plus waiting behind its cluster's earlier requests), beyond Micrometer's default percentile histogram, which
     * stops at 30 s (with dozens of buckets). These 15 reach 10 min, are finest where a healthy request lies (10 ms to 1 s),
     * and are the same for every timer so that the dashboard and the alerts compare like with like.
     */
    private static final Duration[] SLOS = Stream.of(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
            120.0, 300.0, 600.0).map(s -> Duration.ofMillis(Math.round(s * 1000))).toArray(Duration[]::new);

    private final MeterRegistry registry;

    private final Counter deadLetters;
    private final Counter sweepChecksSent;
    private final Counter repairsSent;
    private final Counter revocationsFailed;
    private final AtomicLong sweepLeader = new AtomicLong();
    private final AtomicLong sweepCompleted = new AtomicLong();
    private final Map<String, AtomicLong> sweepClusters = new LinkedHashMap<>();
    private final Map<Integer, AtomicLong> policyClusters = new LinkedHashMap<>();
    private final AtomicLong rolloutPaused = new AtomicLong();

    public AuthorizerMetrics(MeterRegistry registry) {
        this.registry = registry;
        // Served at 0 from the start: a counter that appears at 1 hides its first increase from rate() and increase().
        this.deadLetters = Counter.builder("authorizer.dead.letters")
                .description("Records forwarded to the dead-letter topic").register(registry);
        this.sweepChecksSent = Counter.builder("authorizer.sweep.checks.sent")
                .description("Sweep checks sent to the sweeps topic by this replica (the sweeper)").register(registry);
        this.repairsSent = Counter.builder("authorizer.sweep.repairs.sent")
                .description("Conditional re-authorizations sent to the request topic after a sweep's check")
                .register(registry);
        this.revocationsFailed = Counter.builder("authorizer.revocations.failed")
                .description("Old token Secrets whose due revocation could not be completed (tried again later)")
                .register(registry);
        Gauge.builder("authorizer.sweep.leader", sweepLeader, AtomicLong::get)
                .description("1 on the replica that holds the sweeper Lease").strongReference(true).register(registry);
        Gauge.builder("authorizer.sweep.last.completed.timestamp", sweepCompleted, AtomicLong::get).baseUnit("seconds")
                .description("When the last sweep had a verdict for every stored credential (0: none yet here)")
                .strongReference(true).register(registry);
    }

    /** Clusters per state in the last sweep; served by the sweeper only (0 elsewhere), so sum them across replicas. */
    public synchronized void sweepStates(List<String> states) {
        for (String state : states) {
            sweepClusters.computeIfAbsent(state, s -> {
                AtomicLong v = new AtomicLong();
                Gauge.builder("authorizer.sweep.clusters", v, AtomicLong::get).tag("state", s)
                        .description("Clusters by the state the last sweep found").strongReference(true)
                        .register(registry);
                return v;
            });
        }
    }

    public synchronized void sweepTally(Map<String, Long> byState, Instant completed) {
        sweepClusters.forEach((state, v) -> v.set(byState.getOrDefault(state, 0L)));
        if (completed != null) {
            sweepCompleted.set(completed.getEpochSecond());
        }
    }

    /** Stored credentials per policy version, as the sweeper last read them (0 elsewhere, like the sweep's). */
    public synchronized void policyVersions(List<Integer> versions) {
        for (int version : versions) {
            policyClusters.computeIfAbsent(version, n -> {
                AtomicLong v = new AtomicLong();
                Gauge.builder("authorizer.policy.clusters", v, AtomicLong::get).tag("version", String.valueOf(n))
                        .description("Authorized clusters by the policy version of their ClusterRole")
                        .strongReference(true).register(registry);
                return v;
            });
        }
        for (String outcome : List.of("moved", "failed")) {
            rolloutCounter(outcome);
        }
        Gauge.builder("authorizer.rollout.paused", rolloutPaused, AtomicLong::get)
                .description("1 while the sweeper finds the policy rollout paused (by an operator or a failed wave)")
                .strongReference(true).register(registry);
    }

    public synchronized void policyTally(Map<Integer, Long> byVersion) {
        policyClusters.forEach((version, v) -> v.set(byVersion.getOrDefault(version, 0L)));
    }

    public void rolloutPaused(boolean paused) {
        rolloutPaused.set(paused ? 1 : 0);
    }

    /** A wave's cluster settled: {@code moved} to the target version, or {@code failed} to within the wave timeout. */
    public void rolloutCluster(String outcome, long count) {
        rolloutCounter(outcome).increment(count);
    }

    private Counter rolloutCounter(String outcome) {
        return Counter.builder("authorizer.rollout.clusters").description("Clusters of rollout waves, by outcome")
                .tag("outcome", outcome).register(registry);
    }

    /** Leadership moves: the gauges of the last sweep belong to the new leader from now on. */
    public synchronized void sweepLeader(boolean leading) {
        sweepLeader.set(leading ? 1 : 0);
        if (!leading) {
            sweepClusters.values().forEach(v -> v.set(0));
            policyClusters.values().forEach(v -> v.set(0));
            rolloutPaused.set(0);
            sweepCompleted.set(0);
        }
    }

    public void sweepCheckSent() {
        sweepChecksSent.increment();
    }

    public void revocationFailed() {
        revocationsFailed.increment();
    }

    public void repairSent() {
        repairsSent.increment();
    }

    public void outcome(String type, String outcome, String code, Duration took) {
        Counter.builder("authorizer.requests").description("Requests answered, by type, outcome and failure code")
                .tag("type", type).tag("outcome", outcome).tag("code", code).register(registry).increment();
        Timer.builder("authorizer.request.duration").description("Record received to result published")
                .tag("type", type).tag("outcome", outcome).serviceLevelObjectives(SLOS)
                .register(registry).record(took);
    }

    /** Times one step of a request ({@code directory}, {@code grant}, {@code credential}, {@code publish}). */
    public <T> T step(String step, Supplier<T> work) {
        Timer.Sample sample = Timer.start(registry);
        try {
            return work.get();
        } finally {
            sample.stop(Timer.builder("authorizer.step.duration").description("Latency of one step of a request")
                    .tag("step", step).serviceLevelObjectives(SLOS).register(registry));
        }
    }

    public void retry(String code) {
        Counter.builder("authorizer.retries").description("Attempts repeated after a transient failure")
                .tag("code", code).register(registry).increment();
    }

    public void deadLetter() {
        deadLetters.increment();
    }

    public void tokenWait(Duration took, boolean issued) {
        Timer.builder("authorizer.token.wait").description("Waiting for the token controller to fill the token Secret")
                .tag("issued", Boolean.toString(issued)).serviceLevelObjectives(SLOS).register(registry).record(took);
    }

    public void step(String step, Runnable work) {
        step(step, () -> {
            work.run();
            return null;
        });
    }

}

package io.apigw.authorizer.sweep;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.jboss.logging.Logger;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.config.AuthorizerConfig.DirectoryType;
import io.apigw.authorizer.credential.CredentialStore;
import io.apigw.authorizer.credential.CredentialStore.Registered;
import io.apigw.authorizer.metrics.AuthorizerMetrics;
import io.apigw.authorizer.policy.Policy;
import io.apigw.authorizer.timing.DaemonThreads;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;

/**
 * Schedules sweeps, on the one replica that holds the sweeper Lease. Sweeps are aligned to the interval on the wall
 * clock, so a sweep's id is its interval's start and a new leader continues the current sweep: it sends checks only
 * for the credentials that have no verdict of this sweep yet, spread over the time that is left. Then it waits for
 * the verdicts (recorded on each credential Secret by whichever replica ran the check) and serves the tally. With
 * repair on, it then rolls the configured policy version out to the clusters this sweep found authorized, in waves,
 * and pauses the rollout (an annotation on its Lease, so that it outlives the leader) when a wave fails too often.
 */
@ApplicationScoped
public class Sweeper {

    private static final Logger LOG = Logger.getLogger(Sweeper.class);
    static final java.util.regex.Pattern SWEEP_ID_PATTERN = java.util.regex.Pattern.compile("\\d{8}T\\d{6}Z");
    private static final DateTimeFormatter SWEEP_ID = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);
    /** Checks go out in this share of the time left; the rest is for their verdicts to come back. */
    private static final double SENDING_SHARE = 0.8;
    /** How often the registry is read while verdicts are awaited, at most. */
    private static final Duration TALLY_POLL = Duration.ofSeconds(5);
    /** After a failure (the worker's own cluster or Kafka), the sweep is resumed after this pause. */
    private static final Duration RESUME_AFTER = Duration.ofSeconds(10);
    /** On the sweeper Lease, any value pauses the rollout (the worker writes why); removing it resumes the rollout. */
    public static final String ROLLOUT_PAUSED_ANNOTATION = RolloutLease.PAUSED_ANNOTATION;
    /** How often the registry is read while a wave settles. */
    private static final Duration WAVE_POLL = TALLY_POLL;

    private final AuthorizerConfig.Sweep config;
    private final Optional<Double> tenantRate;
    private final String namespace;
    private final CredentialStore credentials;
    private final SweepRequests requests;
    private final AuthorizerMetrics metrics;
    private final KubernetesClient ownCluster;
    private final AuthorizerConfig.Rollout rollout;
    private final int targetPolicy;
    /** Clusters whose move to the target failed while this replica leads: later waves take them last. */
    private final Map<String, Integer> failedBefore = new java.util.HashMap<>();
    private final String identity;
    private final RolloutLease rolloutLease;
    private CompletableFuture<?> election;
    private volatile boolean stopping;
    private volatile Thread leading;

    public Sweeper(AuthorizerConfig config, CredentialStore credentials, SweepRequests requests,
            AuthorizerMetrics metrics, KubernetesClient ownCluster) {
        this.config = config.sweep();
        // The kubeconfig directory makes no cloud calls, so no tenant's account needs a budget.
        this.tenantRate = config.directory().type() == DirectoryType.tke ? Optional.of(this.config.tenantRate())
                : Optional.empty();
        this.namespace = config.credentials().namespace();
        this.credentials = credentials;
        this.requests = requests;
        this.metrics = metrics;
        this.ownCluster = ownCluster;
        this.rollout = config.rollout();
        if (rollout.waveSize() < 1 || rollout.failureThreshold() < 0 || rollout.failureThreshold() >= 1
                || rollout.waveTimeout().isNegative() || rollout.waveTimeout().isZero()) {
            throw new IllegalArgumentException("authorizer.rollout: wave-size must be at least 1, failure-threshold "
                    + "from 0 to below 1, wave-timeout positive");
        }
        // Made at start-up (it observes StartupEvent): an unknown version stops the worker before any request.
        this.targetPolicy = Policy.configured(config.policy().version()).version();
        String host = System.getenv().getOrDefault("HOSTNAME", "worker");
        this.identity = host + "-" + UUID.randomUUID().toString().substring(0, 8);
        this.rolloutLease = new RolloutLease(ownCluster, namespace, this.config.lease().name(), identity);
        metrics.sweepStates(Arrays.stream(SweepState.values()).map(Enum::name).toList());
        metrics.policyVersions(Policy.versions());
    }

    void start(@Observes StartupEvent event) {
        if (config.interval().isZero() || config.interval().isNegative()) {
            LOG.info("sweep: off (authorizer.sweep.interval=0)");
            return;
        }
        elect();
    }

    /**
     * Stands for the Lease until this replica stops. fabric8's elector ends for good once a renewal fails (the own
     * cluster did not answer within the renew deadline), so a new one is started: a blip never takes a replica out of
     * the election.
     */
    private synchronized void elect() {
        if (stopping) {
            return;
        }
        AuthorizerConfig.Sweep.Lease lease = config.lease();
        election = ownCluster.leaderElector().withConfig(new LeaderElectionConfigBuilder()
                .withName(lease.name())
                .withLock(new LeaseLock(namespace, lease.name(), identity))
                .withLeaseDuration(lease.duration())
                .withRenewDeadline(lease.renewDeadline())
                .withRetryPeriod(lease.retryPeriod())
                // A replica that stops hands the Lease over at once; one that dies, after the lease duration.
                .withReleaseOnCancel(true)
                .withLeaderCallbacks(new LeaderCallbacks(this::startLeading, this::stopLeading,
                        leader -> LOG.infof("sweep: the sweeper is %s", leader)))
                .build()).build().start();
        election.whenComplete((done, failure) -> {
            if (!stopping) {
                CompletableFuture.delayedExecutor(lease.retryPeriod().toMillis(), TimeUnit.MILLISECONDS)
                        .execute(this::elect);
            }
        });
    }

    /** Before the drain: a stopping replica stops sending first, then hands the Lease over. */
    void stop(@Observes @Priority(-1) ShutdownEvent event) {
        stopping = true;
        stopLeading();
        CompletableFuture<?> e;
        synchronized (this) {
            e = election;
        }
        if (e != null) {
            e.cancel(true);
        }
    }

    private synchronized void startLeading() {
        LOG.infof("sweep: %s leads; every %s, at most %s checks/s", identity, config.interval(), config.rate());
        metrics.sweepLeader(true);
        Thread t = DaemonThreads.daemon(this::lead, "sweeper");
        leading = t;
        t.start();
    }

    private synchronized void stopLeading() {
        Thread t = leading;
        leading = null;
        if (t != null) {
            t.interrupt();
            metrics.sweepLeader(false);
            LOG.infof("sweep: %s no longer leads", identity);
        }
    }

    private void lead() {
        long interval = config.interval().toMillis();
        while (leading == Thread.currentThread()) {
            long now = System.currentTimeMillis();
            Instant start = Instant.ofEpochMilli(now - now % interval);
            Instant end = start.plusMillis(interval);
            try {
                sweep(SWEEP_ID.format(start), end);
                pauseUntil(end);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                if (leading != Thread.currentThread()) {
                    return;
                }
                // Logged by type only: a message may quote what it saw. The sweep resumes where its verdicts end.
                LOG.warnf("sweep: interrupted by %s; resuming in %ss", e.getClass().getSimpleName(),
                        RESUME_AFTER.toSeconds());
                try {
                    Thread.sleep(RESUME_AFTER.toMillis());
                } catch (InterruptedException stop) {
                    return;
                }
            }
        }
    }

    /** One sweep: the checks it still needs, then its verdicts until the interval ends. */
    private void sweep(String sweepId, Instant end) throws InterruptedException {
        if (config.repair()) {
            try {
                // Served from the start of each sweep, so that a resume clears the alert within one interval.
                metrics.rolloutPaused(rolloutLease.pause().isPresent());
            } catch (RuntimeException e) {
                // read again after the verdicts
            }
            // A wave a sweeper started and did not judge (it stopped, or lost the Lease, mid-wave) is judged first:
            // this sweep's verdicts change every credential's version, after which its clusters would all look
            // superseded.
            Optional<RolloutLease.Wave> unjudged = rolloutLease.inFlight();
            if (unjudged.isPresent()) {
                judge(sweepId, unjudged.get());
            }
        }
        List<Registered> listed = credentials.registry();
        if (tenantRate.isPresent()) {
            // The TKE directory needs the region, which authorize records only since v1.3: such a credential is
            // checked once an authorize (or its next repair by the console) has recorded it.
            List<Registered> placed = listed.stream().filter(r -> r.region().isPresent()).toList();
            if (placed.size() < listed.size()) {
                LOG.infof("sweep %s: %d stored credentials have no recorded region (stored before v1.3) and are left "
                        + "out until an authorize records it", sweepId, listed.size() - placed.size());
            }
            listed = placed;
        }
        List<Registered> todo = listed.stream().filter(r -> !r.sweepId().equals(Optional.of(sweepId))).toList();
        if (!todo.isEmpty()) {
            Duration left = Duration.between(Instant.now(), end);
            SweepPlan plan = SweepPlan.of(todo, Duration.ofMillis((long) (left.toMillis() * SENDING_SHARE)),
                    config.rate(), tenantRate);
            LOG.infof("sweep %s: %d checks over %ss%s", sweepId, todo.size(), plan.length().toSeconds(),
                    plan.overruns() ? " (longer than the time left allows at the configured rates)" : "");
            long started = System.nanoTime();
            for (SweepPlan.Slot slot : plan.slots()) {
                long wait = started + slot.at().toNanos() - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
                if (leading != Thread.currentThread()) {
                    throw new InterruptedException();
                }
                requests.check(sweepId, slot.target());
                metrics.sweepCheckSent();
            }
        }
        awaitVerdicts(sweepId, end, listed.stream().map(Registered::clusterId).collect(Collectors.toSet()));
        if (config.repair()) {
            rollOut(sweepId, end);
        }
    }

    /**
     * Moves the clusters this sweep found authorized to the configured policy version, one wave at a time: each
     * wave's conditional authorizes go through the request topic, and the wave has settled when every one of its
     * clusters is on the new version, has changed otherwise, or the wave timeout has passed (then it failed). A wave
     * whose failures pass the threshold pauses the rollout; so does an operator, with the Lease annotation. Waves
     * start until the interval ends; the next sweep goes on with the clusters left, those that failed before last.
     */
    private void rollOut(String sweepId, Instant end) throws InterruptedException {
        Set<String> sent = new java.util.HashSet<>();
        while (Instant.now().isBefore(end)) {
            List<Registered> registry = credentials.registry();
            metrics.policyTally(policyVersions(registry));
            Optional<String> paused = rolloutLease.pause();
            metrics.rolloutPaused(paused.isPresent());
            failedBefore.values().removeIf(target -> target != targetPolicy);
            List<Registered> wave = Rollout.nextWave(registry, sweepId, targetPolicy, rollout.waveSize(), sent,
                    failedBefore.keySet());
            if (wave.isEmpty()) {
                return;
            }
            if (paused.isPresent()) {
                LOG.infof("sweep %s: the rollout of policy v%d is paused (%s=%s on Lease %s); %d stored credentials "
                        + "are on another version", sweepId, targetPolicy, ROLLOUT_PAUSED_ANNOTATION, paused.get(),
                        config.lease().name(), registry.stream().filter(r -> r.policyVersion() != targetPolicy)
                                .count());
                return;
            }
            RolloutLease.Wave started = RolloutLease.Wave.of(sweepId, targetPolicy,
                    Instant.now().plus(rollout.waveTimeout()), wave);
            // The fence: only while the Lease names this replica, whatever the clocks of the replicas say.
            if (!rolloutLease.claim(started)) {
                LOG.warnf("sweep %s: Lease %s names another sweeper now; this replica starts no wave", sweepId,
                        config.lease().name());
                return;
            }
            LOG.infof("sweep %s: rollout of policy v%d, a wave of %d: %s", sweepId, targetPolicy, wave.size(),
                    wave.stream().map(Registered::clusterId).toList());
            List<Registered> moving = send(sweepId, wave);
            sent.addAll(wave.stream().map(Registered::clusterId).toList());
            if (moving.isEmpty()) {
                rolloutLease.judged(started);
                return; // nothing could be sent (Kafka): the next sweep tries again
            }
            RolloutLease.Wave inFlight = RolloutLease.Wave.of(sweepId, targetPolicy, started.until(), moving);
            if (moving.size() < wave.size() && !rolloutLease.replace(started, inFlight)) {
                // Recorded as claimed: a successor would count the clusters that were never sent as failed.
                LOG.warnf("sweep %s: the wave's record on Lease %s could not be narrowed to the clusters sent",
                        sweepId, config.lease().name());
            }
            // A wave that has started is judged, even past the interval's end: the next sweep waits for it.
            boolean pausedNow = judge(sweepId, inFlight);
            rolloutLease.judged(started);
            if (pausedNow) {
                return;
            }
        }
    }

    /**
     * Waits for a wave to settle (or its time to end), counts it and pauses the rollout if too many of its clusters
     * failed. A wave of another target (the configuration changed since) is not judged.
     *
     * @return whether the rollout is paused now
     */
    private boolean judge(String sweepId, RolloutLease.Wave wave) throws InterruptedException {
        if (wave.target() != targetPolicy) {
            rolloutLease.judged(wave);
            return false;
        }
        if (!wave.sweepId().equals(sweepId)) {
            LOG.infof("sweep %s: judging the wave of sweep %s that a sweeper started: %s", sweepId, wave.sweepId(),
                    wave.sent().keySet());
        }
        Rollout.Wave outcome = settle(wave.clusters(), wave.until());
        metrics.rolloutCluster("moved", outcome.moved().size());
        metrics.rolloutCluster("failed", outcome.pending().size());
        outcome.pending().forEach(id -> failedBefore.put(id, targetPolicy));
        outcome.moved().forEach(failedBefore::remove);
        boolean pauses = outcome.pauses(rollout.failureThreshold());
        if (pauses) {
            pauseRollout(sweepId, outcome.pending().size() + " of " + (outcome.moved().size()
                    + outcome.pending().size()) + " clusters of a wave failed to move to policy v" + targetPolicy
                    + " (sweep " + wave.sweepId() + "; first: " + outcome.pending().get(0) + ")");
        }
        rolloutLease.judged(wave);
        return pauses;
    }

    /** The wave's rollout authorizes; a cluster whose request cannot be sent is left for the next sweep. */
    private List<Registered> send(String sweepId, List<Registered> wave) throws InterruptedException {
        List<Registered> moving = new java.util.ArrayList<>();
        for (Registered r : wave) {
            if (leading != Thread.currentThread()) {
                throw new InterruptedException();
            }
            try {
                requests.rollout(sweepId, r, targetPolicy);
                moving.add(r);
            } catch (RuntimeException e) {
                LOG.warnf("sweep %s: the rollout request for %s could not be sent (%s)", sweepId, r.clusterId(),
                        e.getClass().getSimpleName());
            }
        }
        return moving;
    }

    /** Reads the registry until the wave has settled or {@code until}; what is still pending then has failed. */
    private Rollout.Wave settle(List<Registered> wave, Instant until) throws InterruptedException {
        Rollout.Wave now = Rollout.Wave.of(wave, wave, targetPolicy);
        while (true) {
            pauseUntil(min(until, Instant.now().plus(WAVE_POLL)));
            try {
                now = Rollout.Wave.of(wave, credentials.registry(), targetPolicy);
            } catch (RuntimeException e) {
                // A missed poll: the wave is judged by the next one, or by the last good one at its timeout.
            }
            if (now.settled() || !Instant.now().isBefore(until)) {
                return now;
            }
        }
    }

    private static Map<Integer, Long> policyVersions(List<Registered> registry) {
        return registry.stream().collect(Collectors.groupingBy(Registered::policyVersion, Collectors.counting()));
    }

    /** Records the pause on the Lease, unless one is recorded already: an operator's reason is not overwritten. */
    private void pauseRollout(String sweepId, String why) {
        LOG.warnf("sweep %s: rollout paused: %s; see the clusters' Failed results (trigger rollout), then remove %s "
                + "from Lease %s to resume", sweepId, why, ROLLOUT_PAUSED_ANNOTATION, config.lease().name());
        metrics.rolloutPaused(true);
        try {
            rolloutLease.pause(why);
        } catch (RuntimeException e) {
            // Not recorded: no wave starts in this sweep; the next sweep judges the clusters again.
            LOG.warnf("sweep %s: the rollout pause could not be recorded on Lease %s (%s)", sweepId,
                    config.lease().name(), e.getClass().getSimpleName());
        }
    }

    /** Until every listed credential still stored has this sweep's verdict; one stored since waits for the next. */
    private void awaitVerdicts(String sweepId, Instant end, Set<String> listed) throws InterruptedException {
        while (true) {
            List<Registered> registry;
            List<Registered> all;
            try {
                registry = credentials.registry();
                all = registry.stream().filter(r -> listed.contains(r.clusterId())).toList();
            } catch (RuntimeException e) {
                // A missed poll is not a failed sweep: sending again would only duplicate the checks.
                pauseUntil(min(end, Instant.now().plus(TALLY_POLL)));
                if (!Instant.now().isBefore(end)) {
                    return;
                }
                continue;
            }
            Map<String, Long> byState = all.stream().collect(Collectors.groupingBy(r -> state(r, sweepId),
                    Collectors.counting()));
            boolean complete = !byState.containsKey(SweepState.unchecked.name());
            if (complete || !Instant.now().isBefore(end)) {
                metrics.sweepTally(byState, complete ? Instant.now() : null);
                metrics.policyTally(policyVersions(registry));
                LOG.infof("sweep %s: %s%s", sweepId, byState, complete ? "" : " (unfinished when its interval ended)");
                return;
            }
            pauseUntil(min(end, Instant.now().plus(TALLY_POLL)));
        }
    }

    private static final Set<String> STATES = Arrays.stream(SweepState.values()).map(Enum::name)
            .collect(Collectors.toSet());

    private static String state(Registered r, String sweepId) {
        return r.sweepId().equals(Optional.of(sweepId)) ? r.sweepState().filter(STATES::contains)
                .orElse(SweepState.unchecked.name()) : SweepState.unchecked.name();
    }

    private static Instant min(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }

    /** Never returns early: a sleep rounded down would start the same interval's sweep again. */
    private static void pauseUntil(Instant at) throws InterruptedException {
        Instant now;
        while ((now = Instant.now()).isBefore(at)) {
            Thread.sleep(Math.max(1, Duration.between(now, at).toMillis()));
        }
    }
}

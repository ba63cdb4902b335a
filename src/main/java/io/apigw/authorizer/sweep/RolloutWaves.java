package io.apigw.authorizer.sweep;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import org.jboss.logging.Logger;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.credential.CredentialStore;
import io.apigw.authorizer.credential.CredentialStore.Registered;
import io.apigw.authorizer.metrics.AuthorizerMetrics;
import io.apigw.authorizer.marks.Marks;

/**
 * The sweeper's rollout of the configured policy version, after a sweep's verdicts: waves of conditional authorizes
 * through the request topic, each claimed on the sweeper's Lease while this replica holds it, settled by reading the
 * registry, judged ({@link Rollout}) and, when too many of its clusters failed, the rollout paused on the Lease. A
 * wave a sweeper started and did not judge is judged by the next sweep first. Runs on the sweeper's thread only.
 */
final class RolloutWaves {

    private static final Logger LOG = Logger.getLogger(RolloutWaves.class);
    /** How often the registry is read while a wave settles. */
    private static final Duration WAVE_POLL = Duration.ofSeconds(5);

    private final CredentialStore credentials;
    private final SweepRequests requests;
    private final AuthorizerMetrics metrics;
    private final RolloutLease lease;
    private final AuthorizerConfig.Rollout rollout;
    private final int targetPolicy;
    /** Whether this replica still leads: a sweeper that lost the Lease sends nothing more. */
    private final BooleanSupplier leading;
    /** Clusters whose move to the target failed while this replica leads: later waves take them last. */
    private final Map<String, Integer> failedBefore = new HashMap<>();

    RolloutWaves(CredentialStore credentials, SweepRequests requests, AuthorizerMetrics metrics, RolloutLease lease,
            AuthorizerConfig.Rollout rollout, int targetPolicy, BooleanSupplier leading) {
        this.credentials = credentials;
        this.requests = requests;
        this.metrics = metrics;
        this.lease = lease;
        this.rollout = rollout;
        this.targetPolicy = targetPolicy;
        this.leading = leading;
    }

    /**
     * At a sweep's start: serves whether the rollout is paused (so that a resume clears the alert within one
     * interval), and judges a wave a sweeper started and did not judge (it stopped, or lost the Lease, mid-wave):
     * this sweep's verdicts change every credential's version, after which its clusters would all look superseded.
     */
    void beforeSweep(String sweepId) throws InterruptedException {
        try {
            metrics.rolloutPaused(lease.pause().isPresent());
        } catch (RuntimeException e) {
            // read again after the verdicts
        }
        Optional<RolloutLease.Wave> unjudged = lease.inFlight();
        if (unjudged.isPresent()) {
            judge(sweepId, unjudged.get());
        }
    }

    /**
     * Moves the clusters this sweep found authorized to the configured policy version, one wave at a time: each
     * wave's conditional authorizes go through the request topic, and the wave has settled when every one of its
     * clusters is on the new version, has changed otherwise, or the wave timeout has passed (then it failed). A wave
     * whose failures pass the threshold pauses the rollout; so does an operator, with the Lease annotation. Waves
     * start until the interval ends; the next sweep goes on with the clusters left, those that failed before last.
     */
    void rollOut(String sweepId, Instant end) throws InterruptedException {
        Set<String> sent = new HashSet<>();
        while (Instant.now().isBefore(end)) {
            List<Registered> registry = credentials.registry();
            metrics.policyTally(policyVersions(registry));
            Optional<String> paused = lease.pause();
            metrics.rolloutPaused(paused.isPresent());
            failedBefore.values().removeIf(target -> target != targetPolicy);
            List<Registered> wave = Rollout.nextWave(registry, sweepId, targetPolicy, rollout.waveSize(), sent,
                    failedBefore.keySet());
            if (wave.isEmpty()) {
                return;
            }
            if (paused.isPresent()) {
                LOG.infof("sweep %s: the rollout of policy v%d is paused (%s=%s on Lease %s); %d stored credentials "
                        + "are on another version", sweepId, targetPolicy, Marks.ROLLOUT_PAUSED, paused.get(),
                        lease.name(), registry.stream().filter(r -> r.policyVersion() != targetPolicy).count());
                return;
            }
            if (!runWave(sweepId, wave, sent)) {
                return;
            }
        }
    }

    /**
     * Claims the wave on the Lease, sends its authorizes and judges it.
     *
     * @return whether the rollout goes on with another wave
     */
    private boolean runWave(String sweepId, List<Registered> wave, Set<String> sent) throws InterruptedException {
        RolloutLease.Wave started = RolloutLease.Wave.of(sweepId, targetPolicy,
                Instant.now().plus(rollout.waveTimeout()), wave);
        // The fence: only while the Lease names this replica, whatever the clocks of the replicas say.
        if (!lease.claim(started)) {
            LOG.warnf("sweep %s: Lease %s names another sweeper now; this replica starts no wave", sweepId,
                    lease.name());
            return false;
        }
        LOG.infof("sweep %s: rollout of policy v%d, a wave of %d: %s", sweepId, targetPolicy, wave.size(),
                wave.stream().map(Registered::clusterId).toList());
        List<Registered> moving = send(sweepId, wave);
        sent.addAll(wave.stream().map(Registered::clusterId).toList());
        if (moving.isEmpty()) {
            lease.judged(started);
            return false; // nothing could be sent (Kafka): the next sweep tries again
        }
        RolloutLease.Wave inFlight = RolloutLease.Wave.of(sweepId, targetPolicy, started.until(), moving);
        if (moving.size() < wave.size() && !lease.replace(started, inFlight)) {
            // Recorded as claimed: a successor would count the clusters that were never sent as failed.
            LOG.warnf("sweep %s: the wave's record on Lease %s could not be narrowed to the clusters sent",
                    sweepId, lease.name());
        }
        // A wave that has started is judged, even past the interval's end: the next sweep waits for it.
        boolean pausedNow = judge(sweepId, inFlight);
        lease.judged(started);
        return !pausedNow;
    }

    /**
     * Waits for a wave to settle (or its time to end), counts it and pauses the rollout if too many of its clusters
     * failed. A wave of another target (the configuration changed since) is not judged.
     *
     * @return whether the rollout is paused now
     */
    private boolean judge(String sweepId, RolloutLease.Wave wave) throws InterruptedException {
        if (wave.target() != targetPolicy) {
            lease.judged(wave);
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
        lease.judged(wave);
        return pauses;
    }

    /** The wave's rollout authorizes; a cluster whose request cannot be sent is left for the next sweep. */
    private List<Registered> send(String sweepId, List<Registered> wave) throws InterruptedException {
        List<Registered> moving = new ArrayList<>();
        for (Registered r : wave) {
            if (!leading.getAsBoolean()) {
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
            WallClock.pauseUntil(WallClock.min(until, Instant.now().plus(WAVE_POLL)));
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

    static Map<Integer, Long> policyVersions(List<Registered> registry) {
        return registry.stream().collect(Collectors.groupingBy(Registered::policyVersion, Collectors.counting()));
    }

    /** Records the pause on the Lease, unless one is recorded already: an operator's reason is not overwritten. */
    private void pauseRollout(String sweepId, String why) {
        LOG.warnf("sweep %s: rollout paused: %s; see the clusters' Failed results (trigger rollout), then remove %s "
                + "from Lease %s to resume", sweepId, why, Marks.ROLLOUT_PAUSED, lease.name());
        metrics.rolloutPaused(true);
        try {
            lease.pause(why);
        } catch (RuntimeException e) {
            // Not recorded: no wave starts in this sweep; the next sweep judges the clusters again.
            LOG.warnf("sweep %s: the rollout pause could not be recorded on Lease %s (%s)", sweepId,
                    lease.name(), e.getClass().getSimpleName());
        }
    }

}

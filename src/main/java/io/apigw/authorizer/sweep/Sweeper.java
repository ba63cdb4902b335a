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
import io.apigw.authorizer.config.SweepConfig;
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
import java.util.regex.Pattern;

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
    static final Pattern SWEEP_ID_PATTERN = Pattern.compile("\\d{8}T\\d{6}Z");
    private static final DateTimeFormatter SWEEP_ID = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);
    /** Checks go out in this share of the time left; the rest is for their verdicts to come back. */
    private static final double SENDING_SHARE = 0.8;
    /** How often the registry is read while verdicts are awaited, at most. */
    private static final Duration TALLY_POLL = Duration.ofSeconds(5);
    /** After a failure (the worker's own cluster or Kafka), the sweep is resumed after this pause. */
    private static final Duration RESUME_AFTER = Duration.ofSeconds(10);

    private final SweepConfig config;
    private final Optional<Double> tenantRate;
    private final String namespace;
    private final CredentialStore credentials;
    private final SweepRequests requests;
    private final AuthorizerMetrics metrics;
    private final KubernetesClient ownCluster;
    private final String identity;
    private final RolloutWaves waves;
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
        AuthorizerConfig.Rollout rollout = config.rollout();
        if (rollout.waveSize() < 1 || rollout.failureThreshold() < 0 || rollout.failureThreshold() >= 1
                || rollout.waveTimeout().isNegative() || rollout.waveTimeout().isZero()) {
            throw new IllegalArgumentException("authorizer.rollout: wave-size must be at least 1, failure-threshold "
                    + "from 0 to below 1, wave-timeout positive");
        }
        String host = System.getenv().getOrDefault("HOSTNAME", "worker");
        this.identity = host + "-" + UUID.randomUUID().toString().substring(0, 8);
        // Made at start-up (it observes StartupEvent): an unknown version stops the worker before any request.
        this.waves = new RolloutWaves(credentials, requests, metrics,
                new RolloutLease(ownCluster, namespace, this.config.lease().name(), identity), rollout, Policy.configured(config.policy().version()).version(),
                () -> leading == Thread.currentThread());
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
        SweepConfig.Lease lease = config.lease();
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
                WallClock.pauseUntil(end);
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
            waves.beforeSweep(sweepId);
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
            waves.rollOut(sweepId, end);
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
                WallClock.pauseUntil(WallClock.min(end, Instant.now().plus(TALLY_POLL)));
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
                metrics.policyTally(RolloutWaves.policyVersions(registry));
                LOG.infof("sweep %s: %s%s", sweepId, byState, complete ? "" : " (unfinished when its interval ended)");
                return;
            }
            WallClock.pauseUntil(WallClock.min(end, Instant.now().plus(TALLY_POLL)));
        }
    }

    private static final Set<String> STATES = Arrays.stream(SweepState.values()).map(Enum::name)
            .collect(Collectors.toSet());

    private static String state(Registered r, String sweepId) {
        return r.sweepId().equals(Optional.of(sweepId)) ? r.sweepState().filter(STATES::contains)
                .orElse(SweepState.unchecked.name()) : SweepState.unchecked.name();
    }
}

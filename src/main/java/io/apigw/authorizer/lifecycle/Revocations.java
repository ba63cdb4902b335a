package io.apigw.authorizer.lifecycle;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.credential.CredentialRecord;
import io.apigw.authorizer.credential.CredentialStore;
import io.apigw.authorizer.credential.Revocation;
import io.apigw.authorizer.grant.GrantReconciler;
import io.apigw.authorizer.metrics.AuthorizerMetrics;
import io.apigw.authorizer.request.AuthorizationRequest;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.timing.DaemonThreads;
import io.apigw.authorizer.timing.Watchdog;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * Old tokens going after their grace: recorded on the stored credential, completed by a timer at their due time
 * while this worker runs, and otherwise by the cluster's next request or sweep. A revocation that cannot be
 * completed stays recorded, is counted and tried again in the background, and never fails a request (issue 26, G9).
 */
@ApplicationScoped
class Revocations {

    private static final Logger LOG = Logger.getLogger(Revocations.class);
    /** The timer fires this long after a revocation is due, so that "due" holds on any clock reading it. */
    private static final Duration SLACK = Duration.ofSeconds(1);
    /** A revocation that failed is tried again this much later while the worker runs (once per cluster at a time). */
    private static final Duration RETRY = Duration.ofMinutes(5);

    private final Sessions sessions;
    private final GrantReconciler grants;
    private final CredentialStore credentials;
    private final AuthorizerMetrics metrics;
    private final Duration deadline;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            DaemonThreads.named("token-revocations"));
    private final Set<String> retrying = ConcurrentHashMap.newKeySet();

    Revocations(Sessions sessions, GrantReconciler grants, CredentialStore credentials, AuthorizerMetrics metrics,
            AuthorizerConfig config) {
        this.sessions = sessions;
        this.grants = grants;
        this.credentials = credentials;
        this.metrics = metrics;
        this.deadline = config.request().deadline();
    }

    /** A revocation of the token Secret {@code tokenSecret} due a grace from now. */
    static Revocation after(Duration grace, String tokenSecret, String tokenSecretUid) {
        return new Revocation(tokenSecret, tokenSecretUid, Instant.now().truncatedTo(ChronoUnit.MILLIS).plus(grace));
    }

    /** Completes the recorded revocation whose time has come, if any; best effort. */
    void revokeDue(KubernetesClient admin, AuthorizationRequest request, Optional<CredentialRecord> record) {
        Optional<Revocation> due = record.flatMap(CredentialRecord::pending).filter(r -> r.due(Instant.now()))
                .filter(r -> !r.tokenSecret().equals(record.get().tokenSecret()));
        if (due.isPresent() && revoked(admin, request, due.get())) {
            credentials.revoked(request.clusterId(), due.get());
            LOG.infof("cluster %s: old token Secret %s revoked", request.clusterId(), due.get().tokenSecret());
        }
    }

    /** The pending revocation, if any, completed now; false (and retried later) if it could not be. */
    boolean earlierRevoked(KubernetesClient admin, AuthorizationRequest request, Optional<CredentialRecord> record) {
        Optional<Revocation> earlier = record.flatMap(CredentialRecord::pending);
        return earlier.isEmpty() || revoked(admin, request, earlier.get());
    }

    /** Deletes the revoked token Secret now; a failure fails the request (a rotation's own revocations). */
    void revokeNow(KubernetesClient admin, Revocation revocation) {
        grants.revoke(admin, revocation.tokenSecret(), revocation.tokenSecretUid());
    }

    void schedule(AuthorizationRequest request, Instant at) {
        long delay = Math.max(0, Duration.between(Instant.now(), at).toMillis()) + SLACK.toMillis();
        try {
            timer.schedule(() -> revokeIfDue(request), delay, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // Stopping: the revocation is recorded, and the next request for the cluster completes it.
        }
    }

    private boolean revoked(KubernetesClient admin, AuthorizationRequest request, Revocation revocation) {
        try {
            revokeNow(admin, revocation);
            return true;
        } catch (AuthorizationException e) {
            metrics.revocationFailed();
            LOG.warnf("cluster %s: old token Secret %s could not be revoked (%s); it stays recorded and is tried "
                    + "again in %s, by the cluster's next request and by the next sweep", request.clusterId(),
                    revocation.tokenSecret(), e.code(), RETRY);
            if (retrying.add(request.clusterId())) {
                schedule(request, Instant.now().plus(RETRY));
            }
            return false;
        }
    }

    /** The timer's work at a revocation's due time; a later request does it if this one cannot. */
    private void revokeIfDue(AuthorizationRequest request) {
        retrying.remove(request.clusterId());
        try (Watchdog watchdog = Watchdog.start(deadline); ClusterSession session = sessions.openRead(request)) {
            revokeDue(session.admin(), request, session.record());
        } catch (RuntimeException e) {
            // Logged by type and code only; the revocation stays recorded for the next request of the cluster.
            LOG.warnf("cluster %s: the old token's revocation at its due time failed (%s%s); the next request for "
                    + "the cluster completes it", request.clusterId(), e.getClass().getSimpleName(),
                    e instanceof AuthorizationException a ? " " + a.code() : "");
        }
    }

    @PreDestroy
    void stop() {
        timer.shutdownNow();
    }
}

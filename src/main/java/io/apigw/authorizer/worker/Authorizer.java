package io.apigw.authorizer.worker;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import jakarta.annotation.PreDestroy;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.credential.CredentialRecord;
import io.apigw.authorizer.credential.CredentialStore;
import io.apigw.authorizer.credential.Revocation;
import io.apigw.authorizer.credential.StoredCredential;
import io.apigw.authorizer.credential.Tenant;
import io.apigw.authorizer.directory.ClusterAccess;
import io.apigw.authorizer.directory.ClusterDirectory;
import io.apigw.authorizer.directory.PrivateAccessDisabledException;
import io.apigw.authorizer.grant.ChangeLog;
import io.apigw.authorizer.grant.ClusterIdentity;
import io.apigw.authorizer.grant.Owners;
import io.apigw.authorizer.kube.ClusterClients;
import io.apigw.authorizer.grant.Grant;
import io.apigw.authorizer.grant.GrantInspector;
import io.apigw.authorizer.grant.GatewayProbe;
import io.apigw.authorizer.grant.GrantReconciler;
import io.apigw.authorizer.policy.Policy;
import io.apigw.authorizer.grant.TokenCheck;
import io.apigw.authorizer.grant.TokenVerdict;
import io.apigw.authorizer.grant.ReservedResources;
import io.apigw.authorizer.kube.ParallelCalls;
import io.apigw.authorizer.result.CredentialProblem;
import io.apigw.authorizer.grant.GrantRemover;
import io.apigw.authorizer.grant.Inspection;
import io.apigw.authorizer.grant.Reserved;
import io.apigw.authorizer.result.ResourceAction;
import io.apigw.authorizer.result.ResourceAction.Action;
import io.apigw.authorizer.metrics.AuthorizerMetrics;
import io.apigw.authorizer.request.AuthorizationRequest;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.apigw.authorizer.result.Result;
import io.apigw.authorizer.timing.DaemonThreads;
import io.apigw.authorizer.timing.Watchdog;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * The whole life of one cluster's authorization: authorize (find it, put the reserved resources in place, keep the
 * token), check (read only), deauthorize. Every step is idempotent, so a transient failure is answered by running
 * the whole attempt again.
 */
@ApplicationScoped
public class Authorizer {

    private static final Logger LOG = Logger.getLogger(Authorizer.class);
    /** A server's Retry-After is honoured up to this, so one request cannot hold its cluster's queue for long. */
    private static final Duration MAX_RETRY_AFTER = Duration.ofSeconds(30);
    /** A retry is started only if this much of the deadline is left after its pause: less could not finish. */
    private static final Duration SHORTEST_ATTEMPT = Duration.ofSeconds(1);
    /** The timer fires this long after a revocation is due, so that "due" holds on any clock reading it. */
    private static final Duration REVOCATION_SLACK = Duration.ofSeconds(1);
    /** A revocation that failed is tried again this much later while the worker runs (once per cluster at a time). */
    private static final Duration REVOCATION_RETRY = Duration.ofMinutes(5);

    private final ClusterDirectory directory;
    private final ClusterClients clients;
    private final GrantReconciler grants;
    private final GrantInspector inspector;
    private final GrantRemover remover;
    private final CredentialStore credentials;
    private final Backoff backoff;
    private final AuthorizerMetrics metrics;
    private final Drain drain;
    private final Duration deadline;
    private final GatewayProbe probe;
    private final ParallelCalls calls;
    private final Duration grace;
    private final boolean migrateLegacy;
    private final Optional<Duration> maxAge;
    /** For clusters authorized for the first time; the others keep the version recorded with their credential. */
    private final Policy newClusters;
    /** Revokes old tokens at their due time while this worker runs; any later request does it otherwise. */
    private final ScheduledExecutorService revocationTimer = Executors.newSingleThreadScheduledExecutor(
            DaemonThreads.named("token-revocations"));
    private final Set<String> retryingRevocation = java.util.concurrent.ConcurrentHashMap.newKeySet();

    public Authorizer(ClusterDirectory directory, ClusterClients clients, GrantReconciler grants,
            GrantInspector inspector, GrantRemover remover, CredentialStore credentials, AuthorizerConfig config,
            AuthorizerMetrics metrics, Drain drain, GatewayProbe probe, ParallelCalls calls) {
        this.probe = probe;
        this.calls = calls;
        this.grace = config.rotation().grace();
        this.migrateLegacy = config.token().migrateLegacy();
        this.maxAge = config.rotation().maxAge();
        this.metrics = metrics;
        this.drain = drain;
        this.directory = directory;
        this.clients = clients;
        this.grants = grants;
        this.inspector = inspector;
        this.remover = remover;
        this.credentials = credentials;
        this.backoff = Backoff.of(config.retry());
        this.deadline = config.request().deadline();
        this.newClusters = Policy.configured(config.policy().version());
    }

    /**
     * The policy a request applies: a rollout's own, else the cluster's recorded one, else (a cluster without a
     * stored credential) the configured one. Never another: a cluster's rules change only in a rollout.
     */
    private Policy policy(AuthorizationRequest request, Optional<CredentialRecord> record) {
        Optional<Integer> recorded = record.map(CredentialRecord::policyVersion);
        request.policyVersion().filter(asked -> asked != newClusters.version() && !Optional.of(asked).equals(recorded))
                .ifPresent(asked -> {
                    // Only the configured rollout moves a cluster: knowing a credential's version is no authority.
                    throw AuthorizationException.permanent(FailureCode.CONFLICT, "policyVersion " + asked
                            + " is neither this worker's configured version (" + newClusters.version()
                            + ") nor the cluster's recorded one; nothing was changed");
                });
        int version = request.policyVersion().orElse(recorded.orElse(newClusters.version()));
        return Policy.of(version).orElseThrow(() -> AuthorizationException.permanent(FailureCode.INTERNAL,
                "the cluster's stored credential records policy version " + version + ", which this worker does "
                        + "not know (it knows " + Policy.versions() + "); nothing was changed"));
    }

    /** One attempt at a request; {@code changes} carries per-object actions over from earlier attempts. */
    private interface Attempt {
        Result run(AuthorizationRequest request, int attempt, ChangeLog changes);
    }

    public Result handle(AuthorizationRequest request) {
        return switch (request.type()) {
            case AUTHORIZE -> withRetries(request, this::authorize);
            case CHECK -> withRetries(request, this::check);
            case DEAUTHORIZE -> withRetries(request, this::deauthorize);
            case ROTATE -> withRetries(request, this::rotate);
        };
    }

    /**
     * Puts the grant in place, tries the token as the gateway will (the directory's endpoint and CA) and stores it
     * only then. A stored token that the grant no longer uses is revoked after the rotation grace, so the gateway is
     * never left without a working one; so is a legacy token from 1.24 on ({@code migrate-legacy}) and one older than
     * {@code rotation.max-age}.
     */
    private Result authorize(AuthorizationRequest request, int attempt, ChangeLog changes) {
        CompletableFuture<Optional<CredentialRecord>> stored;
        if (request.ifCredentialVersion().isPresent() && attempt == 1) {
            // A repair: only while the credential its sender judged is still stored. Requests of one cluster run in
            // order, so nothing the console sends for it can come between this read and the save. Checked once:
            // a retry may find the version this very request wrote.
            Optional<CredentialRecord> seen = ownRecord(request, credentials.record(request.clusterId()));
            String expected = request.ifCredentialVersion().get();
            if (seen.isEmpty() || seen.get().deauthorizing()) {
                return skipped(request, attempt, true);
            }
            if (!expected.equals(seen.get().version())) {
                return skipped(request, attempt, false);
            }
            stored = CompletableFuture.completedFuture(seen);
        } else {
            // Read alongside the directory's lookup and the cluster's reads: its policy version decides the plan, and
            // another tenant's credential fails the request there, before anything is written.
            stored = calls.submit(() -> ownRecord(request, credentials.record(request.clusterId())));
        }
        ClusterAccess access;
        try {
            access = metrics.step("directory", () -> directory.resolve(request));
        } catch (RuntimeException e) {
            ParallelCalls.settled(stored);
            throw e;
        }
        try (ClusterClients.Lease admin = clients.open(access)) {
            if (request.ifCredentialVersion().isPresent()) {
                // A repair or rollout only maintains the cluster it judged, never one that took its place.
                requireSameCluster(admin.client(), request, ParallelCalls.join(stored), "a repair or rollout");
            }
            Supplier<Policy> policy = policy(request, stored);
            TokenCheck check = asGateway(request.clusterId(), access, policy);
            Grant grant = metrics.step("grant", () -> grants.reconcile(admin.client(), changes, check,
                    retiring(stored), policy, request.appId()));
            Optional<CredentialRecord> record = ParallelCalls.join(stored);
            String answering = grant.clusterUid();
            record.filter(r -> ClusterIdentity.replaced(r.clusterUid(), answering)).ifPresent(r -> LOG.warnf(
                    "request %s: %s; authorizing the cluster that answers now", request.requestId(),
                    ClusterIdentity.describe(request.clusterId(), r.clusterUid(), answering)));
            Policy applied = policy.get();
            Revocation retire = null;
            // A renewal records its own revocation: an earlier one still pending is completed first, as a rotation
            // does, so that no token promised to go is left recorded nowhere (issue 26, G6).
            if (dueForRotation(grant, record) && earlierRevoked(admin.client(), request, record)) {
                Grant before = grant;
                grant = grants.rotate(admin.client(), changes, check, retiring(stored), policy, request.appId(),
                        "renewal/" + before.tokenSecretUid());
                retire = new Revocation(before.tokenSecret(), before.tokenSecretUid(), revokeAfter(grace));
            }
            Grant kept = grant;
            if (retire == null) {
                // The gateway's stored token is no longer the grant's (a replacement elsewhere): it goes after the grace.
                retire = record.filter(r -> r.tokenSecret() != null && !r.tokenSecret().equals(kept.tokenSecret())
                        && r.pending().isEmpty())
                        .map(r -> new Revocation(r.tokenSecret(), r.tokenSecretUid(), revokeAfter(grace)))
                        .orElse(null);
            }
            Revocation retiring = retire;
            String credentialRef = metrics.step("credential", () -> credentials.save(registered(request, applied),
                    kept.clusterUid(), access.server(), access.caPem(), kept.token(), kept.tokenSecret(), kept.tokenSecretUid(),
                    retiring)).value();
            if (retire != null) {
                scheduleRevocation(request, retire.after());
            }
            revokeDue(admin.client(), request, record);
            return new Result.Authorized(request.requestId(), request.clusterId(), region(request), Result.now(),
                    attempt, grant.alreadyAuthorized(), grant.resources(), grant.tokenSecret(), credentialRef,
                    grant.kubernetesVersion(), applied.version());
        } finally {
            ParallelCalls.settled(stored);
        }
    }

    private static CredentialStore.Registered registered(AuthorizationRequest request, Policy policy) {
        return CredentialStore.Registered.of(request.clusterId(), request.region(), request.appId(),
                request.ownerUin(), policy.version());
    }

    private static Result skipped(AuthorizationRequest request, int attempt, boolean deleted) {
        LOG.infof("request %s: conditional authorize of %s skipped: the stored credential %s", request.requestId(),
                request.clusterId(), deleted ? "is gone or being deauthorized" : "has changed");
        return new Result.AuthorizationSkipped(request.requestId(), request.clusterId(), region(request), Result.now(),
                attempt, deleted ? Result.AuthorizationSkipped.CREDENTIAL_DELETED
                        : Result.AuthorizationSkipped.CREDENTIAL_CHANGED,
                deleted ? "Nothing was done: the cluster's stored credential has been deleted (deauthorized), or a "
                        + "deauthorize has begun, since this request was made."
                        : "Nothing was done: the cluster's stored credential has changed since this request was made.");
    }

    private static Instant revokeAfter(Duration grace) {
        return Instant.now().truncatedTo(ChronoUnit.MILLIS).plus(grace);
    }

    /** A legacy token on a cluster that no longer auto-creates them, or a token older than the configured age. */
    private boolean dueForRotation(Grant grant, Optional<CredentialRecord> record) {
        if (!grant.sharedWith().isEmpty()) {
            return false; // the token is theirs too: renewing it here would revoke it under them
        }
        if (migrateLegacy && grant.legacyToken()) {
            return true;
        }
        return maxAge.isPresent() && record.filter(r -> grant.tokenSecret().equals(r.tokenSecret()))
                .map(CredentialRecord::tokenStoredAt)
                .filter(at -> at.plus(maxAge.get()).isBefore(Instant.now())).isPresent();
    }

    /**
     * The request's policy once its stored credential is read. Asked for after the cluster's own reads, so that a
     * cluster that cannot be reached is reported as such even when the gateway's cluster cannot be either.
     */
    private Supplier<Policy> policy(AuthorizationRequest request,
            CompletableFuture<Optional<CredentialRecord>> stored) {
        return () -> policy(request, ParallelCalls.join(stored));
    }

    private TokenCheck asGateway(String clusterId, ClusterAccess access, Supplier<Policy> policy) {
        return (token, serviceAccountUid) -> metrics.step("verify", () -> probe.verify(clusterId,
                new StoredCredential(access.server(), access.caPem(), token), serviceAccountUid, policy.get()));
    }

    private static java.util.function.Supplier<Set<String>> retiring(
            CompletableFuture<Optional<CredentialRecord>> stored) {
        return () -> retiring(ParallelCalls.join(stored));
    }

    private static Set<String> retiring(Optional<CredentialRecord> record) {
        return record.flatMap(CredentialRecord::pending).map(r -> Set.of(r.tokenSecret())).orElse(Set.of());
    }

    /**
     * Completes a recorded revocation whose time has come (any request for the cluster does). Best effort: a
     * revocation that cannot be completed now (the admin may not delete the Secret, an admission policy refuses it)
     * stays recorded, is counted and tried again in the background, and never fails the request (issue 26, G9).
     */
    private void revokeDue(KubernetesClient admin, AuthorizationRequest request, Optional<CredentialRecord> record) {
        Optional<Revocation> due = record.flatMap(CredentialRecord::pending).filter(r -> r.due(Instant.now()))
                .filter(r -> !r.tokenSecret().equals(record.get().tokenSecret()));
        if (due.isPresent() && revoked(admin, request, due.get())) {
            credentials.revoked(request.clusterId(), due.get());
            LOG.infof("cluster %s: old token Secret %s revoked", request.clusterId(), due.get().tokenSecret());
        }
    }

    /** The pending revocation, if any, completed now; false (and retried later) if it could not be. */
    private boolean earlierRevoked(KubernetesClient admin, AuthorizationRequest request,
            Optional<CredentialRecord> record) {
        Optional<Revocation> earlier = record.flatMap(CredentialRecord::pending);
        return earlier.isEmpty() || revoked(admin, request, earlier.get());
    }

    private boolean revoked(KubernetesClient admin, AuthorizationRequest request, Revocation revocation) {
        try {
            grants.revoke(admin, revocation.tokenSecret(), revocation.tokenSecretUid());
            return true;
        } catch (AuthorizationException e) {
            metrics.revocationFailed();
            LOG.warnf("cluster %s: old token Secret %s could not be revoked (%s); it stays recorded and is tried "
                    + "again in %s, by the cluster's next request and by the next sweep", request.clusterId(),
                    revocation.tokenSecret(), e.code(), REVOCATION_RETRY);
            if (retryingRevocation.add(request.clusterId())) {
                scheduleRevocation(request, Instant.now().plus(REVOCATION_RETRY));
            }
            return false;
        }
    }

    /** Called by the revocation timer at a revocation's due time; a later request does it if this one cannot. */
    void revokeIfDue(AuthorizationRequest request) {
        retryingRevocation.remove(request.clusterId());
        try (Watchdog watchdog = Watchdog.start(deadline)) {
            ClusterAccess access = directory.resolve(request);
            Optional<CredentialRecord> record = ownRecord(request, credentials.record(request.clusterId()));
            try (ClusterClients.Lease admin = clients.open(access)) {
                revokeDue(admin.client(), request, record);
            }
        } catch (RuntimeException e) {
            // Logged by type and code only; the revocation stays recorded for the next request of the cluster.
            LOG.warnf("cluster %s: the old token's revocation at its due time failed (%s%s); the next request for "
                    + "the cluster completes it", request.clusterId(), e.getClass().getSimpleName(),
                    e instanceof AuthorizationException a ? " " + a.code() : "");
        }
    }

    private Result rotate(AuthorizationRequest request, int attempt, ChangeLog changes) {
        ClusterAccess access = directory.resolve(request);
        CompletableFuture<Optional<CredentialRecord>> stored = calls.submit(() -> ownRecord(request,
                credentials.record(request.clusterId())));
        try (ClusterClients.Lease admin = clients.open(access)) {
            // The stored token is this cluster's: a rotation on another cluster behind the id would revoke nothing.
            requireSameCluster(admin.client(), request, ParallelCalls.join(stored), "a rotation");
            Supplier<Policy> policy = policy(request, stored);
            Grant fresh = grants.rotate(admin.client(), changes, asGateway(request.clusterId(), access, policy),
                    retiring(stored), policy, request.appId(), request.requestId());
            Optional<CredentialRecord> record = ParallelCalls.join(stored);
            String credentialRef = credentials.reference(request.clusterId()).value();
            if (record.filter(r -> fresh.tokenSecret().equals(r.tokenSecret())).isPresent()) {
                // This rotation is stored already (a retry or a redelivery): answer as it was done.
                revokeDue(admin.client(), request, record);
                Optional<Revocation> pending = record.get().pending();
                return new Result.CredentialRotated(request.requestId(), request.clusterId(), region(request),
                        Result.now(), attempt, fresh.tokenSecret(), pending.map(Revocation::tokenSecret).orElse(null),
                        pending.map(r -> r.after().toString()).orElse(null),
                        pending.map(r -> r.due(Instant.now())).orElse(true), credentialRef,
                        fresh.kubernetesVersion());
            }
            // One pending revocation at a time: an earlier rotation's old token goes now.
            Optional<Revocation> earlier = record.flatMap(CredentialRecord::pending);
            if (earlier.isPresent()) {
                grants.revoke(admin.client(), earlier.get().tokenSecret(), earlier.get().tokenSecretUid());
            }
            Duration graceNow = request.grace().orElse(grace);
            Revocation retire = record.filter(r -> r.tokenSecret() != null)
                    .map(r -> new Revocation(r.tokenSecret(), r.tokenSecretUid(), revokeAfter(graceNow)))
                    .orElse(null);
            credentials.save(registered(request, policy.get()), fresh.clusterUid(), access.server(), access.caPem(),
                    fresh.token(),
                    fresh.tokenSecret(), fresh.tokenSecretUid(), retire);
            boolean revoked = retire == null;
            if (retire != null && graceNow.isZero()) {
                grants.revoke(admin.client(), retire.tokenSecret(), retire.tokenSecretUid());
                credentials.revoked(request.clusterId(), retire);
                revoked = true;
            } else if (retire != null) {
                scheduleRevocation(request, retire.after());
            }
            return new Result.CredentialRotated(request.requestId(), request.clusterId(), region(request),
                    Result.now(), attempt, fresh.tokenSecret(), retire == null ? null : retire.tokenSecret(),
                    retire == null ? null : retire.after().toString(), revoked, credentialRef,
                    fresh.kubernetesVersion());
        } finally {
            ParallelCalls.settled(stored);
        }
    }

    /**
     * Read only, as the gateway would see it: the reserved resources, then the stored credential compared with what
     * the directory says now and tried at the stored endpoint with the stored CA. A due revocation is completed.
     */
    private Result check(AuthorizationRequest request, int attempt, ChangeLog changes) {
        ClusterAccess access = directory.resolve(request);
        CompletableFuture<Optional<CredentialRecord>> stored = calls.submit(() -> ownRecord(request,
                credentials.record(request.clusterId())));
        Inspection found;
        Optional<CredentialRecord> record;
        Policy policy;
        try (ClusterClients.Lease admin = clients.open(access)) {
            found = inspector.inspect(admin.client(), retiring(stored), policy(request, stored));
            record = ParallelCalls.join(stored);
            policy = policy(request, record);
            revokeDue(admin.client(), request, record);
        } finally {
            ParallelCalls.settled(stored);
        }
        TokenVerdict verdict = credentialVerdict(request.clusterId(), access, record, found, policy);
        if (found.complete() && verdict.usable()) {
            List<ResourceAction> resources = Reserved.each(Action.unchanged, found.tokenSecret());
            return new Result.Authorized(request.requestId(), request.clusterId(), region(request), Result.now(),
                    attempt, true, resources, found.tokenSecret(), credentials.reference(request.clusterId()).value(),
                    found.kubernetesVersion(), policy.version());
        }
        return new Result.NotAuthorized(request.requestId(), request.clusterId(), region(request), Result.now(),
                attempt, found.missing(), found.drifted(), verdict.usable(), verdict.problem(),
                verdict.usable() ? null : verdict.detail(), policy.version());
    }

    /** Whether the stored credential works as the gateway uses it, and follows the directory; the first reason not. */
    private TokenVerdict credentialVerdict(String clusterId, ClusterAccess access, Optional<CredentialRecord> record,
            Inspection found, Policy policy) {
        if (record.isEmpty()) {
            return new TokenVerdict(CredentialProblem.missing, "no credential is stored for the cluster");
        }
        if (ClusterIdentity.replaced(record.get().clusterUid(), found.clusterUid())) {
            return new TokenVerdict(CredentialProblem.cluster_replaced, ClusterIdentity.describe(clusterId,
                    record.get().clusterUid(), found.clusterUid()) + "; authorize again to establish it");
        }
        StoredCredential c = record.get().credential();
        if (!c.server().equals(access.server())) {
            return new TokenVerdict(CredentialProblem.endpoint_changed, "the cluster's private endpoint is now "
                    + access.server() + ", the stored one " + c.server() + "; authorize again to update it");
        }
        if (!c.caPem().strip().equals(access.caPem().strip())) {
            return new TokenVerdict(CredentialProblem.ca_changed, "the cluster's CA has changed since the credential "
                    + "was stored; authorize again to update it");
        }
        if (found.tokenInvalidated() && java.util.Objects.equals(found.tokenSecret(), record.get().tokenSecret())) {
            return new TokenVerdict(CredentialProblem.invalidated, "token Secret " + found.tokenSecret()
                    + " is labelled " + ReservedResources.LEGACY_TOKEN_INVALID_SINCE + "; authorize again to replace it");
        }
        return probe.verify(clusterId, c, found.serviceAccountUid(), policy);
    }

    private void scheduleRevocation(AuthorizationRequest request, Instant at) {
        long delay = Math.max(0, Duration.between(Instant.now(), at).toMillis()) + REVOCATION_SLACK.toMillis();
        try {
            revocationTimer.schedule(() -> revokeIfDue(request), delay, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // Stopping: the revocation is recorded, and the next request for the cluster completes it.
        }
    }

    @PreDestroy
    void stopTimer() {
        revocationTimer.shutdownNow();
    }

    private Result deauthorize(AuthorizationRequest request, int attempt, ChangeLog changes) {
        CompletableFuture<Optional<CredentialRecord>> stored = calls.submit(() -> credentials.record(
                request.clusterId()));
        ClusterAccess access;
        try {
            access = directory.resolve(request);
        } catch (PrivateAccessDisabledException e) {
            // The directory found the cluster for this tenant; a credential stored by another is still not theirs.
            ownRecord(request, ParallelCalls.join(stored));
            return unreachableDeauthorized(request, attempt, true, "Private network access to the cluster's API "
                    + "server is not enabled, so the reserved resources in the cluster could not be removed; the "
                    + "stored credential was. Enable private access, then retry to remove them.");
        } catch (AuthorizationException e) {
            if (e.code() != FailureCode.CLUSTER_NOT_FOUND) {
                throw e;
            }
            requireRemovableWithoutDirectory(request, ParallelCalls.join(stored), e);
            return unreachableDeauthorized(request, attempt, false, "The cluster cannot be reached ("
                    + e.getMessage() + "), so the reserved resources in it could not be removed; the stored "
                    + "credential was.");
        } finally {
            ParallelCalls.settled(stored);
        }
        // The directory found the cluster for this tenant; a credential stored by another is still not theirs.
        if (ownRecord(request, ParallelCalls.join(stored)).isPresent()) {
            // Recorded before the first delete: a repair judged earlier must not put back what this removes, should
            // the last step (deleting the stored credential) fail (issue 26, G8).
            credentials.markDeauthorizing(request.clusterId(), request.requestId());
        }
        Set<String> others;
        try (ClusterClients.Lease admin = clients.open(access)) {
            others = remover.remove(admin.client(), changes);
        }
        changes.record(storedCredentialRemoved(request));
        if (!others.isEmpty()) {
            return new Result.Deauthorized(request.requestId(), request.clusterId(), region(request), Result.now(),
                    attempt, changes.actions(), false, false, "The reserved resources are left in the cluster: "
                            + String.join(", ", others) + (others.contains(Owners.PRE_EXISTING)
                                    ? " (the ServiceAccount was there before any API gateway authorized the cluster)"
                                    : "")
                            + " also rely on them. This gateway's access is removed: its stored credential is deleted "
                            + "and its mark taken off.",
                    List.copyOf(others));
        }
        return new Result.Deauthorized(request.requestId(), request.clusterId(), region(request), Result.now(), attempt,
                changes.actions());
    }

    private static Tenant tenant(AuthorizationRequest request) {
        return new Tenant(request.appId(), request.ownerUin());
    }

    /**
     * The stored credential, when the request's tenant may act on it. Another tenant's is answered as a cluster that
     * does not exist ({@code CLUSTER_NOT_FOUND}, not retryable), so the request learns nothing of it and changes
     * nothing; a credential that records no tenant is the directory's to vouch for (it found the cluster).
     */
    private static Optional<CredentialRecord> ownRecord(AuthorizationRequest request,
            Optional<CredentialRecord> record) {
        if (record.isPresent() && record.get().tenant().owns(tenant(request)) == Tenant.Standing.OTHER) {
            throw otherTenants(request);
        }
        return record;
    }

    /**
     * A deauthorize of a cluster the directory cannot find removes the stored credential only when it is the
     * request's own tenant's ({@link Tenant#removableWithoutDirectory}); otherwise it is answered as the directory
     * answered, and nothing is removed.
     */
    private void requireRemovableWithoutDirectory(AuthorizationRequest request, Optional<CredentialRecord> record,
            AuthorizationException asTheDirectoryAnswered) {
        if (record.isPresent()
                && !record.get().tenant().removableWithoutDirectory(tenant(request), directory.knowsTenants())) {
            LOG.warnf("request %s: a deauthorize of cluster %s, which the directory cannot find for the request's "
                    + "tenant, left the stored credential alone: it is recorded for %s", request.requestId(),
                    request.clusterId(), record.get().tenant().owns(tenant(request)) == Tenant.Standing.OTHER
                            ? "another tenant" : "no tenant");
            throw asTheDirectoryAnswered;
        }
    }

    private static AuthorizationException otherTenants(AuthorizationRequest request) {
        LOG.warnf("request %s: the stored credential of cluster %s is recorded for another tenant; nothing was read "
                + "or changed", request.requestId(), request.clusterId());
        return AuthorizationException.permanent(FailureCode.CLUSTER_NOT_FOUND, "cluster " + request.clusterId()
                + " was not found for this tenant");
    }

    /** Refuses ({@code CONFLICT}, nothing changed) when another cluster answers than the one the credential is of. */
    private static void requireSameCluster(KubernetesClient client, AuthorizationRequest request,
            Optional<CredentialRecord> record, String what) {
        String recorded = record.map(CredentialRecord::clusterUid).orElse(null);
        if (recorded == null) {
            return;
        }
        String observed = ClusterIdentity.read(client);
        if (ClusterIdentity.replaced(recorded, observed)) {
            throw AuthorizationException.permanent(FailureCode.CONFLICT, ClusterIdentity.describe(
                    request.clusterId(), recorded, observed) + "; " + what + " does not re-establish it, an "
                    + "authorize from the console does; nothing was changed");
        }
    }

    /**
     * The cluster cannot be reached: the gateway must not keep using it, so its stored credential goes now; what is
     * in the cluster is reported as not removed.
     */
    private Result unreachableDeauthorized(AuthorizationRequest request, int attempt, boolean retryable,
            String message) {
        List<ResourceAction> resources = new java.util.ArrayList<>(
                Reserved.each(Action.unreachable, null));
        resources.add(storedCredentialRemoved(request));
        return new Result.Deauthorized(request.requestId(), request.clusterId(), region(request), Result.now(), attempt,
                resources, false, retryable, message, null);
    }

    private ResourceAction storedCredentialRemoved(AuthorizationRequest request) {
        return credentials.reference(request.clusterId())
                .report(credentials.delete(request.clusterId()) ? Action.deleted : Action.absent);
    }

    /**
     * Runs attempts until one succeeds, a failure is permanent, the attempts are used up, or the request's deadline
     * passes. The deadline bounds the whole request, whatever a step does: a watchdog interrupts the thread when it
     * passes, and every blocking wait gives up when interrupted.
     */
    private Result withRetries(AuthorizationRequest request, Attempt step) {
        ChangeLog changes = new ChangeLog();
        long deadline = System.nanoTime() + this.deadline.toNanos();
        Watchdog watchdog = Watchdog.start(this.deadline);
        try (watchdog) {
            for (int attempt = 1;; attempt++) {
                try {
                    return step.run(request, attempt, changes);
                } catch (PrivateAccessDisabledException e) {
                    LOG.debugf("request %s: private access of %s is off: %s", request.requestId(),
                            request.clusterId(), e.getMessage());
                    return new Result.PrivateAccessDisabled(request.requestId(), request.clusterId(), region(request),
                            Result.now(), attempt, true, Result.PrivateAccessDisabled.MESSAGE);
                } catch (AuthorizationException e) {
                    if (watchdog.expired()) {
                        return pastDeadline(request, attempt, e);
                    }
                    Duration wait = pause(attempt, e.retryAfter().orElse(Duration.ZERO));
                    boolean inTime = System.nanoTime() + wait.plus(SHORTEST_ATTEMPT).toNanos() < deadline;
                    if (e.isTransient() && attempt < backoff.maxAttempts() && inTime) {
                        metrics.retry(e.code().name());
                        LOG.infof("request %s: attempt %d for %s failed (%s: %s); retrying", request.requestId(),
                                attempt, request.clusterId(), e.code(), e.getMessage());
                        if (!sleep(wait)) {
                            if (watchdog.expired()) {
                                return pastDeadline(request, attempt, e);
                            }
                            // Stopping: leave the record unacknowledged for redelivery, not a false failure.
                            throw new IllegalStateException("interrupted between attempts");
                        }
                        continue;
                    }
                    if (drain.tearingDown()) {
                        // The failure may be the teardown's doing (a closed client): redeliver rather than publish it.
                        throw e;
                    }
                    return new Result.Failed(request.requestId(), request.clusterId(), region(request), attempt,
                            e.code(), e.getMessage());
                } catch (RuntimeException e) {
                    if (watchdog.expired()) {
                        return pastDeadline(request, attempt, null);
                    }
                    if (drain.draining()) {
                        // Stopping pulls things from under the attempt: no false INTERNAL, redeliver it instead.
                        throw e;
                    }
                    // Unknown exceptions may quote what they saw: log the type only, never the message.
                    LOG.errorf("request %s: unexpected %s while handling %s", request.requestId(),
                            e.getClass().getName(), request.clusterId());
                    return new Result.Failed(request.requestId(), request.clusterId(), region(request), attempt,
                            FailureCode.INTERNAL, "unexpected internal error (" + e.getClass().getSimpleName() + ")");
                }
            }
        }
    }

    /**
     * The deadline cut the request short: retryable, as {@code TOKEN_NOT_ISSUED} if it was waiting for the token,
     * else as an API server that did not answer in time.
     */
    private Result pastDeadline(AuthorizationRequest request, int attempt, AuthorizationException cut) {
        FailureCode code = cut != null && cut.code() == FailureCode.TOKEN_NOT_ISSUED ? FailureCode.TOKEN_NOT_ISSUED
                : FailureCode.API_SERVER_UNREACHABLE;
        String what = code == FailureCode.TOKEN_NOT_ISSUED ? "while waiting for the token"
                : "while waiting for an answer (the cluster's API server, the cluster directory or the gateway's own "
                        + "cluster)";
        LOG.infof("request %s: deadline of %ss passed for %s in attempt %d", request.requestId(),
                deadline.toSeconds(), request.clusterId(), attempt);
        return new Result.Failed(request.requestId(), request.clusterId(), region(request), attempt, code,
                "the request's deadline (" + deadline.toSeconds() + "s) passed " + what);
    }

    private static String region(AuthorizationRequest request) {
        return request.region().orElse(null);
    }

    /** The backoff, or longer if the server asked for it (429/503 Retry-After), up to a bound. */
    private Duration pause(int attempt, Duration serverAsked) {
        Duration wait = backoff.after(attempt);
        if (serverAsked.compareTo(wait) > 0) {
            wait = serverAsked.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : serverAsked;
        }
        return wait;
    }

    /** @return false if interrupted (the deadline passed, or the worker is stopping) */
    private static boolean sleep(Duration wait) {
        try {
            Thread.sleep(wait.toMillis());
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}

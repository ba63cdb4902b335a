package io.apigw.authorizer.lifecycle;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.credential.CredentialRecord;
import io.apigw.authorizer.credential.CredentialStore;
import io.apigw.authorizer.credential.Revocation;
import io.apigw.authorizer.grant.ChangeLog;
import io.apigw.authorizer.grant.ClusterIdentity;
import io.apigw.authorizer.grant.Desired;
import io.apigw.authorizer.grant.Grant;
import io.apigw.authorizer.grant.GrantReconciler;
import io.apigw.authorizer.grant.ObservedGrant;
import io.apigw.authorizer.metrics.AuthorizerMetrics;
import io.apigw.authorizer.policy.Policy;
import io.apigw.authorizer.request.AuthorizationRequest;
import io.apigw.authorizer.result.Result;

/**
 * Puts the grant in place, tries the token as the gateway will (the directory's endpoint and CA) and stores it only
 * then. A stored token that the grant no longer uses is revoked after the rotation grace, so the gateway is never
 * left without a working one; so is a legacy token from 1.24 on ({@code migrate-legacy}) and one older than
 * {@code rotation.max-age}. A conditional authorize (a repair or a rollout's move) acts only on the credential its
 * sender judged.
 */
@ApplicationScoped
public class Authorize implements UseCase {

    private static final Logger LOG = Logger.getLogger(Authorize.class);

    private final Sessions sessions;
    private final GrantReconciler grants;
    private final CredentialStore credentials;
    private final Revocations revocations;
    private final AuthorizerMetrics metrics;
    private final Duration grace;
    private final boolean migrateLegacy;
    private final Optional<Duration> maxAge;

    Authorize(Sessions sessions, GrantReconciler grants, CredentialStore credentials, Revocations revocations,
            AuthorizerMetrics metrics, AuthorizerConfig config) {
        this.sessions = sessions;
        this.grants = grants;
        this.credentials = credentials;
        this.revocations = revocations;
        this.metrics = metrics;
        this.grace = config.rotation().grace();
        this.migrateLegacy = config.token().migrateLegacy();
        this.maxAge = config.rotation().maxAge();
    }

    @Override
    public Result attempt(AuthorizationRequest request, int attempt, ChangeLog changes) {
        CompletableFuture<Optional<CredentialRecord>> stored;
        if (request.ifCredentialVersion().isPresent() && attempt == 1) {
            // A repair: only while the credential its sender judged is still stored. Requests of one cluster run in
            // order, so nothing the console sends for it can come between this read and the save. Checked once:
            // a retry may find the version this very request wrote.
            Optional<CredentialRecord> seen = TenantGuard.ownRecord(request, credentials.record(request.clusterId()));
            if (seen.isEmpty() || seen.get().deauthorizing()) {
                return skipped(request, attempt, true);
            }
            if (!request.ifCredentialVersion().get().equals(seen.get().version())) {
                return skipped(request, attempt, false);
            }
            stored = CompletableFuture.completedFuture(seen);
        } else {
            // Read alongside the directory's lookup and the cluster's reads: its policy version decides the plan, and
            // another tenant's credential fails the request there, before anything is written.
            stored = sessions.readOwnRecord(request);
        }
        try (ClusterSession session = sessions.open(request, stored)) {
            return authorize(session, request, attempt, changes);
        }
    }

    private Result authorize(ClusterSession session, AuthorizationRequest request, int attempt, ChangeLog changes) {
        if (request.ifCredentialVersion().isPresent()) {
            // A repair or rollout only maintains the cluster it judged, never one that took its place.
            session.requireSameCluster("a repair or rollout");
        }
        Reconciled reconciled = metrics.step("grant", () -> {
            ObservedGrant observed = session.observe();
            Desired desired = session.desired();
            return new Reconciled(grants.reconcile(session.admin(), observed, desired,
                    session.asGateway(desired.policy()), changes), desired);
        });
        Grant grant = reconciled.grant();
        Desired desired = reconciled.desired();
        Optional<CredentialRecord> record = session.record();
        String answering = grant.clusterUid();
        record.filter(r -> ClusterIdentity.replaced(r.clusterUid(), answering)).ifPresent(r -> LOG.warnf(
                "request %s: %s; authorizing the cluster that answers now", request.requestId(),
                ClusterIdentity.describe(request.clusterId(), r.clusterUid(), answering)));
        Policy applied = desired.policy();
        Revocation retire;
        // A renewal records its own revocation: an earlier one still pending is completed first, as a rotation
        // does, so that no token promised to go is left recorded nowhere (issue 26, G6).
        if (dueForRotation(grant, record) && revocations.earlierRevoked(session.admin(), request, record)) {
            Grant before = grant;
            grant = grants.rotate(session.admin(), session.observe(), desired, session.asGateway(applied), changes,
                    "renewal/" + before.tokenSecretUid());
            retire = Revocations.after(grace, before.tokenSecret(), before.tokenSecretUid());
        } else {
            retire = superseded(record, grant).orElse(null);
        }
        String credentialRef = store(session, request, applied, grant, retire);
        revocations.revokeDue(session.admin(), request, record);
        return new Result.Authorized(request.requestId(), request.clusterId(), Registrations.region(request),
                Result.now(), attempt, grant.alreadyAuthorized(), grant.resources(), grant.tokenSecret(),
                credentialRef, grant.kubernetesVersion(), applied.version());
    }

    /** The gateway's stored token is no longer the grant's (a replacement elsewhere): it goes after the grace. */
    private Optional<Revocation> superseded(Optional<CredentialRecord> record, Grant grant) {
        return record.filter(r -> r.tokenSecret() != null && !r.tokenSecret().equals(grant.tokenSecret())
                && r.pending().isEmpty())
                .map(r -> Revocations.after(grace, r.tokenSecret(), r.tokenSecretUid()));
    }

    /** Stores the grant's token with the revocation it makes due, and schedules that; the credential's reference. */
    private String store(ClusterSession session, AuthorizationRequest request, Policy applied, Grant grant,
            Revocation retire) {
        String credentialRef = metrics.step("credential", () -> credentials.save(Registrations.of(request, applied),
                grant.clusterUid(), session.access().server(), session.access().caPem(), grant.token(),
                grant.tokenSecret(), grant.tokenSecretUid(), retire)).value();
        if (retire != null) {
            revocations.schedule(request, retire.after());
        }
        return credentialRef;
    }

    /** The grant in place, and what the request wanted of it. */
    private record Reconciled(Grant grant, Desired desired) {
    }

    private static Result skipped(AuthorizationRequest request, int attempt, boolean deleted) {
        LOG.infof("request %s: conditional authorize of %s skipped: the stored credential %s", request.requestId(),
                request.clusterId(), deleted ? "is gone or being deauthorized" : "has changed");
        return new Result.AuthorizationSkipped(request.requestId(), request.clusterId(), Registrations.region(request),
                Result.now(), attempt, deleted ? Result.AuthorizationSkipped.CREDENTIAL_DELETED
                        : Result.AuthorizationSkipped.CREDENTIAL_CHANGED,
                deleted ? "Nothing was done: the cluster's stored credential has been deleted (deauthorized), or a "
                        + "deauthorize has begun, since this request was made."
                        : "Nothing was done: the cluster's stored credential has changed since this request was made.");
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
}

package io.apigw.authorizer.lifecycle;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.credential.CredentialRecord;
import io.apigw.authorizer.credential.CredentialStore;
import io.apigw.authorizer.credential.Revocation;
import io.apigw.authorizer.grant.ChangeLog;
import io.apigw.authorizer.grant.Desired;
import io.apigw.authorizer.grant.Grant;
import io.apigw.authorizer.grant.GrantReconciler;
import io.apigw.authorizer.grant.ObservedGrant;
import io.apigw.authorizer.request.AuthorizationRequest;
import io.apigw.authorizer.result.Result;

/**
 * A new token for the cluster, tried as the gateway and stored; the old one is revoked after the request's grace (or
 * the configured one), at once with a zero grace. One pending revocation at a time: an earlier rotation's old token
 * goes first. A retry or redelivery of a stored rotation is answered as it was done.
 */
@ApplicationScoped
public class Rotate implements UseCase {

    private final Sessions sessions;
    private final GrantReconciler grants;
    private final CredentialStore credentials;
    private final Revocations revocations;
    private final Duration grace;

    Rotate(Sessions sessions, GrantReconciler grants, CredentialStore credentials, Revocations revocations,
            AuthorizerConfig config) {
        this.sessions = sessions;
        this.grants = grants;
        this.credentials = credentials;
        this.revocations = revocations;
        this.grace = config.rotation().grace();
    }

    @Override
    public Result attempt(AuthorizationRequest request, int attempt, ChangeLog changes) {
        try (ClusterSession session = sessions.open(request)) {
            // The stored token is this cluster's: a rotation on another cluster behind the id would revoke nothing.
            session.requireSameCluster("a rotation");
            ObservedGrant observed = session.observe();
            Desired desired = session.desired();
            Grant fresh = grants.rotate(session.admin(), observed, desired, session.asGateway(desired.policy()),
                    changes, request.requestId());
            Optional<CredentialRecord> record = session.record();
            String credentialRef = credentials.reference(request.clusterId()).value();
            if (record.filter(r -> fresh.tokenSecret().equals(r.tokenSecret())).isPresent()) {
                // This rotation is stored already (a retry or a redelivery): answer as it was done.
                revocations.revokeDue(session.admin(), request, record);
                return asDone(request, attempt, fresh, record.get().pending(), credentialRef);
            }
            Optional<Revocation> earlier = record.flatMap(CredentialRecord::pending);
            if (earlier.isPresent()) {
                revocations.revokeNow(session.admin(), earlier.get());
            }
            Duration graceNow = request.grace().orElse(grace);
            Revocation retire = record.filter(r -> r.tokenSecret() != null)
                    .map(r -> Revocations.after(graceNow, r.tokenSecret(), r.tokenSecretUid()))
                    .orElse(null);
            credentials.save(Registrations.of(request, desired.policy()), fresh.clusterUid(),
                    session.access().server(), session.access().caPem(), fresh.token(), fresh.tokenSecret(),
                    fresh.tokenSecretUid(), retire);
            boolean revoked = retire == null || retired(session, request, retire, graceNow);
            return new Result.CredentialRotated(request.requestId(), request.clusterId(), Registrations.region(request),
                    Result.now(), attempt, fresh.tokenSecret(), retire == null ? null : retire.tokenSecret(),
                    retire == null ? null : retire.after().toString(), revoked, credentialRef,
                    fresh.kubernetesVersion());
        }
    }

    /** The old token revoked now (no grace) or scheduled for after the grace; whether it is revoked already. */
    private boolean retired(ClusterSession session, AuthorizationRequest request, Revocation retire,
            Duration graceNow) {
        if (graceNow.isZero()) {
            revocations.revokeNow(session.admin(), retire);
            credentials.revoked(request.clusterId(), retire);
            return true;
        }
        revocations.schedule(request, retire.after());
        return false;
    }

    private static Result asDone(AuthorizationRequest request, int attempt, Grant fresh, Optional<Revocation> pending,
            String credentialRef) {
        return new Result.CredentialRotated(request.requestId(), request.clusterId(), Registrations.region(request),
                Result.now(), attempt, fresh.tokenSecret(), pending.map(Revocation::tokenSecret).orElse(null),
                pending.map(r -> r.after().toString()).orElse(null), pending.map(r -> r.due(Instant.now())).orElse(true),
                credentialRef, fresh.kubernetesVersion());
    }
}

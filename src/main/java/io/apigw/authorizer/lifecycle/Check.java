package io.apigw.authorizer.lifecycle;

import java.util.List;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import io.apigw.authorizer.credential.CredentialRecord;
import io.apigw.authorizer.credential.CredentialStore;
import io.apigw.authorizer.directory.ClusterAccess;
import io.apigw.authorizer.grant.ChangeLog;
import io.apigw.authorizer.grant.Desired;
import io.apigw.authorizer.grant.GatewayProbe;
import io.apigw.authorizer.grant.GrantInspector;
import io.apigw.authorizer.grant.Inspection;
import io.apigw.authorizer.grant.ObservedGrant;
import io.apigw.authorizer.grant.Reserved;
import io.apigw.authorizer.grant.TokenVerdict;
import io.apigw.authorizer.policy.Policy;
import io.apigw.authorizer.request.AuthorizationRequest;
import io.apigw.authorizer.result.ResourceAction;
import io.apigw.authorizer.result.ResourceAction.Action;
import io.apigw.authorizer.result.Result;

/**
 * Read only, as the gateway would see it: the reserved resources, then the stored credential compared with what the
 * directory says now ({@link CredentialChecks}) and tried at the stored endpoint with the stored CA. A due revocation
 * is completed.
 */
@ApplicationScoped
public class Check implements UseCase {

    private final Sessions sessions;
    private final GrantInspector inspector;
    private final CredentialStore credentials;
    private final Revocations revocations;
    private final GatewayProbe probe;

    Check(Sessions sessions, GrantInspector inspector, CredentialStore credentials, Revocations revocations,
            GatewayProbe probe) {
        this.sessions = sessions;
        this.inspector = inspector;
        this.credentials = credentials;
        this.revocations = revocations;
        this.probe = probe;
    }

    @Override
    public Result attempt(AuthorizationRequest request, int attempt, ChangeLog changes) {
        ClusterAccess access;
        Inspection found;
        Optional<CredentialRecord> record;
        Policy policy;
        try (ClusterSession session = sessions.open(request)) {
            access = session.access();
            ObservedGrant observed = session.observe();
            Desired desired = session.desired();
            found = inspector.inspect(observed, desired.policy(), desired.retiring());
            record = session.record();
            policy = desired.policy();
            revocations.revokeDue(session.admin(), request, record);
        }
        Optional<CredentialRecord> stored = record;
        TokenVerdict verdict = CredentialChecks.first(new CredentialChecks.Gathered(request.clusterId(),
                access.server(), access.caPem(), record, found))
                .orElseGet(() -> probe.verify(request.clusterId(), stored.get().credential(),
                        found.serviceAccountUid(), policy));
        if (found.complete() && verdict.usable()) {
            List<ResourceAction> resources = Reserved.each(Action.unchanged, found.tokenSecret());
            return new Result.Authorized(request.requestId(), request.clusterId(), Registrations.region(request),
                    Result.now(), attempt, true, resources, found.tokenSecret(),
                    credentials.reference(request.clusterId()).value(), found.kubernetesVersion(), policy.version());
        }
        return new Result.NotAuthorized(request.requestId(), request.clusterId(), Registrations.region(request),
                Result.now(), attempt, found.missing(), found.drifted(), verdict.usable(), verdict.problem(),
                verdict.usable() ? null : verdict.detail(), policy.version());
    }
}

package io.apigw.authorizer.lifecycle;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import jakarta.enterprise.context.ApplicationScoped;

import io.apigw.authorizer.credential.CredentialRecord;
import io.apigw.authorizer.credential.CredentialStore;
import io.apigw.authorizer.directory.ClusterAccess;
import io.apigw.authorizer.directory.ClusterDirectory;
import io.apigw.authorizer.directory.PrivateAccessDisabledException;
import io.apigw.authorizer.grant.ChangeLog;
import io.apigw.authorizer.grant.GrantRemover;
import io.apigw.authorizer.grant.Owners;
import io.apigw.authorizer.grant.Reserved;
import io.apigw.authorizer.kube.ClusterClients;
import io.apigw.authorizer.kube.ParallelCalls;
import io.apigw.authorizer.request.AuthorizationRequest;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.apigw.authorizer.result.ResourceAction;
import io.apigw.authorizer.result.ResourceAction.Action;
import io.apigw.authorizer.result.Result;

/**
 * Removes this gateway's access: its mark on the reserved resources (the resources themselves when no other gateway
 * relies on them) and its stored credential. A cluster that cannot be reached keeps what is in it, reported as not
 * removed, and loses the stored credential all the same, so the gateway stops using it; unless that credential is
 * another tenant's (issue 26, G1).
 */
@ApplicationScoped
public class Deauthorize implements UseCase {

    private static final String PRIVATE_ACCESS_OFF = "Private network access to the cluster's API server is not "
            + "enabled, so the reserved resources in the cluster could not be removed; the stored credential was. "
            + "Enable private access, then retry to remove them.";

    private final ClusterDirectory directory;
    private final ClusterClients clients;
    private final CredentialStore credentials;
    private final ParallelCalls calls;
    private final GrantRemover remover;

    Deauthorize(ClusterDirectory directory, ClusterClients clients, CredentialStore credentials, ParallelCalls calls,
            GrantRemover remover) {
        this.directory = directory;
        this.clients = clients;
        this.credentials = credentials;
        this.calls = calls;
        this.remover = remover;
    }

    @Override
    public Result attempt(AuthorizationRequest request, int attempt, ChangeLog changes) {
        CompletableFuture<Optional<CredentialRecord>> stored = calls.submit(() -> credentials.record(
                request.clusterId()));
        ClusterAccess access;
        try {
            access = directory.resolve(request);
        } catch (PrivateAccessDisabledException e) {
            // The directory found the cluster for this tenant; a credential stored by another is still not theirs.
            TenantGuard.ownRecord(request, ParallelCalls.join(stored));
            return unreachable(request, attempt, true, PRIVATE_ACCESS_OFF);
        } catch (AuthorizationException e) {
            if (e.code() != FailureCode.CLUSTER_NOT_FOUND) {
                throw e;
            }
            TenantGuard.requireRemovableWithoutDirectory(request, ParallelCalls.join(stored),
                    directory.knowsTenants(), e);
            return unreachable(request, attempt, false, "The cluster cannot be reached (" + e.getMessage()
                    + "), so the reserved resources in it could not be removed; the stored credential was.");
        } finally {
            ParallelCalls.settled(stored);
        }
        // The directory found the cluster for this tenant; a credential stored by another is still not theirs.
        if (TenantGuard.ownRecord(request, ParallelCalls.join(stored)).isPresent()) {
            // Recorded before the first delete: a repair judged earlier must not put back what this removes, should
            // the last step (deleting the stored credential) fail (issue 26, G8).
            credentials.markDeauthorizing(request.clusterId(), request.requestId());
        }
        Set<String> others;
        try (ClusterClients.Lease admin = clients.open(access)) {
            others = remover.remove(admin.client(), changes);
        }
        changes.record(storedCredentialRemoved(request));
        return removed(request, attempt, changes, others);
    }

    /** Everything removed, or this gateway's part only when {@code others} rely on the reserved resources too. */
    private static Result removed(AuthorizationRequest request, int attempt, ChangeLog changes, Set<String> others) {
        if (others.isEmpty()) {
            return new Result.Deauthorized(request.requestId(), request.clusterId(), Registrations.region(request),
                    Result.now(), attempt, changes.actions());
        }
        return new Result.Deauthorized(request.requestId(), request.clusterId(), Registrations.region(request),
                Result.now(), attempt, changes.actions(), false, false, "The reserved resources are left in the "
                        + "cluster: " + String.join(", ", others) + (others.contains(Owners.PRE_EXISTING)
                                ? " (the ServiceAccount was there before any API gateway authorized the cluster)"
                                : "")
                        + " also rely on them. This gateway's access is removed: its stored credential is deleted "
                        + "and its mark taken off.",
                List.copyOf(others));
    }

    /**
     * The cluster cannot be reached: the gateway must not keep using it, so its stored credential goes now; what is
     * in the cluster is reported as not removed.
     */
    private Result unreachable(AuthorizationRequest request, int attempt, boolean retryable, String message) {
        List<ResourceAction> resources = new ArrayList<>(Reserved.each(Action.unreachable, null));
        resources.add(storedCredentialRemoved(request));
        return new Result.Deauthorized(request.requestId(), request.clusterId(), Registrations.region(request),
                Result.now(), attempt, resources, false, retryable, message, null);
    }

    private ResourceAction storedCredentialRemoved(AuthorizationRequest request) {
        return credentials.reference(request.clusterId())
                .report(credentials.delete(request.clusterId()) ? Action.deleted : Action.absent);
    }
}

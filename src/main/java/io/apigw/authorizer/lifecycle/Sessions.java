package io.apigw.authorizer.lifecycle;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import jakarta.enterprise.context.ApplicationScoped;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.credential.CredentialRecord;
import io.apigw.authorizer.credential.CredentialStore;
import io.apigw.authorizer.directory.ClusterAccess;
import io.apigw.authorizer.directory.ClusterDirectory;
import io.apigw.authorizer.grant.GatewayProbe;
import io.apigw.authorizer.kube.ClusterClients;
import io.apigw.authorizer.kube.ParallelCalls;
import io.apigw.authorizer.metrics.AuthorizerMetrics;
import io.apigw.authorizer.policy.Policy;
import io.apigw.authorizer.request.AuthorizationRequest;

/** Opens a {@link ClusterSession}: the directory's lookup, the admin connection, the stored record alongside. */
@ApplicationScoped
class Sessions {

    private final ClusterDirectory directory;
    private final ClusterClients clients;
    private final CredentialStore credentials;
    private final ParallelCalls calls;
    private final AuthorizerMetrics metrics;
    private final ClusterSession.Tools tools;

    Sessions(ClusterDirectory directory, ClusterClients clients, CredentialStore credentials, ParallelCalls calls,
            GatewayProbe probe, AuthorizerMetrics metrics, AuthorizerConfig config) {
        this.directory = directory;
        this.clients = clients;
        this.credentials = credentials;
        this.calls = calls;
        this.metrics = metrics;
        this.tools = new ClusterSession.Tools(new PolicyChoice(Policy.configured(config.policy().version())), probe,
                metrics, calls);
    }

    /** The stored record, the request's tenant's (else {@code CLUSTER_NOT_FOUND}), read on the call pool. */
    CompletableFuture<Optional<CredentialRecord>> readOwnRecord(AuthorizationRequest request) {
        return calls.submit(() -> TenantGuard.ownRecord(request, credentials.record(request.clusterId())));
    }

    /** A check's or rotation's session: the lookup, then the record read alongside the cluster's reads. */
    ClusterSession open(AuthorizationRequest request) {
        ClusterAccess access = directory.resolve(request);
        return start(request, access, readOwnRecord(request));
    }

    /** The revocation timer's session: the lookup, then the record read on this thread, then the connection. */
    ClusterSession openRead(AuthorizationRequest request) {
        ClusterAccess access = directory.resolve(request);
        Optional<CredentialRecord> record = TenantGuard.ownRecord(request, credentials.record(request.clusterId()));
        return start(request, access, CompletableFuture.completedFuture(record));
    }

    /** An authorize's session, whose record read began before the (timed) lookup. */
    ClusterSession open(AuthorizationRequest request, CompletableFuture<Optional<CredentialRecord>> stored) {
        ClusterAccess access;
        try {
            access = metrics.step("directory", () -> directory.resolve(request));
        } catch (RuntimeException e) {
            ParallelCalls.settled(stored);
            throw e;
        }
        return start(request, access, stored);
    }

    private ClusterSession start(AuthorizationRequest request, ClusterAccess access,
            CompletableFuture<Optional<CredentialRecord>> stored) {
        try {
            return new ClusterSession(request, access, stored, clients.open(access), tools);
        } catch (RuntimeException e) {
            ParallelCalls.settled(stored);
            throw e;
        }
    }
}

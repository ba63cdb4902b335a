package io.apigw.authorizer.lifecycle;

import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import io.apigw.authorizer.credential.CredentialRecord;
import io.apigw.authorizer.credential.StoredCredential;
import io.apigw.authorizer.directory.ClusterAccess;
import io.apigw.authorizer.grant.ClusterIdentity;
import io.apigw.authorizer.grant.Desired;
import io.apigw.authorizer.grant.GatewayProbe;
import io.apigw.authorizer.grant.ObservedGrant;
import io.apigw.authorizer.grant.TokenCheck;
import io.apigw.authorizer.kube.ClusterClients;
import io.apigw.authorizer.kube.ParallelCalls;
import io.apigw.authorizer.metrics.AuthorizerMetrics;
import io.apigw.authorizer.policy.Policy;
import io.apigw.authorizer.request.AuthorizationRequest;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * One attempt's hold on one cluster: where the directory says it is, the one admin connection to it, and the stored
 * record, read alongside the cluster's own reads and already checked to be the request's tenant's. A use case
 * observes the cluster, then decides what it wants of it from the record ({@link #desired}): the record is waited for
 * only then, so that a cluster that cannot be reached is reported as such even when the gateway's own cluster cannot
 * be either. Made by {@link Sessions}.
 */
final class ClusterSession implements AutoCloseable {

    private final AuthorizationRequest request;
    private final ClusterAccess access;
    private final CompletableFuture<Optional<CredentialRecord>> stored;
    private final ClusterClients.Lease admin;
    private final Tools tools;

    /** What every session uses: the policy choice, the gateway probe, the metrics, the call pool. */
    record Tools(PolicyChoice policies, GatewayProbe probe, AuthorizerMetrics metrics, ParallelCalls calls) {
    }

    ClusterSession(AuthorizationRequest request, ClusterAccess access,
            CompletableFuture<Optional<CredentialRecord>> stored, ClusterClients.Lease admin, Tools tools) {
        this.request = request;
        this.access = access;
        this.stored = stored;
        this.admin = admin;
        this.tools = tools;
    }

    KubernetesClient admin() {
        return admin.client();
    }

    ClusterAccess access() {
        return access;
    }

    /** The stored record, waited for. */
    Optional<CredentialRecord> record() {
        return ParallelCalls.join(stored);
    }

    /** The cluster's reserved resources as they are now: six reads at once, nothing written. */
    ObservedGrant observe() {
        return ObservedGrant.read(admin.client(), tools.calls());
    }

    /**
     * What the request wants of the cluster, decided from the stored record, which is waited for here: asked for
     * after the cluster's own reads, so that a cluster that cannot be reached is reported as such first.
     */
    Desired desired() {
        Optional<CredentialRecord> record = record();
        return new Desired(tools.policies().of(request, record), retiring(record), request.appId());
    }

    /** The token Secret a recorded revocation will delete: never chosen or stored again (issue 26, G6). */
    static Set<String> retiring(Optional<CredentialRecord> record) {
        return record.flatMap(CredentialRecord::pending).map(r -> Set.of(r.tokenSecret())).orElse(Set.of());
    }

    /** Tries a token as the gateway will use it: the directory's endpoint and CA, the request's policy. */
    TokenCheck asGateway(Policy policy) {
        return (token, serviceAccountUid) -> tools.metrics().step("verify", () -> tools.probe().verify(
                request.clusterId(), new StoredCredential(access.server(), access.caPem(), token), serviceAccountUid,
                policy));
    }

    /** Refuses ({@code CONFLICT}, nothing changed) when another cluster answers than the one the credential is of. */
    void requireSameCluster(String what) {
        String recorded = record().map(CredentialRecord::clusterUid).orElse(null);
        if (recorded == null) {
            return;
        }
        String observed = ClusterIdentity.read(admin.client());
        if (ClusterIdentity.replaced(recorded, observed)) {
            throw AuthorizationException.permanent(FailureCode.CONFLICT, ClusterIdentity.describe(
                    request.clusterId(), recorded, observed) + "; " + what + " does not re-establish it, an "
                    + "authorize from the console does; nothing was changed");
        }
    }

    @Override
    public void close() {
        try {
            admin.close();
        } finally {
            ParallelCalls.settled(stored);
        }
    }
}

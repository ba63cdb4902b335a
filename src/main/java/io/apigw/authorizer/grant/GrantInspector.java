package io.apigw.authorizer.grant;

import java.util.Optional;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.kube.ParallelCalls;
import io.apigw.authorizer.policy.Policy;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.function.Supplier;

/** The console's "already authorized?" question, answered with reads only. */
@ApplicationScoped
public class GrantInspector {

    private final ParallelCalls calls;
    /** This gateway instance: the shared ClusterRole is judged against what every marked instance relies on. */
    private final String self;

    public GrantInspector(ParallelCalls calls, AuthorizerConfig config) {
        this.calls = calls;
        this.self = config.instanceId();
    }

    /**
     * @param retiring token Secrets pending revocation: never the cluster's token
     * @param policy the policy the cluster's ClusterRole should be, asked for once the cluster has been read
     */
    public Inspection inspect(KubernetesClient client, Supplier<Set<String>> retiring,
            Supplier<Policy> policy) {
        ObservedGrant observed = ObservedGrant.read(client, calls, retiring);
        Optional<Secret> token = observed.canonicalToken().filter(TokenSecrets::filled);
        return new Inspection(observed.missing(), observed.drifted(policy.get(), self),
                token.map(s -> s.getMetadata().getName()).orElse(null),
                token.filter(TokenSecrets::invalidated).isPresent(),
                observed.serviceAccount() == null ? null : observed.serviceAccount().getMetadata().getUid(),
                observed.version().getGitVersion(), observed.clusterUid());
    }
}

package io.apigw.authorizer.grant;

import java.util.Optional;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.policy.Policy;
import io.fabric8.kubernetes.api.model.Secret;

/** The console's "already authorized?" question, answered from what the cluster's reads found (pure). */
@ApplicationScoped
public class GrantInspector {

    /** This gateway instance: the shared ClusterRole is judged against what every marked instance relies on. */
    private final String self;

    public GrantInspector(AuthorizerConfig config) {
        this.self = config.instanceId();
    }

    /**
     * @param observed the cluster as {@link ObservedGrant#read} found it
     * @param policy the policy the cluster's ClusterRole should be
     * @param retiring token Secrets pending revocation: never the cluster's token
     */
    public Inspection inspect(ObservedGrant observed, Policy policy, Set<String> retiring) {
        ObservedGrant seen = observed.retiring(retiring);
        Optional<Secret> token = seen.canonicalToken().filter(TokenSecrets::filled);
        return new Inspection(seen.missing(), seen.drifted(policy, self),
                token.map(s -> s.getMetadata().getName()).orElse(null),
                token.filter(TokenSecrets::invalidated).isPresent(),
                seen.serviceAccount() == null ? null : seen.serviceAccount().getMetadata().getUid(),
                seen.version().getGitVersion(), seen.clusterUid());
    }
}

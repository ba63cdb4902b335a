package io.apigw.authorizer.grant;

import jakarta.enterprise.context.ApplicationScoped;

import io.apigw.authorizer.kube.ParallelCalls;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;

/** The console's "already authorized?" question, answered with reads only. */
@ApplicationScoped
public class GrantInspector {

    private final ParallelCalls calls;

    public GrantInspector(ParallelCalls calls) {
        this.calls = calls;
    }

    public Inspection inspect(KubernetesClient client) {
        ObservedGrant observed = ObservedGrant.read(client, calls);
        String tokenSecret = observed.canonicalToken().filter(TokenSecrets::filled).map(Secret::getMetadata)
                .map(m -> m.getName()).orElse(null);
        return new Inspection(observed.missing(), observed.drifted(), tokenSecret,
                observed.version().getGitVersion());
    }
}

package io.apigw.authorizer.grant;

import jakarta.enterprise.context.ApplicationScoped;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;

/** The console's "already authorized?" question, answered with reads only. */
@ApplicationScoped
public class GrantInspector {

    private final ParallelReads reads;

    public GrantInspector(ParallelReads reads) {
        this.reads = reads;
    }

    public Inspection inspect(KubernetesClient client) {
        ObservedGrant observed = ObservedGrant.read(client, reads);
        String tokenSecret = observed.canonicalToken().filter(TokenSecrets::filled).map(Secret::getMetadata)
                .map(m -> m.getName()).orElse(null);
        return new Inspection(observed.missing(), observed.drifted(), tokenSecret,
                observed.version().getGitVersion());
    }
}

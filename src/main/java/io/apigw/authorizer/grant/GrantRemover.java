package io.apigw.authorizer.grant;

import static io.apigw.authorizer.grant.ReservedResources.CLUSTER_ROLE;
import static io.apigw.authorizer.grant.ReservedResources.CLUSTER_ROLE_BINDING;
import static io.apigw.authorizer.grant.ReservedResources.NAMESPACE;
import static io.apigw.authorizer.grant.ReservedResources.SERVICE_ACCOUNT;
import static io.apigw.authorizer.kube.KubeErrors.call;

import java.util.List;
import java.util.function.Supplier;

import jakarta.enterprise.context.ApplicationScoped;

import io.apigw.authorizer.result.ResourceAction;
import io.apigw.authorizer.result.ResourceAction.Action;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.StatusDetails;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * Takes the gateway's access away: deletes the four reserved resources by their reserved names (and the token
 * Secrets issued for the gateway's service account), nothing else. The binding goes first, so the rights end at
 * once; running it again reports {@code absent}.
 */
@ApplicationScoped
public class GrantRemover {

    public void remove(KubernetesClient client, ChangeLog log) {
        log.record(delete(client, Reserved.CLUSTER_ROLE_BINDING,
                () -> client.rbac().clusterRoleBindings().withName(CLUSTER_ROLE_BINDING).delete()));
        log.record(delete(client, Reserved.CLUSTER_ROLE,
                () -> client.rbac().clusterRoles().withName(CLUSTER_ROLE).delete()));
        List<Secret> tokens = call(client, "listing Secrets in " + NAMESPACE,
                () -> TokenSecrets.inKubeSystem(client).list().getItems()).stream()
                .filter(TokenSecrets::reserved).toList();
        for (Secret token : tokens) {
            String name = token.getMetadata().getName();
            log.record(Reserved.TOKEN_SECRET.report(name, deleted(call(client, "deleting token Secret " + name,
                    () -> client.secrets().inNamespace(NAMESPACE).withName(name).delete()))));
        }
        if (tokens.isEmpty() && !log.has(Reserved.TOKEN_SECRET.kind)) {
            log.record(Reserved.TOKEN_SECRET.report(Action.absent));
        }
        log.record(delete(client, Reserved.SERVICE_ACCOUNT,
                () -> client.serviceAccounts().inNamespace(NAMESPACE).withName(SERVICE_ACCOUNT).delete()));
    }

    private static ResourceAction delete(KubernetesClient client, Reserved resource,
            Supplier<List<StatusDetails>> call) {
        return resource.report(deleted(call(client, "deleting " + resource.described(), call)));
    }

    private static Action deleted(List<?> details) {
        return details == null || details.isEmpty() ? Action.absent : Action.deleted;
    }
}

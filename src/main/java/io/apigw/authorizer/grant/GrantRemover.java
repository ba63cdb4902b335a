package io.apigw.authorizer.grant;

import static io.apigw.authorizer.grant.ReservedResources.CLUSTER_ROLE;
import static io.apigw.authorizer.grant.ReservedResources.CLUSTER_ROLE_BINDING;
import static io.apigw.authorizer.grant.ReservedResources.NAMESPACE;
import static io.apigw.authorizer.grant.ReservedResources.SERVICE_ACCOUNT;
import static io.apigw.authorizer.kube.KubeErrors.call;

import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

import jakarta.enterprise.context.ApplicationScoped;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.result.ResourceAction;
import io.apigw.authorizer.result.ResourceAction.Action;
import io.apigw.authorizer.marks.Marks;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.StatusDetails;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * Takes the gateway's access away: deletes the four reserved resources by their reserved names (and the token
 * Secrets issued for the gateway's service account), nothing else. The binding goes first, so the rights end at
 * once; running it again reports {@code absent}. While another owner relies on them (another gateway instance, or an
 * account that was there before any), they are kept and only this instance's mark is taken off.
 */
@ApplicationScoped
public class GrantRemover {

    private final String self;

    public GrantRemover(AuthorizerConfig config) {
        this.self = config.instanceId();
    }

    /** @return the other owners for whom the reserved resources were kept; empty when they were removed */
    public Set<String> remove(KubernetesClient client, ChangeLog log) {
        ServiceAccount sa = call(client, "reading " + Reserved.SERVICE_ACCOUNT.described(),
                () -> client.serviceAccounts().inNamespace(NAMESPACE).withName(SERVICE_ACCOUNT).get());
        Owners owners = Owners.of(sa);
        Set<String> others = owners.others(self);
        if (sa != null && !others.isEmpty()) {
            if (owners.includes(self)) {
                // With the resourceVersion read: an owner who joined meanwhile is never dropped (409: runs again).
                ServiceAccount unmarked = new ServiceAccountBuilder(sa).editMetadata()
                        .addToAnnotations(Marks.OWNERS, owners.left(self))
                        .addToAnnotations(Marks.OWNER_POLICIES, owners.policiesLeft(self)).endMetadata().build();
                call(client, "unmarking " + Reserved.SERVICE_ACCOUNT.described(),
                        () -> client.serviceAccounts().inNamespace(NAMESPACE).resource(unmarked).update());
            }
            for (Reserved r : List.of(Reserved.CLUSTER_ROLE_BINDING, Reserved.CLUSTER_ROLE, Reserved.TOKEN_SECRET,
                    Reserved.SERVICE_ACCOUNT)) {
                log.record(r.report(Action.kept));
            }
            return others;
        }
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
        return Set.of();
    }

    private static ResourceAction delete(KubernetesClient client, Reserved resource,
            Supplier<List<StatusDetails>> call) {
        return resource.report(deleted(call(client, "deleting " + resource.described(), call)));
    }

    private static Action deleted(List<?> details) {
        return details == null || details.isEmpty() ? Action.absent : Action.deleted;
    }
}

package io.apigw.authorizer.grant;

import java.util.List;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.result.ResourceAction.Action;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccount;
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
        ServiceAccount sa = AccountResource.read(client);
        Owners owners = Owners.of(sa);
        Set<String> others = owners.others(self);
        if (sa != null && !others.isEmpty()) {
            if (owners.includes(self)) {
                AccountResource.unmark(client, sa, self);
            }
            for (Reserved r : List.of(Reserved.CLUSTER_ROLE_BINDING, Reserved.CLUSTER_ROLE, Reserved.TOKEN_SECRET,
                    Reserved.SERVICE_ACCOUNT)) {
                log.record(r.report(Action.kept));
            }
            return others;
        }
        // The binding first, so the rights end at once.
        log.record(Reserved.CLUSTER_ROLE_BINDING.report(BindingResource.delete(client)));
        log.record(Reserved.CLUSTER_ROLE.report(RoleResource.delete(client)));
        List<Secret> tokens = TokenSecretResource.list(client).stream().filter(TokenSecrets::reserved).toList();
        for (Secret token : tokens) {
            String name = token.getMetadata().getName();
            log.record(Reserved.TOKEN_SECRET.report(name, TokenSecretResource.delete(client, name)));
        }
        if (tokens.isEmpty() && !log.has(Reserved.TOKEN_SECRET.kind)) {
            log.record(Reserved.TOKEN_SECRET.report(Action.absent));
        }
        log.record(Reserved.SERVICE_ACCOUNT.report(AccountResource.delete(client)));
        return Set.of();
    }

    /** What a delete call's answer says: nothing was there ({@code absent}) or it went. */
    static Action deleted(List<?> details) {
        return details == null || details.isEmpty() ? Action.absent : Action.deleted;
    }
}

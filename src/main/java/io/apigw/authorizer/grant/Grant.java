package io.apigw.authorizer.grant;

import java.util.List;

import io.apigw.authorizer.credential.Token;
import io.apigw.authorizer.result.ResourceAction;
import java.util.Set;

/**
 * The four reserved resources in place, and the service account's token, which the gateway probe found usable.
 * {@code tokenSecretUid} tells that Secret from a later one of the same name; {@code legacyToken}: it is the
 * auto-created Secret the account lists, on a cluster (1.24+) where the legacy token cleaner may invalidate it.
 * {@code clusterUid}: the cluster's identity ({@link ClusterIdentity}; null when it cannot be read); {@code sharedWith}:
 * the other gateway instances that rely on the same account and token ({@link Owners#otherInstances}).
 */
public record Grant(List<ResourceAction> resources, String tokenSecret, String tokenSecretUid, Token token,
        String kubernetesVersion, boolean legacyToken, String clusterUid, Set<String> sharedWith) {

    public boolean alreadyAuthorized() {
        return resources.stream().allMatch(r -> r.action() == ResourceAction.Action.unchanged);
    }
}

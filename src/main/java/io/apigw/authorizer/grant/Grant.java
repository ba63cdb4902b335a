package io.apigw.authorizer.grant;

import java.util.List;

import io.apigw.authorizer.credential.Token;
import io.apigw.authorizer.result.ResourceAction;

/** The four reserved resources in place, and the service account's token. */
public record Grant(List<ResourceAction> resources, String tokenSecret, Token token, String kubernetesVersion) {

    public boolean alreadyAuthorized() {
        return resources.stream().allMatch(r -> r.action() == ResourceAction.Action.unchanged);
    }
}

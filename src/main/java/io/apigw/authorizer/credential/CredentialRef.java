package io.apigw.authorizer.credential;

import io.apigw.authorizer.result.ResourceAction;
import io.apigw.authorizer.result.ResourceAction.Action;

/** Where a cluster's stored credential is kept: a Secret in the worker's own cluster. */
public record CredentialRef(String namespace, String name) {

    /** {@code <namespace>/<name>}, as results carry it in {@code credentialRef}. */
    public String value() {
        return namespace + "/" + name;
    }

    /** The stored credential as a Deauthorized result lists it. */
    public ResourceAction report(Action action) {
        return new ResourceAction("Secret", namespace, name, action);
    }
}

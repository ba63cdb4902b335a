package io.apigw.authorizer.grant;

import com.fasterxml.jackson.annotation.JsonInclude;

/** What the worker did to one reserved resource, as reported in {@code Authorized.resources}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ResourceAction(String kind, String namespace, String name, Action action) {

    public enum Action {
        created,
        updated,
        unchanged,
        deleted,
        absent,
        /** Deauthorize could not reach the cluster (private access off, cluster gone): it may still exist. */
        unreachable
    }

    public static ResourceAction clusterScoped(String kind, String name, Action action) {
        return new ResourceAction(kind, null, name, action);
    }

    public static ResourceAction namespaced(String kind, String name, Action action) {
        return new ResourceAction(kind, ReservedResources.NAMESPACE, name, action);
    }
}

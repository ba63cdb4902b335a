package io.apigw.authorizer.result;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * What the worker did to one resource, as reported in {@code Authorized.resources} and {@code Deauthorized.resources};
 * {@code namespace} is absent for cluster-scoped ones.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ResourceAction(String kind, String namespace, String name, Action action) {

    public enum Action {
        created,
        updated,
        unchanged,
        deleted,
        absent,
        /** Deauthorize could not reach the cluster (private access off, cluster gone): it may still exist. */
        unreachable,
        /** Since v1.5: deauthorize left it in place, since another owner still relies on it. */
        kept
    }
}

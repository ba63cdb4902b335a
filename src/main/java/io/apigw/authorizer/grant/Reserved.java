package io.apigw.authorizer.grant;

import java.util.List;

import io.apigw.authorizer.result.ResourceAction;
import io.apigw.authorizer.result.ResourceAction.Action;

/**
 * The four reserved resources as one set: kind, namespace (null: cluster-scoped) and name, and how a result reports
 * them. Reconcile, inspect, remove and the worker's reports all name them through this, nothing else.
 */
public enum Reserved {
    SERVICE_ACCOUNT("ServiceAccount", ReservedResources.NAMESPACE, ReservedResources.SERVICE_ACCOUNT),
    CLUSTER_ROLE("ClusterRole", null, ReservedResources.CLUSTER_ROLE),
    CLUSTER_ROLE_BINDING("ClusterRoleBinding", null, ReservedResources.CLUSTER_ROLE_BINDING),
    /** Its name is chosen per cluster (see TokenSecrets); the pattern stands in where no one Secret is meant. */
    TOKEN_SECRET("Secret", ReservedResources.NAMESPACE, ReservedResources.TOKEN_SECRET_PREFIX + "*");

    public final String kind;
    public final String namespace;
    public final String name;

    Reserved(String kind, String namespace, String name) {
        this.kind = kind;
        this.namespace = namespace;
        this.name = name;
    }

    public ResourceAction report(Action action) {
        return report(name, action);
    }

    /** For the token Secret, under the name of the one Secret meant. */
    public ResourceAction report(String name, Action action) {
        return new ResourceAction(kind, namespace, name, action);
    }

    /**
     * The four as a result reports them, all with one action; the token Secret under {@code tokenSecret} (null: the
     * pattern, when no one Secret is known).
     */
    public static List<ResourceAction> each(Action action, String tokenSecret) {
        return List.of(SERVICE_ACCOUNT.report(action), CLUSTER_ROLE.report(action), CLUSTER_ROLE_BINDING.report(action),
                tokenSecret == null ? TOKEN_SECRET.report(action) : TOKEN_SECRET.report(tokenSecret, action));
    }

    /** {@code kind/name}, as a check lists what is missing or drifted. */
    public String ref() {
        return kind + "/" + name;
    }

    /** How a message names it: {@code ClusterRole apigw-ingress-clusterrole}, {@code ServiceAccount kube-system/x}. */
    public String described() {
        return kind + " " + (namespace == null ? "" : namespace + "/") + name;
    }
}

package io.apigw.authorizer.grant;

import static io.apigw.authorizer.grant.ReservedResources.CLUSTER_ROLE;
import static io.apigw.authorizer.kube.KubeErrors.call;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import io.apigw.authorizer.marks.Marks;
import io.apigw.authorizer.policy.Policy;
import io.apigw.authorizer.result.ResourceAction.Action;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * The reserved ClusterRole {@code apigw-ingress-clusterrole}: how it is read, when it matches a policy, written and
 * deleted. What it should be is {@link ReservedResources#clusterRole}, the seed's text.
 */
final class RoleResource {

    private RoleResource() {
    }

    static ClusterRole read(KubernetesClient client) {
        return call(client, "reading " + Reserved.CLUSTER_ROLE.described(),
                () -> client.rbac().clusterRoles().withName(CLUSTER_ROLE).get());
    }

    /** The policy's rules, in any order, and no aggregation rule (which would make the server overwrite them). */
    static boolean matches(ClusterRole role, Policy policy) {
        return role != null && role.getAggregationRule() == null
                && normalized(role.getRules()).equals(normalized(policy.rules()));
    }

    static void write(KubernetesClient client, Action action, ClusterRole role, Policy policy) {
        switch (action) {
            case created -> call(client, "creating " + Reserved.CLUSTER_ROLE.described(),
                    () -> client.rbac().clusterRoles().resource(ReservedResources.clusterRole(policy)).create());
            // Locked to the role as read: a concurrent change is a conflict and the attempt is run again.
            case updated -> call(client, "writing policy v" + policy.version() + " to "
                    + Reserved.CLUSTER_ROLE.described(), () -> client.rbac().clusterRoles().resource(
                            new ClusterRoleBuilder(role).editMetadata().addToAnnotations(
                                    Marks.POLICY_VERSION, String.valueOf(policy.version()))
                                    .endMetadata().withRules(policy.rules()).withAggregationRule(null).build())
                            .update());
            default -> {
            }
        }
    }

    static Action delete(KubernetesClient client) {
        return GrantRemover.deleted(call(client, "deleting " + Reserved.CLUSTER_ROLE.described(),
                () -> client.rbac().clusterRoles().withName(CLUSTER_ROLE).delete()));
    }

    /** Same rules, in any order: the order of rules and list entries carries no meaning in RBAC. */
    private static Set<List<Set<String>>> normalized(List<PolicyRule> rules) {
        Set<List<Set<String>>> out = new HashSet<>();
        if (rules != null) {
            for (PolicyRule r : rules) {
                out.add(List.of(set(r.getApiGroups()), set(r.getResources()), set(r.getVerbs()),
                        set(r.getResourceNames()), set(r.getNonResourceURLs())));
            }
        }
        return out;
    }

    private static Set<String> set(List<String> l) {
        return l == null ? Set.of() : new HashSet<>(l);
    }
}

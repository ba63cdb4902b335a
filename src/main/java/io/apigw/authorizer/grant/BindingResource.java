package io.apigw.authorizer.grant;

import static io.apigw.authorizer.grant.ReservedResources.CLUSTER_ROLE;
import static io.apigw.authorizer.grant.ReservedResources.CLUSTER_ROLE_BINDING;
import static io.apigw.authorizer.grant.ReservedResources.NAMESPACE;
import static io.apigw.authorizer.grant.ReservedResources.RBAC_GROUP;
import static io.apigw.authorizer.grant.ReservedResources.SERVICE_ACCOUNT;
import static io.apigw.authorizer.kube.KubeErrors.call;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.apigw.authorizer.kube.KubeErrors;
import io.apigw.authorizer.result.ResourceAction.Action;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * The reserved ClusterRoleBinding {@code apigw-ingress-clusterrole-binding}: how it is read, when it matches, written
 * (made again when its immutable roleRef is foreign) and deleted. What it should be is
 * {@link ReservedResources#clusterRoleBinding}, the seed's text.
 */
final class BindingResource {

    private BindingResource() {
    }

    static ClusterRoleBinding read(KubernetesClient client) {
        return call(client, "reading " + Reserved.CLUSTER_ROLE_BINDING.described(),
                () -> client.rbac().clusterRoleBindings().withName(CLUSTER_ROLE_BINDING).get());
    }

    static boolean roleRefMatches(ClusterRoleBinding binding) {
        return binding != null && binding.getRoleRef() != null
                && Reserved.CLUSTER_ROLE.kind.equals(binding.getRoleRef().getKind())
                && CLUSTER_ROLE.equals(binding.getRoleRef().getName())
                && RBAC_GROUP.equals(binding.getRoleRef().getApiGroup());
    }

    static boolean subjectsMatch(ClusterRoleBinding binding) {
        if (binding == null || binding.getSubjects() == null || binding.getSubjects().size() != 1) {
            return false;
        }
        Subject s = binding.getSubjects().get(0);
        return Reserved.SERVICE_ACCOUNT.kind.equals(s.getKind()) && SERVICE_ACCOUNT.equals(s.getName())
                && NAMESPACE.equals(s.getNamespace()) && (s.getApiGroup() == null || s.getApiGroup().isEmpty());
    }

    /**
     * @param binding as observed (null: none)
     * @param rebind its roleRef is foreign: roleRef is immutable, so it is deleted, awaited gone for up to
     *        {@code goneWithin}, and made again
     */
    static void write(KubernetesClient client, ClusterRoleBinding binding, Action action, boolean rebind,
            Duration goneWithin) {
        if (rebind) {
            String uid = binding.getMetadata().getUid();
            call(client, "deleting " + Reserved.CLUSTER_ROLE_BINDING.described() + " with a foreign roleRef",
                    () -> client.rbac().clusterRoleBindings().withName(CLUSTER_ROLE_BINDING)
                            .lockResourceVersion(binding.getMetadata().getResourceVersion()).delete());
            awaitGone(client, uid, goneWithin);
        }
        if (binding == null || rebind) {
            call(client, "creating " + Reserved.CLUSTER_ROLE_BINDING.described(),
                    () -> client.rbac().clusterRoleBindings().resource(ReservedResources.clusterRoleBinding()).create());
        } else if (action == Action.updated) {
            call(client, "repairing " + Reserved.CLUSTER_ROLE_BINDING.described(),
                    () -> client.rbac().clusterRoleBindings().resource(new ClusterRoleBindingBuilder(binding)
                            .withSubjects(ReservedResources.SUBJECT).build()).update());
        }
    }

    static Action delete(KubernetesClient client) {
        return GrantRemover.deleted(call(client, "deleting " + Reserved.CLUSTER_ROLE_BINDING.described(),
                () -> client.rbac().clusterRoleBindings().withName(CLUSTER_ROLE_BINDING).delete()));
    }

    private static void awaitGone(KubernetesClient client, String uid, Duration within) {
        try {
            client.rbac().clusterRoleBindings().withName(CLUSTER_ROLE_BINDING)
                    .waitUntilCondition(b -> b == null || !uid.equals(b.getMetadata().getUid()),
                            within.toMillis(), TimeUnit.MILLISECONDS);
        } catch (KubernetesClientException e) {
            throw KubeErrors.classify(e, "waiting for ClusterRoleBinding " + CLUSTER_ROLE_BINDING + " to be deleted");
        }
    }
}

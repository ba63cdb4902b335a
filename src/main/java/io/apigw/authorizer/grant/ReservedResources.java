package io.apigw.authorizer.grant;

import java.util.Map;
import java.util.Optional;

import io.apigw.authorizer.policy.Policy;
import io.apigw.authorizer.marks.Marks;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleRef;
import io.fabric8.kubernetes.api.model.rbac.RoleRefBuilder;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.api.model.rbac.SubjectBuilder;
import java.util.TreeMap;

/**
 * The four reserved resources of the API gateway authorization document, exactly as published there. Nothing else
 * in a target cluster is ever written.
 */
public final class ReservedResources {

    public static final String NAMESPACE = "kube-system";
    public static final String SERVICE_ACCOUNT = "apigw-ingress";
    public static final String CLUSTER_ROLE = "apigw-ingress-clusterrole";
    public static final String CLUSTER_ROLE_BINDING = "apigw-ingress-clusterrole-binding";
    public static final String TOKEN_SECRET_PREFIX = "apigw-ingress-token-";
    public static final String TOKEN_SECRET_TYPE = "kubernetes.io/service-account-token";
    public static final String SA_NAME_ANNOTATION = "kubernetes.io/service-account.name";
    public static final String SA_UID_ANNOTATION = "kubernetes.io/service-account.uid";
    public static final String RBAC_GROUP = "rbac.authorization.k8s.io";
    /** Set by the legacy service account token cleaner (KEP-2799, 1.29+) on an unused auto-created token Secret. */
    public static final String LEGACY_TOKEN_INVALID_SINCE = "kubernetes.io/legacy-token-invalid-since";


    /** Added to what the worker creates, so operators can tell who made it; never required on existing objects. */
    public static final Map<String, String> LABELS = Map.of("app.kubernetes.io/managed-by", "apigw-tke-authorizer");

    public static final RoleRef ROLE_REF = new RoleRefBuilder()
            .withApiGroup(RBAC_GROUP).withKind(Reserved.CLUSTER_ROLE.kind).withName(CLUSTER_ROLE).build();

    public static final Subject SUBJECT = new SubjectBuilder()
            .withKind(Reserved.SERVICE_ACCOUNT.kind).withName(SERVICE_ACCOUNT).withNamespace(NAMESPACE).build();

    private ReservedResources() {
    }

    /** The account, marked as relied on by this gateway instance ({@code owners}) and the tenant's appId. */
    public static ServiceAccount serviceAccount(String owners, Optional<String> appId) {
        Map<String, String> annotations = new TreeMap<>();
        annotations.put(Marks.OWNERS, owners);
        appId.ifPresent(a -> annotations.put(Marks.APP_ID, a));
        return new ServiceAccountBuilder()
                .withMetadata(new ObjectMetaBuilder().withNamespace(NAMESPACE).withName(SERVICE_ACCOUNT)
                        .withLabels(LABELS).withAnnotations(annotations).build())
                .build();
    }

    public static ClusterRole clusterRole(Policy policy) {
        return new ClusterRoleBuilder()
                .withMetadata(new ObjectMetaBuilder().withName(CLUSTER_ROLE).withLabels(LABELS)
                        .withAnnotations(Map.of(Marks.POLICY_VERSION, String.valueOf(policy.version()))).build())
                .withRules(policy.rules())
                .build();
    }

    public static ClusterRoleBinding clusterRoleBinding() {
        return new ClusterRoleBindingBuilder()
                .withMetadata(new ObjectMetaBuilder().withName(CLUSTER_ROLE_BINDING).withLabels(LABELS).build())
                .withRoleRef(ROLE_REF)
                .withSubjects(SUBJECT)
                .build();
    }
}

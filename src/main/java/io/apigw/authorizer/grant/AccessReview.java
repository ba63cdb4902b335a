package io.apigw.authorizer.grant;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import io.apigw.authorizer.kube.KubeErrors;
import io.apigw.authorizer.policy.Policy;
import io.apigw.authorizer.kube.ParallelCalls;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceRule;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Optional;

/**
 * Checks, before the first write, that the admin credential may make every planned change, each at the scope the API
 * server will judge it, so that a credential that lacks rights gets {@code PERMISSION_DENIED} with nothing written
 * rather than a half-applied cluster. Where the server cannot answer completely, the server decides.
 *
 * <p>
 * Two kinds of review, because RBAC judges two scopes. A SelfSubjectRulesReview for kube-system lists the rules that
 * hold there: cluster-wide grants and kube-system's RoleBindings alike, which is right for the namespaced writes and
 * the token watch, and a necessary condition for everything else (what is not granted in kube-system is not granted
 * cluster-wide). But the ClusterRole, the ClusterRoleBinding and RBAC's escalation rule (whoever creates or binds the
 * role must hold its rights cluster-wide, or {@code escalate}/{@code bind}) count cluster-wide grants only, and a
 * rules review cannot tell those from namespaced ones: for them a SelfSubjectAccessReview without a namespace asks
 * the authorizer the very question the server will ask for the write. One such review of {@code *} on everything
 * answers them all for a cluster admin; anyone else gets one review per permission.
 */
final class AccessReview {

    private static final String REVIEWING = "reviewing the admin credential's rights";

    /** Where the API server judges a permission: in kube-system, or cluster-wide only. */
    enum Scope {
        KUBE_SYSTEM,
        CLUSTER
    }

    /** One permission: verb on group/resource (optionally on one named object), and where it must be held. */
    record Permission(Scope scope, String verb, String group, String resource, String name) {

        static Permission inKubeSystem(String verb, String group, String resource) {
            return new Permission(Scope.KUBE_SYSTEM, verb, group, resource, null);
        }

        static Permission inKubeSystem(String verb, String group, String resource, String name) {
            return new Permission(Scope.KUBE_SYSTEM, verb, group, resource, name);
        }

        static Permission clusterWide(String verb, String group, String resource) {
            return new Permission(Scope.CLUSTER, verb, group, resource, null);
        }

        static Permission clusterWide(String verb, String group, String resource, String name) {
            return new Permission(Scope.CLUSTER, verb, group, resource, name);
        }

        @Override
        public String toString() {
            return verb + " " + (group.isEmpty() ? "" : group + "/") + resource + (name == null ? "" : "/" + name)
                    + (scope == Scope.CLUSTER ? " (cluster-wide)" : " (in " + ReservedResources.NAMESPACE + ")");
        }
    }

    /**
     * What a plan needs the credential to hold: the permissions of its writes and waits, and whether it creates or
     * changes the role ({@code grantsRole}) or binds it ({@code bindsRole}), for the escalation rule, and the rights the
     * role grants ({@code roleRights}), which the escalation rule asks the credential to hold.
     */
    record Rights(Set<Permission> permissions, boolean grantsRole, boolean bindsRole, List<Permission> roleRights) {

        boolean none() {
            return permissions.isEmpty() && !grantsRole && !bindsRole;
        }

        /** Whether anything must be held cluster-wide (then a cluster-wide review is needed). */
        boolean clusterScoped() {
            return grantsRole || bindsRole || permissions.stream().anyMatch(p -> p.scope() == Scope.CLUSTER);
        }
    }

    /** Answers "is this allowed cluster-wide?"; {@code true} when the server cannot say. */
    interface ClusterWide {
        boolean allowed(Permission p);
    }

    /** A cluster-wide {@code *} on everything: RBAC allows it only to a rule that covers every permission. */
    static final Permission EVERYTHING = Permission.clusterWide("*", "*", "*");

    private AccessReview() {
    }

    /** Every permission a policy grants, one tuple each, as RBAC's escalation rule counts them. */
    static List<Permission> permissions(Policy policy) {
        List<Permission> all = new ArrayList<>();
        for (PolicyRule r : policy.rules()) {
            for (String g : r.getApiGroups()) {
                for (String res : r.getResources()) {
                    for (String v : r.getVerbs()) {
                        all.add(Permission.clusterWide(v, g, res));
                    }
                }
            }
        }
        return all;
    }

    static void require(KubernetesClient client, Rights rights, ParallelCalls calls) {
        if (rights.none()) {
            return;
        }
        // The cluster admin's question goes out with the rules review, so that the usual case costs one round trip.
        CompletableFuture<Boolean> everything = rights.clusterScoped()
                ? calls.submit(() -> allowedClusterWide(client, EVERYTHING)) : null;
        ClusterWide clusterWide = p -> everything != null && p.equals(EVERYTHING) ? ParallelCalls.join(everything)
                : allowedClusterWide(client, p);
        Set<Permission> missing;
        try {
            missing = missing(rulesInKubeSystem(client), rights, clusterWide);
        } finally {
            if (everything != null) {
                ParallelCalls.settled(everything); // never outlives the attempt's client
            }
        }
        if (!missing.isEmpty()) {
            throw AuthorizationException.permanent(FailureCode.PERMISSION_DENIED,
                    "the cluster admin credential may not create the reserved resources; nothing was changed. Missing: "
                            + String.join(", ", missing.stream().limit(8).map(Permission::toString).toList())
                            + (missing.size() > 8 ? " and " + (missing.size() - 8) + " more" : ""));
        }
    }

    /**
     * The decision, without I/O: what the credential lacks. {@code rules} are kube-system's (null: unknown), which
     * bound every scope; {@code clusterWide} is asked only about what they allow.
     */
    static Set<Permission> missing(List<ResourceRule> rules, Rights rights, ClusterWide clusterWide) {
        Set<Permission> missing = new LinkedHashSet<>();
        if (rules != null) {
            for (Permission p : rights.permissions()) {
                if (!covered(rules, p)) {
                    missing.add(p);
                }
            }
            escalation(rights, p -> covered(rules, p)).ifPresent(missing::add);
        }
        if (!missing.isEmpty() || !rights.clusterScoped() || clusterWide.allowed(EVERYTHING)) {
            return missing;
        }
        for (Permission p : rights.permissions()) {
            if (p.scope() == Scope.CLUSTER && !clusterWide.allowed(p)) {
                missing.add(p);
            }
        }
        escalation(rights, clusterWide).ifPresent(missing::add);
        return missing;
    }

    /**
     * RBAC's escalation rule: to create or change the role, hold its rights or {@code escalate}; to bind it, hold its
     * rights or {@code bind}. Returns what stands in the way, if anything.
     */
    private static Optional<Permission> escalation(Rights rights, ClusterWide holds) {
        Permission escalate = Permission.clusterWide("escalate", ReservedResources.RBAC_GROUP, "clusterroles");
        Permission bind = Permission.clusterWide("bind", ReservedResources.RBAC_GROUP, "clusterroles",
                ReservedResources.CLUSTER_ROLE);
        boolean roleOk = !rights.grantsRole() || holds.allowed(escalate);
        boolean bindOk = !rights.bindsRole() || holds.allowed(bind);
        if (roleOk && bindOk || rights.roleRights().stream().allMatch(holds::allowed)) {
            return Optional.empty();
        }
        return Optional.of(roleOk ? bind
                : Permission.clusterWide("(hold every right of)", ReservedResources.RBAC_GROUP, "clusterroles",
                        ReservedResources.CLUSTER_ROLE));
    }

    /** The rules that hold in kube-system, or null when the server cannot list them completely. */
    private static List<ResourceRule> rulesInKubeSystem(KubernetesClient client) {
        SelfSubjectRulesReview review;
        try {
            review = KubeErrors.bounded(client, REVIEWING, () -> client.authorization().v1().selfSubjectRulesReview()
                    .create(new SelfSubjectRulesReviewBuilder()
                            .withNewSpec().withNamespace(ReservedResources.NAMESPACE).endSpec().build()));
        } catch (KubernetesClientException e) {
            if (e.getCode() == 403 || e.getCode() == 404) {
                return null; // the review API itself is unavailable: the writes will tell
            }
            throw KubeErrors.classify(e, REVIEWING);
        }
        if (review == null || review.getStatus() == null || Boolean.TRUE.equals(review.getStatus().getIncomplete())) {
            return null;
        }
        return review.getStatus().getResourceRules() == null ? List.of() : review.getStatus().getResourceRules();
    }

    /** One SelfSubjectAccessReview without a namespace: the question the server asks for a cluster-scoped write. */
    private static boolean allowedClusterWide(KubernetesClient client, Permission p) {
        int slash = p.resource().indexOf('/');
        SelfSubjectAccessReview review;
        try {
            review = KubeErrors.bounded(client, REVIEWING, () -> client.authorization().v1().selfSubjectAccessReview()
                    .create(new SelfSubjectAccessReviewBuilder().withNewSpec().withNewResourceAttributes()
                            .withVerb(p.verb()).withGroup(p.group())
                            .withResource(slash < 0 ? p.resource() : p.resource().substring(0, slash))
                            .withSubresource(slash < 0 ? null : p.resource().substring(slash + 1))
                            .withName(p.name())
                            .endResourceAttributes().endSpec().build()));
        } catch (KubernetesClientException e) {
            if (e.getCode() == 403 || e.getCode() == 404) {
                return true; // the review API itself is unavailable: the writes will tell
            }
            throw KubeErrors.classify(e, REVIEWING);
        }
        // No answer (a server that only echoes): the server decides on the write.
        return review == null || review.getStatus() == null || Boolean.TRUE.equals(review.getStatus().getAllowed());
    }
    /** RBAC's own matching: {@code *} matches anything, but a wanted {@code *} verb needs a granted {@code *}. */
    static boolean covered(List<ResourceRule> rules, Permission p) {
        for (ResourceRule r : rules) {
            if (matches(r.getVerbs(), p.verb()) && matches(r.getApiGroups(), p.group())
                    && resourceMatches(r.getResources(), p.resource())
                    && (r.getResourceNames() == null || r.getResourceNames().isEmpty()
                            || (p.name() != null && r.getResourceNames().contains(p.name())))) {
                return true;
            }
        }
        return false;
    }

    private static boolean matches(List<String> granted, String wanted) {
        return granted != null && (granted.contains("*") || granted.contains(wanted));
    }

    private static boolean resourceMatches(List<String> granted, String wanted) {
        if (granted == null) {
            return false;
        }
        if (granted.contains("*") || granted.contains(wanted)) {
            return true;
        }
        int slash = wanted.indexOf('/');
        return slash > 0 && granted.contains("*" + wanted.substring(slash));
    }
}

package io.apigw.authorizer.grant;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceRule;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * Checks, before the first write, that the admin credential may make every planned change, including RBAC's
 * escalation rule (whoever creates or binds the role must hold its rights, or {@code escalate}/{@code bind}). One
 * SelfSubjectRulesReview answers it, so a credential that lacks rights gets {@code PERMISSION_DENIED} with nothing
 * written rather than a half-applied cluster. Where the server cannot list rules completely, the server decides.
 */
final class AccessReview {

    private static final String REVIEWING = "reviewing the admin credential's rights";

    /** One permission: verb on group/resource, optionally on one named object. */
    record Permission(String verb, String group, String resource, String name) {

        static Permission of(String verb, String group, String resource) {
            return new Permission(verb, group, resource, null);
        }

        @Override
        public String toString() {
            return verb + " " + (group.isEmpty() ? "" : group + "/") + resource + (name == null ? "" : "/" + name);
        }
    }

    private AccessReview() {
    }

    /** All permissions the seed's ClusterRole grants, one tuple each. */
    static List<Permission> seedPermissions() {
        List<Permission> all = new ArrayList<>();
        for (PolicyRule r : ReservedResources.RULES) {
            for (String g : r.getApiGroups()) {
                for (String res : r.getResources()) {
                    for (String v : r.getVerbs()) {
                        all.add(Permission.of(v, g, res));
                    }
                }
            }
        }
        return all;
    }

    static void require(KubernetesClient client, Set<Permission> needed, boolean grantsRole, boolean bindsRole) {
        if (needed.isEmpty() && !grantsRole && !bindsRole) {
            return;
        }
        SelfSubjectRulesReview review;
        try {
            review = KubeErrors.bounded(client, REVIEWING, () -> client.authorization().v1().selfSubjectRulesReview()
                    .create(new SelfSubjectRulesReviewBuilder()
                            .withNewSpec().withNamespace(ReservedResources.NAMESPACE).endSpec().build()));
        } catch (KubernetesClientException e) {
            if (e.getCode() == 403 || e.getCode() == 404) {
                return; // the review API itself is unavailable: the writes will tell
            }
            throw KubeErrors.classify(e, REVIEWING);
        }
        if (review == null || review.getStatus() == null || Boolean.TRUE.equals(review.getStatus().getIncomplete())) {
            return;
        }
        List<ResourceRule> rules = review.getStatus().getResourceRules() == null ? List.of()
                : review.getStatus().getResourceRules();
        Set<Permission> missing = new LinkedHashSet<>();
        for (Permission p : needed) {
            if (!covered(rules, p)) {
                missing.add(p);
            }
        }
        boolean holdsSeed = seedPermissions().stream().allMatch(p -> covered(rules, p));
        if (grantsRole && !holdsSeed
                && !covered(rules, Permission.of("escalate", ReservedResources.RBAC_GROUP, "clusterroles"))) {
            missing.add(new Permission("(hold every right of)", ReservedResources.RBAC_GROUP, "clusterroles",
                    ReservedResources.CLUSTER_ROLE));
        }
        if (bindsRole && !holdsSeed && !covered(rules, new Permission("bind", ReservedResources.RBAC_GROUP,
                "clusterroles", ReservedResources.CLUSTER_ROLE))) {
            missing.add(new Permission("bind", ReservedResources.RBAC_GROUP, "clusterroles", ReservedResources.CLUSTER_ROLE));
        }
        if (!missing.isEmpty()) {
            throw AuthorizationException.permanent(FailureCode.PERMISSION_DENIED,
                    "the cluster admin credential may not create the reserved resources; nothing was changed. Missing: "
                            + String.join(", ", missing.stream().limit(8).map(Permission::toString).toList())
                            + (missing.size() > 8 ? " and " + (missing.size() - 8) + " more" : ""));
        }
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

package io.apigw.authorizer.grant;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.apigw.authorizer.grant.AccessReview.Permission;
import io.apigw.authorizer.grant.AccessReview.Rights;
import io.apigw.authorizer.grant.AccessReview.Scope;
import io.apigw.authorizer.policy.Policy;
import io.apigw.authorizer.result.ResourceAction.Action;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceRule;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceRuleBuilder;

/** The rights a plan needs, and RBAC's matching of them: plain decisions, no server. */
class AccessReviewTest {

    private static final String RBAC = "rbac.authorization.k8s.io";
    private static final List<ResourceRule> EVERYTHING = List.of(rule(List.of("*"), List.of("*"), List.of("*")));

    @Test
    void freshClusterNeedsEachWriteAtItsScopeAndTheTokenWatch() {
        Rights r = new GrantPlan(Policy.V1, Action.created, Action.created, Action.created, false, true, true)
                .rights();

        assertThat(r.permissions()).containsExactlyInAnyOrder(
                Permission.inKubeSystem("create", "", "serviceaccounts"),
                Permission.clusterWide("create", RBAC, "clusterroles"),
                Permission.clusterWide("create", RBAC, "clusterrolebindings"),
                Permission.inKubeSystem("create", "", "secrets"),
                Permission.inKubeSystem("get", "", "secrets"),
                Permission.inKubeSystem("list", "", "secrets"),
                Permission.inKubeSystem("watch", "", "secrets"));
        assertThat(r.grantsRole()).isTrue();
        assertThat(r.bindsRole()).isTrue();
    }

    @Test
    void everythingInPlaceNeedsNothing() {
        assertThat(new GrantPlan(Policy.V1, Action.unchanged, Action.unchanged, Action.unchanged, false, false,
                false).rights()
                .none()).isTrue();
    }

    @Test
    void aTokenStillToComeNeedsOnlyTheWatchOfSecrets() {
        Rights r = new GrantPlan(Policy.V1, Action.unchanged, Action.unchanged, Action.unchanged, false, false,
                true).rights();

        assertThat(r.permissions()).containsExactlyInAnyOrder(Permission.inKubeSystem("list", "", "secrets"),
                Permission.inKubeSystem("watch", "", "secrets"));
        assertThat(r.grantsRole() || r.bindsRole()).isFalse();
    }

    @Test
    void repairsNeedUpdateOfTheNamedObjectsAndARebindDeletesAndWatches() {
        Rights repair = new GrantPlan(Policy.V1, Action.unchanged, Action.updated, Action.updated, false, false,
                false).rights();
        assertThat(repair.permissions()).containsExactlyInAnyOrder(
                Permission.clusterWide("update", RBAC, "clusterroles", ReservedResources.CLUSTER_ROLE),
                Permission.clusterWide("update", RBAC, "clusterrolebindings", ReservedResources.CLUSTER_ROLE_BINDING));

        Rights rebind = new GrantPlan(Policy.V1, Action.unchanged, Action.unchanged, Action.updated, true, false,
                false).rights();
        assertThat(rebind.permissions()).containsExactlyInAnyOrder(
                Permission.clusterWide("create", RBAC, "clusterrolebindings"),
                Permission.clusterWide("delete", RBAC, "clusterrolebindings", ReservedResources.CLUSTER_ROLE_BINDING),
                Permission.clusterWide("list", RBAC, "clusterrolebindings", ReservedResources.CLUSTER_ROLE_BINDING),
                Permission.clusterWide("watch", RBAC, "clusterrolebindings", ReservedResources.CLUSTER_ROLE_BINDING));
        assertThat(rebind.grantsRole()).isFalse();
        assertThat(rebind.bindsRole()).isTrue();
    }

    @Test
    void clusterScopedWritesAndTheEscalationRuleAreJudgedClusterWide() {
        Rights fresh = new GrantPlan(Policy.V1, Action.created, Action.created, Action.created, false, false,
                true).rights();
        assertThat(fresh.permissions()).filteredOn(p -> p.resource().startsWith("cluster"))
                .allMatch(p -> p.scope() == Scope.CLUSTER);
        assertThat(fresh.permissions()).filteredOn(p -> !p.resource().startsWith("cluster"))
                .allMatch(p -> p.scope() == Scope.KUBE_SYSTEM);
        assertThat(AccessReview.permissions(Policy.V1)).allMatch(p -> p.scope() == Scope.CLUSTER);
    }

    @Test
    void kubeSystemRightsWithoutClusterWideOnesAreMissing() {
        // cluster-admin bound in kube-system only: the rules review shows everything, the cluster-wide review nothing.
        Rights fresh = new GrantPlan(Policy.V1, Action.created, Action.created, Action.created, false, false,
                true).rights();
        List<Permission> asked = new ArrayList<>();

        Set<Permission> missing = AccessReview.missing(EVERYTHING, fresh, p -> {
            asked.add(p);
            return false;
        });

        assertThat(missing).contains(Permission.clusterWide("create", RBAC, "clusterroles"),
                Permission.clusterWide("create", RBAC, "clusterrolebindings"));
        assertThat(missing).extracting(Permission::verb).contains("(hold every right of)");
        assertThat(asked).allMatch(p -> p.scope() == Scope.CLUSTER);
        assertThat(asked).doesNotContain(Permission.inKubeSystem("create", "", "serviceaccounts"));
    }

    @Test
    void aClusterAdminIsAnsweredByOneReview() {
        Rights fresh = new GrantPlan(Policy.V1, Action.created, Action.created, Action.created, false, true,
                true).rights();
        List<Permission> asked = new ArrayList<>();

        Set<Permission> missing = AccessReview.missing(EVERYTHING, fresh, p -> asked.add(p));

        assertThat(missing).isEmpty();
        assertThat(asked).containsExactly(AccessReview.EVERYTHING);
    }

    @Test
    void namespacedOnlyRightsAskNothingClusterWide() {
        Rights token = new GrantPlan(Policy.V1, Action.unchanged, Action.unchanged, Action.unchanged, false, false,
                true).rights();
        assertThat(AccessReview.missing(EVERYTHING, token, p -> {
            throw new AssertionError("asked " + p);
        })).isEmpty();
    }

    @Test
    void escalateOrBindStandsInForHoldingTheRolesRights() {
        Rights fresh = new GrantPlan(Policy.V1, Action.unchanged, Action.created, Action.created, false, false,
                false).rights();
        Set<String> granted = Set.of("*", "create", "escalate", "bind");
        assertThat(AccessReview.missing(null, fresh, p -> granted.contains(p.verb()) && !p.verb().equals("*")
                && p.resource().startsWith("cluster"))).isEmpty();
        // bind missing: the binding cannot be made by one who neither binds nor holds the rights.
        assertThat(AccessReview.missing(null, fresh, p -> p.verb().equals("create") || p.verb().equals("escalate")))
                .containsExactly(Permission.clusterWide("bind", RBAC, "clusterroles", ReservedResources.CLUSTER_ROLE));
    }

    @Test
    void missingInKubeSystemIsMissingEverywhereWithoutAskingFurther() {
        List<ResourceRule> readOnly = List.of(rule(List.of("*"), List.of("*"), List.of("get", "list", "watch")));
        Rights fresh = new GrantPlan(Policy.V1, Action.created, Action.created, Action.created, false, false,
                true).rights();

        Set<Permission> missing = AccessReview.missing(readOnly, fresh, p -> {
            throw new AssertionError("asked " + p);
        });

        assertThat(missing).contains(Permission.inKubeSystem("create", "", "serviceaccounts"),
                Permission.clusterWide("create", RBAC, "clusterroles"));
        assertThat(missing).doesNotContain(Permission.inKubeSystem("watch", "", "secrets"));
    }

    @Test
    void rbacMatching() {
        List<ResourceRule> rules = List.of(
                rule(List.of(""), List.of("secrets"), List.of("get", "list")),
                rule(List.of("extensions"), List.of("*/status"), List.of("*")),
                new ResourceRuleBuilder().withApiGroups(RBAC).withResources("clusterroles").withVerbs("update")
                        .withResourceNames(ReservedResources.CLUSTER_ROLE).build());

        assertThat(AccessReview.covered(rules, Permission.inKubeSystem("get", "", "secrets"))).isTrue();
        assertThat(AccessReview.covered(rules, Permission.inKubeSystem("watch", "", "secrets"))).isFalse();
        assertThat(AccessReview.covered(rules, Permission.inKubeSystem("get", "apps", "secrets"))).isFalse();
        // A wanted * verb needs a granted *.
        assertThat(AccessReview.covered(rules, Permission.inKubeSystem("*", "", "secrets"))).isFalse();
        assertThat(AccessReview.covered(rules, Permission.inKubeSystem("*", "extensions", "ingresses/status")))
                .isTrue();
        assertThat(AccessReview.covered(rules, Permission.inKubeSystem("get", "extensions", "ingresses"))).isFalse();
        // resourceNames: only a named permission for that name.
        assertThat(AccessReview.covered(rules, Permission.clusterWide("update", RBAC, "clusterroles",
                ReservedResources.CLUSTER_ROLE))).isTrue();
        assertThat(AccessReview.covered(rules, Permission.clusterWide("update", RBAC, "clusterroles"))).isFalse();
        assertThat(AccessReview.covered(rules, Permission.clusterWide("update", RBAC, "clusterroles", "other")))
                .isFalse();
    }

    private static ResourceRule rule(List<String> groups, List<String> resources, List<String> verbs) {
        return new ResourceRuleBuilder().withApiGroups(groups).withResources(resources).withVerbs(verbs).build();
    }
}

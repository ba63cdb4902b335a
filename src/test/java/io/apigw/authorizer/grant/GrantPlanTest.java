package io.apigw.authorizer.grant;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.apigw.authorizer.policy.Policy;
import io.apigw.authorizer.result.ResourceAction.Action;
import io.apigw.authorizer.marks.Marks;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.client.VersionInfo;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Set;

/** The plan, from observed states to actions, waves and the token decision (as Strimzi's TopicDiffTest). */
class GrantPlanTest {

    private static final VersionInfo V1_20 = version("1", "20");
    private static final VersionInfo V1_28 = version("1", "28");
    static final String SELF = "gw-a";

    @Test
    void emptyClusterOn128CreatesAllAndMakesTheTokenSecret() {
        GrantPlan plan = GrantPlan.of(new ObservedGrant(V1_28, null, null, null, List.of(), List.of(),
                Set.of(), "ns-uid"), Policy.V1, SELF);

        assertThat(plan).isEqualTo(new GrantPlan(Policy.V1, Action.created, Action.created, Action.created, false,
                true, true));
        assertThat(plan.wave1()).isTrue();
        assertThat(plan.wave2()).isTrue();
    }

    @Test
    void before124TheTokenControllerMakesTheSecret() {
        GrantPlan plan = GrantPlan.of(new ObservedGrant(V1_20, null, null, null, List.of(), List.of(),
                Set.of(), "ns-uid"), Policy.V1, SELF);

        assertThat(plan.createToken()).isFalse();
        assertThat(plan.awaitToken()).isTrue();
    }

    @Test
    void everythingInPlaceIsNoWorkAndNoReview() {
        ServiceAccount sa = account();
        GrantPlan plan = GrantPlan.of(new ObservedGrant(V1_28, sa, ReservedResources.clusterRole(Policy.V1),
                ReservedResources.clusterRoleBinding(), List.of(token(sa, "dG9rZW4=")), List.of(), Set.of(),
                "ns-uid"), Policy.V1, SELF);

        assertThat(plan).isEqualTo(new GrantPlan(Policy.V1, Action.unchanged, Action.unchanged, Action.unchanged, false, false,
                false));
        assertThat(plan.wave1() || plan.wave2()).isFalse();
        assertThat(plan.rights().none()).isTrue();
    }

    /** Issue 26, G3: an account marked before instances recorded their versions gets this instance's, once. */
    @Test
    void anOwnerWithoutARecordedVersionRecordsItsVersion() {
        ServiceAccount before = ReservedResources.serviceAccount(SELF, Optional.empty());
        ServiceAccount sa = new ServiceAccountBuilder(before).editMetadata().withUid("uid-1").endMetadata().build();
        GrantPlan plan = GrantPlan.of(new ObservedGrant(V1_28, sa, ReservedResources.clusterRole(Policy.V1),
                ReservedResources.clusterRoleBinding(), List.of(token(sa, "dG9rZW4=")), List.of(), Set.of(),
                "ns-uid"), Policy.V1, SELF);

        assertThat(plan.serviceAccount()).isEqualTo(Action.updated);
        assertThat(plan.role()).isEqualTo(Action.unchanged);
    }

    @Test
    void anAccountAnotherInstanceMadeIsMarkedAsReliedOnByThisOneToo() {
        ServiceAccount theirs = new ServiceAccountBuilder(ReservedResources.serviceAccount("gw-b", Optional.empty()))
                .editMetadata().withUid("uid-1").endMetadata().build();
        GrantPlan plan = GrantPlan.of(new ObservedGrant(V1_28, theirs, ReservedResources.clusterRole(Policy.V1),
                ReservedResources.clusterRoleBinding(), List.of(token(theirs, "dG9rZW4=")), List.of(),
                Set.of(), "ns-uid"), Policy.V1, SELF);

        assertThat(plan.serviceAccount()).isEqualTo(Action.updated);
        assertThat(plan.role()).isEqualTo(Action.unchanged);
        assertThat(plan.wave1()).isTrue();
        assertThat(plan.rights().permissions()).containsExactly(AccessReview.Permission.inKubeSystem("update", "",
                "serviceaccounts", ReservedResources.SERVICE_ACCOUNT));
    }

    @Test
    void anUnfilledTokenIsAwaitedNotMadeAgain() {
        ServiceAccount sa = account();
        GrantPlan plan = GrantPlan.of(new ObservedGrant(V1_28, sa, ReservedResources.clusterRole(Policy.V1),
                ReservedResources.clusterRoleBinding(), List.of(token(sa, null)), List.of(), Set.of(),
                "ns-uid"), Policy.V1, SELF);

        assertThat(plan.createToken()).isFalse();
        assertThat(plan.awaitToken()).isTrue();
        assertThat(plan.wave2()).isFalse();
    }

    @Test
    void driftedRulesAreUpdatedButRuleOrderIsNotDrift() {
        ClusterRole reordered = new ClusterRoleBuilder(ReservedResources.clusterRole(Policy.V1))
                .withRules(reversed()).build();
        ClusterRole trimmed = new ClusterRoleBuilder(ReservedResources.clusterRole(Policy.V1))
                .withRules(Policy.V1.rules().subList(0, 2)).build();
        ClusterRole aggregated = new ClusterRoleBuilder(ReservedResources.clusterRole(Policy.V1)).withNewAggregationRule()
                .endAggregationRule().build();

        assertThat(planWith(reordered, ReservedResources.clusterRoleBinding()).role()).isEqualTo(Action.unchanged);
        assertThat(planWith(trimmed, ReservedResources.clusterRoleBinding()).role()).isEqualTo(Action.updated);
        assertThat(planWith(aggregated, ReservedResources.clusterRoleBinding()).role()).isEqualTo(Action.updated);
    }

    @Test
    void aForeignRoleRefIsRecreatedWhileWrongSubjectsAreUpdatedInPlace() {
        ClusterRoleBinding foreignRef = new ClusterRoleBindingBuilder(ReservedResources.clusterRoleBinding())
                .editRoleRef().withName("view").endRoleRef().build();
        ClusterRoleBinding otherSubject = new ClusterRoleBindingBuilder(ReservedResources.clusterRoleBinding())
                .editFirstSubject().withName("someone-else").endSubject().build();

        GrantPlan rebind = planWith(ReservedResources.clusterRole(Policy.V1), foreignRef);
        assertThat(rebind.binding()).isEqualTo(Action.updated);
        assertThat(rebind.rebind()).isTrue();
        GrantPlan repair = planWith(ReservedResources.clusterRole(Policy.V1), otherSubject);
        assertThat(repair.binding()).isEqualTo(Action.updated);
        assertThat(repair.rebind()).isFalse();
        assertThat(repair.wave1()).isFalse();
        assertThat(repair.wave2()).isTrue();
    }

    @Test
    void versionDecidesWhoMakesTheTokenSecret() {
        assertThat(GrantPlan.autoCreatesTokenSecrets(version("1", "23+"))).isTrue();
        assertThat(GrantPlan.autoCreatesTokenSecrets(version("1", "20"))).isTrue();
        assertThat(GrantPlan.autoCreatesTokenSecrets(version("1", "24"))).isFalse();
        assertThat(GrantPlan.autoCreatesTokenSecrets(version("1", "30+"))).isFalse();
        assertThat(GrantPlan.autoCreatesTokenSecrets(version("2", "0"))).isFalse();
        assertThat(GrantPlan.autoCreatesTokenSecrets(version(null, ""))).isFalse();
    }

    private static List<PolicyRule> reversed() {
        List<PolicyRule> rules = new ArrayList<>(Policy.V1.rules());
        Collections.reverse(rules);
        return rules;
    }

    @Test
    void aRolloutRewritesTheRoleAndNeedsTheNewRulesForTheEscalationRule() {
        GrantPlan toV2 = planWith(ReservedResources.clusterRole(Policy.V1), ReservedResources.clusterRoleBinding(),
                Policy.V2);
        assertThat(toV2.role()).isEqualTo(Action.updated);
        assertThat(toV2.binding()).isEqualTo(Action.unchanged);
        assertThat(toV2.rights().grantsRole()).isTrue();
        assertThat(toV2.rights().roleRights()).contains(
                AccessReview.Permission.clusterWide("*", "networking.k8s.io", "ingresses"),
                AccessReview.Permission.clusterWide("list", "discovery.k8s.io", "endpointslices"));
        assertThat(planWith(ReservedResources.clusterRole(Policy.V2), ReservedResources.clusterRoleBinding(),
                Policy.V2).role()).isEqualTo(Action.unchanged);
    }

    @Test
    void aRoleWithoutItsVersionIsLeftAloneAndIsNotDrift() {
        // As workers before v1.4 made it: the seed's rules, no annotation.
        ClusterRole unlabelled = new ClusterRoleBuilder(ReservedResources.clusterRole(Policy.V1)).editMetadata()
                .withAnnotations(null).endMetadata().build();
        ServiceAccount sa = account();
        ObservedGrant observed = new ObservedGrant(V1_28, sa, unlabelled, ReservedResources.clusterRoleBinding(),
                List.of(token(sa, "dG9rZW4=")), List.of(), Set.of(), "ns-uid");

        assertThat(GrantPlan.of(observed, Policy.V1, SELF).role()).as("no write, so no escalation check for an annotation")
                .isEqualTo(Action.unchanged);
        assertThat(observed.drifted(Policy.V1, "gw")).isEmpty();
        assertThat(observed.drifted(Policy.V2, "gw")).containsExactly(Reserved.CLUSTER_ROLE.ref());
    }

    @Test
    void theRoleSaysWhichVersionItIs() {
        assertThat(ReservedResources.clusterRole(Policy.V2).getMetadata().getAnnotations())
                .containsEntry(Marks.POLICY_VERSION, "2");
        assertThat(ReservedResources.clusterRole(Policy.V2).getRules()).isEqualTo(Policy.V2.rules());
    }

    private static GrantPlan planWith(ClusterRole role, ClusterRoleBinding binding) {
        return planWith(role, binding, Policy.V1);
    }

    private static GrantPlan planWith(ClusterRole role, ClusterRoleBinding binding, Policy policy) {
        ServiceAccount sa = account();
        return GrantPlan.of(new ObservedGrant(V1_28, sa, role, binding, List.of(token(sa, "dG9rZW4=")), List.of(),
                Set.of(), "ns-uid"), policy, SELF);
    }

    /** The account as this instance marks it, relying on policy v1. */
    static ServiceAccount account() {
        return new ServiceAccountBuilder(ReservedResources.serviceAccount(SELF, Optional.empty())).editMetadata()
                .withUid("uid-1").addToAnnotations(Marks.OWNER_POLICIES, SELF + "=1")
                .endMetadata().build();
    }

    static Secret token(ServiceAccount sa, String data) {
        SecretBuilder b = new SecretBuilder(TokenSecrets.workerSecret(sa)).editMetadata()
                .addToAnnotations(ReservedResources.SA_UID_ANNOTATION, sa.getMetadata().getUid()).endMetadata();
        return data == null ? b.build() : b.addToData("token", data).build();
    }

    private static VersionInfo version(String major, String minor) {
        return new VersionInfo.Builder().withMajor(major).withMinor(minor).withGitVersion("v" + major + "." + minor)
                .build();
    }
}

package io.apigw.authorizer.grant;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.apigw.authorizer.policy.Policy;
import io.apigw.authorizer.result.ResourceAction.Action;
import io.apigw.authorizer.marks.Marks;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.client.VersionInfo;

/**
 * Gateway instances that share a cluster's reserved resources (v1.5, note 24) agree (issue 26, G2 and G3; the security
 * review's tests, with their assertions): an instance that joins during another's rotation grace never adopts the
 * token being revoked, and an instance on an older policy never downgrades a shared ClusterRole, while a lone
 * instance still rolls its own cluster back.
 */
class SharedResourcesTest {

    static final VersionInfo V1_28 = new VersionInfo.Builder().withMajor("1").withMinor("28")
            .withGitVersion("v1.28.3").build();

    /** The account after gw-a authorized it and gw-a rotated its token (rotation Secret named from the request id). */
    final ServiceAccount sa = new ServiceAccountBuilder(ReservedResources.serviceAccount("gw-a", Optional.empty()))
            .editMetadata().withUid("uid-1").endMetadata().build();

    private Secret workerToken(String name, String created) {
        return new SecretBuilder(TokenSecrets.workerSecret(name)).editMetadata().withCreationTimestamp(created)
                .withUid(name + "-uid")
                .addToAnnotations(ReservedResources.SA_UID_ANNOTATION, sa.getMetadata().getUid()).endMetadata()
                .addToData("token", "dG9rZW4=").build();
    }

    /**
     * gw-a rotated: its record stores the rotation Secret and a pending revocation of the first token (W0) after the
     * grace. gw-b authorizes the same cluster during that grace. gw-b's record has no pending revocation, so its
     * "retiring" set is empty, and the canonical choice (worker-owned, then listed, then OLDEST) picks W0: gw-b stores
     * the very token gw-a deletes when its grace ends (Authorizer.revokeDue -> GrantReconciler.revoke, uid matches).
     */
    @Test
    void anInstanceJoiningDuringAnotherInstancesRotationGraceDoesNotAdoptTheTokenBeingRevoked() {
        Secret w0 = workerToken(TokenSecrets.workerSecretName(sa), "2026-01-01T00:00:00Z");
        Secret rotated = workerToken(TokenSecrets.workerSecretName(sa, "/rotation/req-rotate-1"),
                "2026-12-04T10:00:00Z");
        Set<String> pendingInGwA = Set.of(w0.getMetadata().getName());

        Optional<Secret> gwA = TokenSecrets.canonical(List.of(w0, rotated), sa,
                new TokenSecrets.Choice(true, pendingInGwA));
        Optional<Secret> gwB = TokenSecrets.canonical(List.of(w0, rotated), sa,
                new TokenSecrets.Choice(true, Set.of())); // gw-b's own record: nothing pending

        assertThat(gwB.map(s -> s.getMetadata().getName())).as("the token gw-b would store")
                .isNotEqualTo(Optional.of(w0.getMetadata().getName()));
    }

    /**
     * gw-a rolled policy v2 out to a cluster gw-b also relies on. gw-b's record says v1, so gw-b's check reports the
     * ClusterRole drifted, and gw-b's next authorize (console, or a sweep repair with repair on) writes v1's rules back:
     * gw-a's gateway loses the v2 rights (Ingress in networking.k8s.io) until gw-a's next repair, which writes v2
     * again. With repair on in both instances the shared ClusterRole flips every sweep.
     */
    @Test
    void anInstanceOnAnOlderPolicyDoesNotDowngradeASharedClusterRole() {
        ServiceAccount shared = new ServiceAccountBuilder(sa).editMetadata()
                .addToAnnotations(Marks.OWNERS, "gw-a,gw-b").endMetadata().build();
        ObservedGrant afterGwARollout = new ObservedGrant(V1_28, shared, ReservedResources.clusterRole(Policy.V2),
                ReservedResources.clusterRoleBinding(),
                List.of(workerToken(TokenSecrets.workerSecretName(sa), "2026-01-01T00:00:00Z")), List.of(), Set.of(),
                "ns-uid");

        GrantPlan gwB = GrantPlan.of(afterGwARollout, Policy.V1, "gw-b");
        List<String> gwBCheck = afterGwARollout.drifted(Policy.V1, "gw-b");

        assertThat(gwB.role()).as("gw-b's plan for a shared ClusterRole another instance moved to v2")
                .isEqualTo(Action.unchanged);
        assertThat(gwBCheck).as("gw-b's check: v2 grants all v1 does, so it is not drift").isEmpty();
    }

    @Test
    void aLoneInstanceRollsItsClusterRoleBack() {
        ObservedGrant alone = new ObservedGrant(V1_28, sa, ReservedResources.clusterRole(Policy.V2),
                ReservedResources.clusterRoleBinding(),
                List.of(workerToken(TokenSecrets.workerSecretName(sa), "2026-01-01T00:00:00Z")), List.of(), Set.of(),
                "ns-uid");

        assertThat(GrantPlan.of(alone, Policy.V1, "gw-a").role()).as("an authorize at v1 writes v1")
                .isEqualTo(Action.updated);
        assertThat(alone.drifted(Policy.V1, "gw-a")).as("rights nobody relies on are drift: a repair lowers them")
                .containsExactly(Reserved.CLUSTER_ROLE.ref());
    }

    @Test
    void aSharedClusterRoleWhoseRulesWereChangedIsRepairedToTheHighestVersionReliedOn() {
        ServiceAccount shared = new ServiceAccountBuilder(sa).editMetadata()
                .addToAnnotations(Marks.OWNERS, "gw-a,gw-b").endMetadata().build();
        // Marked v2 but holding v1's rules; gw-a recorded no version of its own, so it relies on the role's.
        ClusterRole edited = new ClusterRoleBuilder(ReservedResources.clusterRole(Policy.V1)).editMetadata()
                .addToAnnotations(Marks.POLICY_VERSION, "2").endMetadata().build();
        ObservedGrant observed = observed(shared, edited);

        GrantPlan gwB = GrantPlan.of(observed, Policy.V1, "gw-b");
        assertThat(gwB.role()).isEqualTo(Action.updated);
        assertThat(gwB.policy()).isEqualTo(Policy.V2);
    }

    /** Issue 26, G3 (the review of this change): a rollback by every instance lowers the shared role. */
    @Test
    void whenEveryInstanceReliesOnALowerVersionTheSharedRoleIsLowered() {
        ObservedGrant bothOnV1 = observed(owners("gw-a,gw-b", "gw-a=1,gw-b=2"), ReservedResources.clusterRole(Policy.V2));

        GrantPlan gwB = GrantPlan.of(bothOnV1, Policy.V1, "gw-b");

        assertThat(gwB.role()).isEqualTo(Action.updated);
        assertThat(gwB.policy()).isEqualTo(Policy.V1);
        assertThat(gwB.serviceAccount()).as("gw-b records that it now relies on v1").isEqualTo(Action.updated);
        assertThat(bothOnV1.drifted(Policy.V1, "gw-b")).containsExactly(Reserved.CLUSTER_ROLE.ref());
    }

    @Test
    void anotherInstanceThatReliesOnTheHigherVersionKeepsIt() {
        ObservedGrant observed = observed(owners("gw-a,gw-b", "gw-a=2,gw-b=1"), ReservedResources.clusterRole(Policy.V2));

        GrantPlan gwB = GrantPlan.of(observed, Policy.V1, "gw-b");

        assertThat(gwB.role()).isEqualTo(Action.unchanged);
        assertThat(gwB.serviceAccount()).as("gw-b's own version is recorded already").isEqualTo(Action.unchanged);
        assertThat(observed.drifted(Policy.V1, "gw-b")).isEmpty();
        assertThat(observed.owners().policiesLeft("gw-a")).isEqualTo("gw-b=1");
        assertThat(observed.owners().policiesWith("gw-b", 2)).isEqualTo("gw-a=2,gw-b=2");
    }

    private ServiceAccount owners(String ids, String policies) {
        return new ServiceAccountBuilder(sa).editMetadata().addToAnnotations(Marks.OWNERS, ids)
                .addToAnnotations(Marks.OWNER_POLICIES, policies).endMetadata().build();
    }

    private ObservedGrant observed(ServiceAccount account, ClusterRole role) {
        return new ObservedGrant(V1_28, account, role, ReservedResources.clusterRoleBinding(),
                List.of(workerToken(TokenSecrets.workerSecretName(sa), "2026-01-01T00:00:00Z")), List.of(), Set.of(),
                "ns-uid");
    }

    @Test
    void aSharedClusterRoleAtALowerVersionIsRaised() {
        ServiceAccount shared = new ServiceAccountBuilder(sa).editMetadata()
                .addToAnnotations(Marks.OWNERS, "gw-a,gw-b").endMetadata().build();
        ObservedGrant observed = new ObservedGrant(V1_28, shared, ReservedResources.clusterRole(Policy.V1),
                ReservedResources.clusterRoleBinding(),
                List.of(workerToken(TokenSecrets.workerSecretName(sa), "2026-01-01T00:00:00Z")), List.of(), Set.of(),
                "ns-uid");

        assertThat(GrantPlan.of(observed, Policy.V2, "gw-a").role()).isEqualTo(Action.updated);
    }
}

package io.apigw.authorizer.grant;

import static io.apigw.authorizer.grant.ReservedResources.CLUSTER_ROLE;
import static io.apigw.authorizer.grant.ReservedResources.CLUSTER_ROLE_BINDING;
import static io.apigw.authorizer.grant.ReservedResources.RBAC_GROUP;

import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.apigw.authorizer.grant.AccessReview.Permission;
import io.apigw.authorizer.policy.Policy;
import io.apigw.authorizer.result.ResourceAction.Action;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.VersionInfo;

/**
 * What a reconcile will do, decided from what was observed and nothing else: the action per reserved resource, the
 * rights those actions need, and which of the two write waves have work. A value, so it is tested without a server.
 *
 * @param policy what the ClusterRole is to have: the highest version any marked instance relies on (issue 26, G3)
 * @param serviceAccount {@code updated}: the account is there but not yet marked as relied on by this instance, at
 *        its policy version
 * @param rebind the binding's roleRef differs: roleRef is immutable, so the binding is deleted and made again
 * @param createToken no token Secret, on a cluster (1.24+) whose token controller no longer makes one
 * @param awaitToken no filled token yet: wait for the token controller
 */
record GrantPlan(Policy policy, Action serviceAccount, Action role, Action binding, boolean rebind,
        boolean createToken, boolean awaitToken) {

    /** Kubernetes stopped auto-creating service account token Secrets in 1.24. */
    private static final int LAST_MINOR_WITH_AUTO_TOKENS = 23;
    private static final Pattern DIGITS = Pattern.compile("\\d+");

    /** @param self this gateway instance, which the account must be marked as relied on by */
    static GrantPlan of(ObservedGrant observed, Policy policy, String self) {
        Owners owners = observed.owners();
        Action serviceAccount = observed.serviceAccount() == null ? Action.created
                : owners.includes(self) && owners.policyOf(self).equals(Optional.of(policy.version()))
                        ? Action.unchanged : Action.updated;
        // The version's annotation goes with a write of the rules, never alone: any update of a ClusterRole is judged by
        // RBAC's escalation rule, so an annotation alone would ask an admin for rights a role already in place does not.
        Optional<Policy> target = observed.target(policy, self);
        Policy applied = target.orElse(policy);
        Action role = observed.role() == null ? Action.created
                : target.isEmpty() || observed.roleMatches(applied) ? Action.unchanged : Action.updated;
        boolean rebind = observed.binding() != null && !observed.roleRefMatches();
        Action binding = observed.binding() == null ? Action.created
                : rebind || !observed.subjectsMatch() ? Action.updated : Action.unchanged;
        Optional<Secret> token = observed.canonicalToken();
        return new GrantPlan(applied, serviceAccount, role, binding, rebind,
                token.isEmpty() && !autoCreatesTokenSecrets(observed.version()),
                token.filter(TokenSecrets::filled).isEmpty());
    }

    /** Wave 1: the role and the account, which do not depend on each other. */
    boolean wave1() {
        return role != Action.unchanged || serviceAccount != Action.unchanged;
    }

    /** Wave 2: the binding (RBAC checks the binder against the role) and a token Secret (needs the account's uid). */
    boolean wave2() {
        return binding != Action.unchanged || createToken;
    }

    /**
     * Exactly what the planned writes and waits need, each where the server judges it: the ServiceAccount and token
     * Secret in kube-system; the ClusterRole and ClusterRoleBinding cluster-wide, as is the escalation rule.
     */
    AccessReview.Rights rights() {
        Set<Permission> needed = new LinkedHashSet<>();
        if (serviceAccount == Action.created) {
            needed.add(Permission.inKubeSystem("create", "", "serviceaccounts"));
        } else if (serviceAccount == Action.updated) {
            needed.add(Permission.inKubeSystem("update", "", "serviceaccounts", ReservedResources.SERVICE_ACCOUNT));
        }
        if (role != Action.unchanged) {
            needed.add(role == Action.created ? Permission.clusterWide("create", RBAC_GROUP, "clusterroles")
                    : Permission.clusterWide("update", RBAC_GROUP, "clusterroles", CLUSTER_ROLE));
        }
        if (binding == Action.created || rebind) {
            needed.add(Permission.clusterWide("create", RBAC_GROUP, "clusterrolebindings"));
        }
        if (rebind) {
            needed.add(Permission.clusterWide("delete", RBAC_GROUP, "clusterrolebindings", CLUSTER_ROLE_BINDING));
            // awaitGone watches the old binding by name until it is gone.
            needed.add(Permission.clusterWide("list", RBAC_GROUP, "clusterrolebindings", CLUSTER_ROLE_BINDING));
            needed.add(Permission.clusterWide("watch", RBAC_GROUP, "clusterrolebindings", CLUSTER_ROLE_BINDING));
        } else if (binding == Action.updated) {
            needed.add(Permission.clusterWide("update", RBAC_GROUP, "clusterrolebindings", CLUSTER_ROLE_BINDING));
        }
        if (createToken) {
            needed.add(Permission.inKubeSystem("create", "", "secrets"));
            needed.add(Permission.inKubeSystem("get", "", "secrets")); // a 409 on create reads what is there
        }
        if (awaitToken) {
            // TokenWait: an informer (list, then watch) on kube-system's token Secrets.
            needed.add(Permission.inKubeSystem("list", "", "secrets"));
            needed.add(Permission.inKubeSystem("watch", "", "secrets"));
        }
        return new AccessReview.Rights(needed, role != Action.unchanged, binding != Action.unchanged,
                AccessReview.permissions(policy));
    }

    static boolean autoCreatesTokenSecrets(VersionInfo v) {
        int major = leadingNumber(v.getMajor());
        int minor = leadingNumber(v.getMinor());
        return major == 1 && minor >= 0 && minor <= LAST_MINOR_WITH_AUTO_TOKENS;
    }

    private static int leadingNumber(String s) {
        Matcher m = DIGITS.matcher(s == null ? "" : s);
        return m.lookingAt() ? Integer.parseInt(m.group()) : -1;
    }

}

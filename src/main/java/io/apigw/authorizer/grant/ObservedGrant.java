package io.apigw.authorizer.grant;

import static io.apigw.authorizer.kube.KubeErrors.call;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import io.apigw.authorizer.kube.ParallelCalls;
import io.apigw.authorizer.policy.Policy;
import io.apigw.authorizer.marks.Marks;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.VersionInfo;

/**
 * The reserved resources as a cluster has them now (any may be null or empty), read without writing anything.
 * {@code tokenSecrets} are the account's own; {@code staleTokens} reserved token Secrets of an earlier account of the
 * same name; {@code retiring} names of token Secrets pending revocation, never chosen; {@code clusterUid} the
 * cluster's identity ({@link ClusterIdentity}, null when it cannot be read).
 */
public record ObservedGrant(VersionInfo version, ServiceAccount serviceAccount, ClusterRole role, ClusterRoleBinding binding,
        List<Secret> tokenSecrets, List<Secret> staleTokens, Set<String> retiring, String clusterUid) {

    /**
     * The six reads are independent: made at once, they cost one round trip instead of six. Five go to the pool,
     * the version is read on the caller's thread meanwhile. Nothing is retiring yet: {@link #retiring(Set)}.
     */
    public static ObservedGrant read(KubernetesClient client, ParallelCalls calls) {
        CompletableFuture<ServiceAccount> sa = calls.submit(() -> AccountResource.read(client));
        CompletableFuture<ClusterRole> role = calls.submit(() -> RoleResource.read(client));
        CompletableFuture<ClusterRoleBinding> binding = calls.submit(() -> BindingResource.read(client));
        CompletableFuture<List<Secret>> secrets = calls.submit(() -> TokenSecretResource.list(client));
        CompletableFuture<String> identity = calls.submit(() -> ClusterIdentity.read(client));
        try {
            VersionInfo version = call(client, "reading the Kubernetes version", client::getKubernetesVersion);
            ServiceAccount account = ParallelCalls.join(sa);
            List<Secret> all = ParallelCalls.join(secrets);
            List<Secret> tokens = account == null ? List.of()
                    : all.stream().filter(s -> TokenSecrets.belongsTo(s, account)).toList();
            List<Secret> stale = account == null ? List.of()
                    : all.stream().filter(s -> TokenSecrets.stale(s, account)).toList();
            return new ObservedGrant(version, account, ParallelCalls.join(role), ParallelCalls.join(binding), tokens,
                    stale, Set.of(), ParallelCalls.join(identity));
        } catch (RuntimeException e) {
            // The other reads still use the client: let them end (each is bounded) before the attempt returns it.
            CompletableFuture.allOf(sa, role, binding, secrets, identity).handle((done, failed) -> null).join();
            throw e;
        }
    }

    /** The same observation, with the token Secrets pending revocation that are never to be chosen. */
    ObservedGrant retiring(Set<String> names) {
        return new ObservedGrant(version, serviceAccount, role, binding, tokenSecrets, staleTokens, names, clusterUid);
    }

    Owners owners() {
        return Owners.of(serviceAccount);
    }

    Optional<Secret> canonicalToken() {
        return serviceAccount == null ? Optional.empty()
                : TokenSecrets.canonical(tokenSecrets, serviceAccount, tokenChoice());
    }

    TokenSecrets.Choice tokenChoice() {
        return new TokenSecrets.Choice(!GrantPlan.autoCreatesTokenSecrets(version), retiring);
    }

    boolean roleMatches(Policy policy) {
        return RoleResource.matches(role, policy);
    }

    boolean roleRefMatches() {
        return BindingResource.roleRefMatches(binding);
    }

    boolean subjectsMatch() {
        return BindingResource.subjectsMatch(binding);
    }

    /** {@code kind/name} of each reserved resource that does not exist (the token: none filled). */
    List<String> missing() {
        List<String> missing = new ArrayList<>();
        if (serviceAccount == null) {
            missing.add(Reserved.SERVICE_ACCOUNT.ref());
        }
        if (role == null) {
            missing.add(Reserved.CLUSTER_ROLE.ref());
        }
        if (binding == null) {
            missing.add(Reserved.CLUSTER_ROLE_BINDING.ref());
        }
        if (canonicalToken().filter(TokenSecrets::filled).isEmpty()) {
            missing.add(Reserved.TOKEN_SECRET.ref());
        }
        return missing;
    }

    /** The policy version recorded on the ClusterRole; 0 when there is none, or none this worker can read. */
    int roleVersion() {
        String recorded = role == null || role.getMetadata().getAnnotations() == null ? null
                : role.getMetadata().getAnnotations().get(Marks.POLICY_VERSION);
        try {
            return recorded == null ? 0 : Integer.parseInt(recorded);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /**
     * The policy the shared ClusterRole must have when this instance relies on {@code policy}: the highest version
     * this instance or another marked one relies on (as each recorded it on the account; one that recorded none relies
     * on the role's recorded version), so that no instance's rights are taken from under it and none are left that
     * nobody relies on (issue 26, G3). Empty: another instance relies on a version this worker does not know, and the
     * role is left as it is.
     */
    Optional<Policy> target(Policy policy, String self) {
        OptionalInt others = owners().highestOfOthers(self, roleVersion());
        return others.isEmpty() || others.getAsInt() <= policy.version() ? Optional.of(policy)
                : Policy.of(others.getAsInt());
    }

    /**
     * {@code kind/name} of each reserved resource that exists but not as it should for {@code policy}: the ClusterRole
     * is judged against the version every instance that relies on it needs ({@link #target}).
     */
    List<String> drifted(Policy policy, String self) {
        List<String> drifted = new ArrayList<>();
        Optional<Policy> target = target(policy, self);
        if (role != null && target.isPresent() && !roleMatches(target.get())) {
            drifted.add(Reserved.CLUSTER_ROLE.ref());
        }
        if (binding != null && !(roleRefMatches() && subjectsMatch())) {
            drifted.add(Reserved.CLUSTER_ROLE_BINDING.ref());
        }
        return drifted;
    }
}

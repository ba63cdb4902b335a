package io.apigw.authorizer.grant;

import static io.apigw.authorizer.grant.KubeErrors.call;
import static io.apigw.authorizer.grant.ReservedResources.CLUSTER_ROLE;
import static io.apigw.authorizer.grant.ReservedResources.CLUSTER_ROLE_BINDING;
import static io.apigw.authorizer.grant.ReservedResources.NAMESPACE;
import static io.apigw.authorizer.grant.ReservedResources.RBAC_GROUP;
import static io.apigw.authorizer.grant.ReservedResources.SERVICE_ACCOUNT;

import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.enterprise.context.ApplicationScoped;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.grant.AccessReview.Permission;
import io.apigw.authorizer.grant.ResourceAction.Action;
import io.apigw.authorizer.metrics.AuthorizerMetrics;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.VersionInfo;

/**
 * Puts the four reserved resources in place with as few writes as possible: read all, plan, review the admin
 * credential's rights once, then write only what is missing or drifted, and wait for the token. Safe to run again
 * at any point: every step converges on the same objects.
 */
@ApplicationScoped
public class GrantReconciler {

    /** Kubernetes stopped auto-creating service account token Secrets in 1.24. */
    private static final int LAST_MINOR_WITH_AUTO_TOKENS = 23;
    private static final Pattern DIGITS = Pattern.compile("\\d+");

    private final Duration tokenTimeout;
    private final AuthorizerMetrics metrics;
    private final ParallelCalls calls;

    public GrantReconciler(AuthorizerConfig config, AuthorizerMetrics metrics, ParallelCalls calls) {
        this.tokenTimeout = config.token().timeout();
        this.metrics = metrics;
        this.calls = calls;
    }

    public Grant reconcile(KubernetesClient client, ChangeLog log) {
        ObservedGrant observed = ObservedGrant.read(client, calls);
        ServiceAccount sa = observed.serviceAccount();
        ClusterRole role = observed.role();
        ClusterRoleBinding binding = observed.binding();
        VersionInfo version = observed.version();
        Optional<Secret> existingToken = observed.canonicalToken();
        requireNotTerminating(sa, role, binding);

        Action saAction = sa == null ? Action.created : Action.unchanged;
        Action roleAction = role == null ? Action.created : observed.roleMatches() ? Action.unchanged : Action.updated;
        boolean rebind = binding != null && !observed.roleRefMatches();
        Action bindingAction = binding == null ? Action.created
                : rebind || !observed.subjectsMatch() ? Action.updated : Action.unchanged;
        boolean createToken = existingToken.isEmpty() && !autoCreatesTokenSecrets(version);

        Secret tokenSecret = existingToken.filter(TokenSecrets::filled).orElse(null);
        AccessReview.require(client, rights(saAction, roleAction, bindingAction, rebind, createToken,
                tokenSecret == null));

        // Two waves of writes: the role and the account do not depend on each other; the binding needs the role
        // (RBAC checks the binder against it) and a token Secret the account's uid. The calls of a wave run at once,
        // and what took effect is recorded before a failure ends the attempt.
        ServiceAccount found = sa;
        ParallelCalls.Outcome<ServiceAccount> accounts = roleAction == Action.unchanged && saAction == Action.unchanged
                ? ParallelCalls.Outcome.done(sa)
                : calls.both(() -> writeRole(client, roleAction, role),
                        () -> found != null ? found : createServiceAccount(client));
        recordIfDone(log, accounts.there(), ResourceAction.clusterScoped("ClusterRole", CLUSTER_ROLE, roleAction));
        recordIfDone(log, accounts.here(), ResourceAction.namespaced("ServiceAccount", SERVICE_ACCOUNT, saAction));
        ServiceAccount owner = accounts.orThrow();

        // The watch for the token starts before the last writes, so it is in place when the token arrives.
        TokenWait token = tokenSecret == null ? new TokenWait(client, owner) : null;
        try {
            ParallelCalls.Outcome<Boolean> bound = bindingAction == Action.unchanged && !createToken
                    ? ParallelCalls.Outcome.done(false)
                    : calls.both(() -> writeBinding(client, binding, bindingAction, rebind),
                            () -> createToken && createWorkerSecret(client, owner));
            recordIfDone(log, bound.there(),
                    ResourceAction.clusterScoped("ClusterRoleBinding", CLUSTER_ROLE_BINDING, bindingAction));
            if (Boolean.TRUE.equals(bound.value())) {
                // Made here: reported as created even if this attempt fails later and a retry finds it.
                log.record(ResourceAction.namespaced("Secret", TokenSecrets.workerSecretName(owner), Action.created));
            }
            bound.orThrow();
            if (token != null) {
                tokenSecret = token.await(existingToken.isPresent() || createToken);
            }
        } finally {
            if (token != null) {
                token.stop();
            }
        }
        log.record(ResourceAction.namespaced("Secret", tokenSecret.getMetadata().getName(),
                existingToken.isPresent() ? Action.unchanged : Action.created));
        return new Grant(log.actions(), tokenSecret.getMetadata().getName(), TokenSecrets.token(tokenSecret),
                version.getGitVersion());
    }

    /**
     * Exactly what the planned writes and waits need, each where the server judges it: the ServiceAccount and token
     * Secret in kube-system; the ClusterRole and ClusterRoleBinding cluster-wide, as is the escalation rule.
     */
    static AccessReview.Rights rights(Action saAction, Action roleAction, Action bindingAction, boolean rebind,
            boolean createToken, boolean awaitToken) {
        Set<Permission> needed = new LinkedHashSet<>();
        if (saAction == Action.created) {
            needed.add(Permission.inKubeSystem("create", "", "serviceaccounts"));
        }
        if (roleAction != Action.unchanged) {
            needed.add(roleAction == Action.created ? Permission.clusterWide("create", RBAC_GROUP, "clusterroles")
                    : Permission.clusterWide("update", RBAC_GROUP, "clusterroles", CLUSTER_ROLE));
        }
        if (bindingAction == Action.created || rebind) {
            needed.add(Permission.clusterWide("create", RBAC_GROUP, "clusterrolebindings"));
        }
        if (rebind) {
            needed.add(Permission.clusterWide("delete", RBAC_GROUP, "clusterrolebindings", CLUSTER_ROLE_BINDING));
            // awaitGone watches the old binding by name until it is gone.
            needed.add(Permission.clusterWide("list", RBAC_GROUP, "clusterrolebindings", CLUSTER_ROLE_BINDING));
            needed.add(Permission.clusterWide("watch", RBAC_GROUP, "clusterrolebindings", CLUSTER_ROLE_BINDING));
        } else if (bindingAction == Action.updated) {
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
        return new AccessReview.Rights(needed, roleAction != Action.unchanged, bindingAction != Action.unchanged);
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

    private static void requireNotTerminating(HasMetadata... objects) {
        for (HasMetadata o : objects) {
            if (o != null && o.getMetadata().getDeletionTimestamp() != null) {
                throw AuthorizationException.transientFailure(FailureCode.CONFLICT, o.getKind() + " "
                        + o.getMetadata().getName() + " is being deleted; it can be authorized again once it is gone");
            }
        }
    }

    private void awaitGone(KubernetesClient client, String uid) {
        try {
            client.rbac().clusterRoleBindings().withName(CLUSTER_ROLE_BINDING)
                    .waitUntilCondition(b -> b == null || !uid.equals(b.getMetadata().getUid()),
                            tokenTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (KubernetesClientException e) {
            throw KubeErrors.classify(e, "waiting for ClusterRoleBinding " + CLUSTER_ROLE_BINDING + " to be deleted");
        }
    }

    /** @return whether this call made the Secret ({@code false}: it was there already, as the account's token) */
    private boolean createWorkerSecret(KubernetesClient client, ServiceAccount sa) {
        Secret wanted = TokenSecrets.workerSecret(sa);
        try {
            KubeErrors.bounded(client, "creating token Secret " + wanted.getMetadata().getName(),
                    () -> client.secrets().inNamespace(NAMESPACE).resource(wanted).create());
            return true;
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) {
                throw KubeErrors.classify(e, "creating token Secret " + wanted.getMetadata().getName());
            }
            Secret found = call(client, "reading token Secret " + wanted.getMetadata().getName(),
                    () -> client.secrets().inNamespace(NAMESPACE).withName(wanted.getMetadata().getName()).get());
            if (found != null && !TokenSecrets.belongsTo(found, sa)) {
                throw AuthorizationException.transientFailure(FailureCode.CONFLICT, "Secret " + NAMESPACE + "/"
                        + wanted.getMetadata().getName() + " exists and is not a token of " + SERVICE_ACCOUNT);
            }
            return false;
        }
    }

    private static void writeRole(KubernetesClient client, Action action, ClusterRole role) {
        switch (action) {
            case created -> call(client, "creating ClusterRole " + CLUSTER_ROLE,
                    () -> client.rbac().clusterRoles().resource(ReservedResources.clusterRole()).create());
            case updated -> call(client, "repairing ClusterRole " + CLUSTER_ROLE,
                    () -> client.rbac().clusterRoles().resource(new ClusterRoleBuilder(role)
                            .withRules(ReservedResources.RULES).withAggregationRule(null).build()).update());
            default -> {
            }
        }
    }

    private static ServiceAccount createServiceAccount(KubernetesClient client) {
        return call(client, "creating ServiceAccount " + NAMESPACE + "/" + SERVICE_ACCOUNT,
                () -> client.serviceAccounts().inNamespace(NAMESPACE).resource(ReservedResources.serviceAccount())
                        .create());
    }

    private void writeBinding(KubernetesClient client, ClusterRoleBinding binding, Action action, boolean rebind) {
        if (rebind) {
            // roleRef is immutable: the binding must be deleted and made again.
            String uid = binding.getMetadata().getUid();
            call(client, "deleting ClusterRoleBinding " + CLUSTER_ROLE_BINDING + " with a foreign roleRef",
                    () -> client.rbac().clusterRoleBindings().withName(CLUSTER_ROLE_BINDING)
                            .lockResourceVersion(binding.getMetadata().getResourceVersion()).delete());
            awaitGone(client, uid);
        }
        if (binding == null || rebind) {
            call(client, "creating ClusterRoleBinding " + CLUSTER_ROLE_BINDING,
                    () -> client.rbac().clusterRoleBindings().resource(ReservedResources.clusterRoleBinding()).create());
        } else if (action == Action.updated) {
            call(client, "repairing ClusterRoleBinding " + CLUSTER_ROLE_BINDING,
                    () -> client.rbac().clusterRoleBindings().resource(new ClusterRoleBindingBuilder(binding)
                            .withSubjects(ReservedResources.SUBJECT).build()).update());
        }
    }

    private static void recordIfDone(ChangeLog log, RuntimeException failed, ResourceAction action) {
        if (failed == null) {
            log.record(action);
        }
    }

    /**
     * A watch of kube-system's token Secrets that ends when the token controller has filled the canonical one. It is
     * started before the last writes so that it is in place when the token arrives; the wait (and its metric) starts
     * once those writes are done.
     */
    private final class TokenWait {
        private final KubernetesClient client;
        private final ServiceAccount sa;
        private final CompletableFuture<List<Secret>> filled;
        private long waitStarted;
        private boolean issued;

        TokenWait(KubernetesClient client, ServiceAccount sa) {
            this.client = client;
            this.sa = sa;
            this.filled = TokenSecrets.inKubeSystem(client)
                    .informOnCondition(l -> TokenSecrets.canonical(l, sa).filter(TokenSecrets::filled).isPresent());
        }

        Secret await(boolean secretExpected) {
            waitStarted = System.nanoTime();
            try {
                List<Secret> secrets = filled.get(tokenTimeout.toMillis(), TimeUnit.MILLISECONDS);
                issued = true;
                return TokenSecrets.canonical(secrets, sa).orElseThrow();
            } catch (TimeoutException e) {
                boolean exists = TokenSecrets.canonical(call(client, "listing Secrets in " + NAMESPACE,
                        () -> TokenSecrets.inKubeSystem(client).list().getItems()), sa).isPresent();
                String what = exists || secretExpected
                        ? "the token Secret of " + NAMESPACE + "/" + SERVICE_ACCOUNT + " was not filled with a token"
                        : "no token Secret was created for " + NAMESPACE + "/" + SERVICE_ACCOUNT;
                throw AuthorizationException.permanent(FailureCode.TOKEN_NOT_ISSUED, what + " within "
                        + tokenTimeout.toSeconds() + "s: the cluster's token controller (kube-controller-manager) is "
                        + (exists ? "slow or not running" : "not running or not creating tokens"));
            } catch (ExecutionException e) {
                throw KubeErrors.classify(e.getCause(), "waiting for the token");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                // The request's deadline (or a stop) ended the wait: the token may still come, so it is retryable.
                throw AuthorizationException.transientFailure(FailureCode.TOKEN_NOT_ISSUED,
                        "the wait for the token was cut short");
            }
        }

        /** Ends the watch (the informer stops with its future); records the wait if there was one. */
        void stop() {
            filled.cancel(true);
            if (waitStarted != 0) {
                metrics.tokenWait(Duration.ofNanos(System.nanoTime() - waitStarted), issued);
            }
        }
    }
}

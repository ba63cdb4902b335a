package io.apigw.authorizer.grant;

import static io.apigw.authorizer.grant.ReservedResources.CLUSTER_ROLE;
import static io.apigw.authorizer.grant.ReservedResources.CLUSTER_ROLE_BINDING;
import static io.apigw.authorizer.grant.ReservedResources.NAMESPACE;
import static io.apigw.authorizer.grant.ReservedResources.SERVICE_ACCOUNT;
import static io.apigw.authorizer.kube.KubeErrors.call;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import jakarta.enterprise.context.ApplicationScoped;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.kube.KubeErrors;
import io.apigw.authorizer.kube.ParallelCalls;
import io.apigw.authorizer.metrics.AuthorizerMetrics;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.apigw.authorizer.result.ResourceAction.Action;
import io.apigw.authorizer.result.ResourceAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * Puts the four reserved resources in place with as few writes as possible: read all, plan, review the admin
 * credential's rights once, then write only what is missing or drifted, and wait for the token. Safe to run again
 * at any point: every step converges on the same objects.
 */
@ApplicationScoped
public class GrantReconciler {


    private final Duration tokenTimeout;
    private final AuthorizerMetrics metrics;
    private final ParallelCalls calls;

    public GrantReconciler(AuthorizerConfig config, AuthorizerMetrics metrics, ParallelCalls calls) {
        this.tokenTimeout = config.token().timeout();
        this.metrics = metrics;
        this.calls = calls;
    }

    /** Observe, plan, review the rights once, write in two waves, then get the token. */
    public Grant reconcile(KubernetesClient client, ChangeLog log) {
        ObservedGrant observed = ObservedGrant.read(client, calls);
        requireNotTerminating(observed.serviceAccount(), observed.role(), observed.binding());
        GrantPlan plan = GrantPlan.of(observed);
        AccessReview.require(client, plan.rights(), calls);
        ServiceAccount owner = wave1(client, plan, observed, log);
        Optional<Secret> existingToken = observed.canonicalToken();
        Secret tokenSecret = existingToken.filter(TokenSecrets::filled).orElse(null);
        // The watch for the token starts before the last writes, so it is in place when the token arrives.
        TokenWait token = plan.awaitToken() ? new TokenWait(client, owner) : null;
        try {
            wave2(client, plan, observed.binding(), owner, log);
            if (token != null) {
                tokenSecret = token.await(existingToken.isPresent() || plan.createToken());
            }
        } finally {
            if (token != null) {
                token.stop();
            }
        }
        log.record(Reserved.TOKEN_SECRET.report(tokenSecret.getMetadata().getName(),
                existingToken.isPresent() ? Action.unchanged : Action.created));
        return new Grant(log.actions(), tokenSecret.getMetadata().getName(), TokenSecrets.token(tokenSecret),
                observed.version().getGitVersion());
    }

    /*
     * Two waves of writes: the role and the account do not depend on each other; the binding needs the role (RBAC
     * checks the binder against it) and a token Secret the account's uid. The calls of a wave run at once, and what
     * took effect is recorded before a failure ends the attempt.
     */

    /** Wave 1: the ClusterRole (on the pool) and the ServiceAccount (here); returns the account. */
    private ServiceAccount wave1(KubernetesClient client, GrantPlan plan, ObservedGrant observed, ChangeLog log) {
        ServiceAccount found = observed.serviceAccount();
        // With nothing to write, each is still recorded (as unchanged).
        ParallelCalls.Outcome<ServiceAccount> wave = !plan.wave1() ? ParallelCalls.Outcome.done(found)
                : calls.both(() -> writeRole(client, plan.role(), observed.role()),
                        () -> found != null ? found : createServiceAccount(client));
        recordIfDone(log, wave.pooledFailure(), Reserved.CLUSTER_ROLE.report(plan.role()));
        recordIfDone(log, wave.callerFailure(), Reserved.SERVICE_ACCOUNT.report(plan.serviceAccount()));
        return wave.orThrow();
    }

    /** Wave 2: the ClusterRoleBinding (on the pool) and, from 1.24 on, the worker's token Secret (here). */
    private void wave2(KubernetesClient client, GrantPlan plan, ClusterRoleBinding binding, ServiceAccount owner,
            ChangeLog log) {
        ParallelCalls.Outcome<Boolean> wave = !plan.wave2() ? ParallelCalls.Outcome.done(false)
                : calls.both(() -> writeBinding(client, binding, plan.binding(), plan.rebind()),
                        () -> plan.createToken() && createWorkerSecret(client, owner));
        recordIfDone(log, wave.pooledFailure(), Reserved.CLUSTER_ROLE_BINDING.report(plan.binding()));
        if (Boolean.TRUE.equals(wave.value())) {
            // Made here: reported as created even if this attempt fails later and a retry finds it.
            log.record(Reserved.TOKEN_SECRET.report(TokenSecrets.workerSecretName(owner), Action.created));
        }
        wave.orThrow();
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
            case created -> call(client, "creating " + Reserved.CLUSTER_ROLE.described(),
                    () -> client.rbac().clusterRoles().resource(ReservedResources.clusterRole()).create());
            case updated -> call(client, "repairing " + Reserved.CLUSTER_ROLE.described(),
                    () -> client.rbac().clusterRoles().resource(new ClusterRoleBuilder(role)
                            .withRules(ReservedResources.RULES).withAggregationRule(null).build()).update());
            default -> {
            }
        }
    }

    private static ServiceAccount createServiceAccount(KubernetesClient client) {
        return call(client, "creating " + Reserved.SERVICE_ACCOUNT.described(),
                () -> client.serviceAccounts().inNamespace(NAMESPACE).resource(ReservedResources.serviceAccount())
                        .create());
    }

    private void writeBinding(KubernetesClient client, ClusterRoleBinding binding, Action action, boolean rebind) {
        if (rebind) {
            // roleRef is immutable: the binding must be deleted and made again.
            String uid = binding.getMetadata().getUid();
            call(client, "deleting " + Reserved.CLUSTER_ROLE_BINDING.described() + " with a foreign roleRef",
                    () -> client.rbac().clusterRoleBindings().withName(CLUSTER_ROLE_BINDING)
                            .lockResourceVersion(binding.getMetadata().getResourceVersion()).delete());
            awaitGone(client, uid);
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

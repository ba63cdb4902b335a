package io.apigw.authorizer.grant;

import static io.apigw.authorizer.grant.ReservedResources.CLUSTER_ROLE;
import static io.apigw.authorizer.grant.ReservedResources.CLUSTER_ROLE_BINDING;
import static io.apigw.authorizer.grant.ReservedResources.NAMESPACE;
import static io.apigw.authorizer.grant.ReservedResources.SERVICE_ACCOUNT;
import static io.apigw.authorizer.kube.KubeErrors.call;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.kube.KubeErrors;
import io.apigw.authorizer.kube.ParallelCalls;
import io.apigw.authorizer.metrics.AuthorizerMetrics;
import io.apigw.authorizer.policy.Policy;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.CredentialProblem;
import io.apigw.authorizer.result.FailureCode;
import io.apigw.authorizer.result.ResourceAction.Action;
import io.apigw.authorizer.result.ResourceAction;
import io.apigw.authorizer.marks.Marks;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.quarkus.runtime.Startup;

/**
 * Puts the four reserved resources in place with as few writes as possible: read all, plan, review the admin
 * credential's rights once, then write only what is missing or drifted, and wait for the token. Safe to run again
 * at any point: every step converges on the same objects.
 */
@ApplicationScoped
@Startup
public class GrantReconciler {

    private static final Logger LOG = Logger.getLogger(GrantReconciler.class);
    /** How long a just-made token or binding is given to be accepted everywhere in the API server. */
    static final Duration SETTLING = Duration.ofSeconds(5);
    private static final Duration FIRST_PAUSE = Duration.ofMillis(100);

    private final Duration tokenTimeout;
    private final String self;
    private final AuthorizerMetrics metrics;
    private final ParallelCalls calls;

    public GrantReconciler(AuthorizerConfig config, AuthorizerMetrics metrics, ParallelCalls calls) {
        this.tokenTimeout = config.token().timeout();
        this.self = config.instanceId();
        if (!self.matches("[A-Za-z0-9._-]{1,63}")) {
            // Comma-separated on the account, beside other instances' ids.
            throw new IllegalArgumentException("authorizer.instance-id must be 1-63 characters of [A-Za-z0-9._-]");
        }
        this.metrics = metrics;
        this.calls = calls;
    }

    /**
     * Observe, plan, review the rights once, write in two waves, get the token, then try it as the gateway will: a
     * token that is rejected, labelled invalid by the legacy token cleaner, or of another account is replaced; one
     * that still cannot be used fails the attempt. {@code observed}: the cluster as {@link ObservedGrant#read} found
     * it; {@code desired}: what the caller decided once it had been read (the policy may depend on the stored
     * credential, which a down target cluster should not be blamed on).
     */
    public Grant reconcile(KubernetesClient client, ObservedGrant observed, Desired desired, TokenCheck check,
            ChangeLog log) {
        return settle(client, observed, desired, check, log).grant();
    }

    /**
     * A rotation: the grant in place as {@link #reconcile}, then a second token Secret of the account, named from
     * {@code rotationId}, filled and found usable. Before 1.24 the account lists it, so that the token controller mints
     * no other when the old one is revoked. If the canonical token already is that Secret (a retry), it is returned.
     * Refused ({@code CONFLICT}) while another gateway instance relies on the account: the old token is theirs too.
     */
    public Grant rotate(KubernetesClient client, ObservedGrant observed, Desired desired, TokenCheck check,
            ChangeLog log, String rotationId) {
        Settled current = settle(client, observed, desired, check, log);
        Set<String> others = current.grant().sharedWith();
        if (!others.isEmpty()) {
            throw AuthorizationException.permanent(FailureCode.CONFLICT, "the reserved resources are shared with "
                    + String.join(", ", others) + ": a rotation would revoke the token they use too; nothing was "
                    + "rotated");
        }
        String name = TokenSecrets.workerSecretName(current.owner(), "/rotation/" + rotationId);
        if (current.grant().tokenSecret().equals(name)) {
            return current.grant();
        }
        TokenWait wait = new TokenWait(client, current.owner(), named(name));
        Secret fresh;
        try {
            createWorkerSecret(client, current.owner(), name);
            log.record(Reserved.TOKEN_SECRET.report(name, Action.created));
            fresh = wait.await(true);
        } finally {
            wait.stop();
        }
        if (!current.observed().tokenChoice().preferWorkerOwned()) {
            list(client, name);
        }
        TokenVerdict verdict = judge(fresh, current.owner(), check, true);
        if (!verdict.usable()) {
            throw unusable(verdict);
        }
        return grant(log, fresh, current.observed(), current.owner());
    }

    /** Deletes a token Secret that is pending revocation, if it is still the one recorded ({@code uid}). */
    public Action revoke(KubernetesClient client, String name, String uid) {
        Secret s = call(client, "reading token Secret " + name,
                () -> client.secrets().inNamespace(NAMESPACE).withName(name).get());
        if (s == null || !TokenSecrets.reserved(s) || (uid != null && !uid.equals(s.getMetadata().getUid()))) {
            return Action.absent;
        }
        delete(client, s);
        return Action.deleted;
    }

    /** The grant in place and its token usable, with the account that owns it and what was observed. */
    private record Settled(Grant grant, ServiceAccount owner, ObservedGrant observed) {
    }

    private Settled settle(KubernetesClient client, ObservedGrant read, Desired desired, TokenCheck check,
            ChangeLog log) {
        ObservedGrant observed = read.retiring(desired.retiring());
        Policy policy = desired.policy();
        requireNotTerminating(observed.serviceAccount(), observed.role(), observed.binding());
        GrantPlan plan = GrantPlan.of(observed, policy, self);
        if (plan.policy().version() != policy.version() || observed.target(policy, self).isEmpty()) {
            LOG.infof("the ClusterRole %s is kept at the policy version other gateway instances rely on (%s), above "
                    + "this instance's v%d: a shared role is never lowered under them", CLUSTER_ROLE,
                    observed.owners().policies(), policy.version());
        }
        AccessReview.require(client, plan.rights(), calls);
        ServiceAccount owner = wave1(client, plan, observed, desired.appId(), policy.version(), log);
        Optional<Secret> existingToken = observed.canonicalToken();
        Secret tokenSecret = existingToken.filter(TokenSecrets::filled).orElse(null);
        // The watch for the token starts before the last writes, so it is in place when the token arrives.
        TokenWait token = plan.awaitToken() ? new TokenWait(client, owner, canonical(owner, observed, Set.of()))
                : null;
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
        Action tokenAction = existingToken.isPresent() ? Action.unchanged : Action.created;
        // Caches of a token or binding made just now may lag a moment behind: then the probe is given time.
        boolean changed = plan.awaitToken() || plan.wave1() || plan.wave2();
        TokenVerdict verdict = judge(tokenSecret, owner, check, changed);
        if (replaceable(verdict)) {
            LOG.infof("token Secret %s/%s is not usable (%s): replacing it", NAMESPACE,
                    tokenSecret.getMetadata().getName(), verdict.problem());
            Secret bad = tokenSecret;
            tokenSecret = replace(client, observed, owner, bad);
            tokenAction = tokenSecret.getMetadata().getName().equals(bad.getMetadata().getName()) ? Action.updated
                    : Action.created;
            verdict = judge(tokenSecret, owner, check, true);
            if (verdict.usable() && !bad.getMetadata().getName().equals(tokenSecret.getMetadata().getName())) {
                delete(client, bad); // from 1.24 the bad one goes once its replacement is proven
            }
        }
        if (!verdict.usable()) {
            throw unusable(verdict);
        }
        for (Secret stale : observed.staleTokens()) {
            delete(client, stale); // of an earlier account of the same name: no one can use it
        }
        log.record(Reserved.TOKEN_SECRET.report(tokenSecret.getMetadata().getName(), tokenAction));
        return new Settled(grant(log, tokenSecret, observed, owner), owner, observed);
    }

    private Grant grant(ChangeLog log, Secret tokenSecret, ObservedGrant observed, ServiceAccount owner) {
        return new Grant(log.actions(), tokenSecret.getMetadata().getName(), tokenSecret.getMetadata().getUid(),
                TokenSecrets.token(tokenSecret), observed.version().getGitVersion(),
                observed.tokenChoice().preferWorkerOwned()
                        && TokenSecrets.listed(owner).contains(tokenSecret.getMetadata().getName()),
                observed.clusterUid(), Owners.of(owner).otherInstances(self));
    }

    private static boolean replaceable(TokenVerdict v) {
        return v.problem() == CredentialProblem.rejected || v.problem() == CredentialProblem.invalidated
                || v.problem() == CredentialProblem.wrong_account;
    }

    private static AuthorizationException unusable(TokenVerdict v) {
        return new AuthorizationException(FailureCode.CREDENTIAL_UNUSABLE, "the token of " + NAMESPACE + "/"
                + SERVICE_ACCOUNT + " cannot be used by the gateway: " + v.detail(), v.mayBeSettling());
    }

    /**
     * The probe's verdict on a token Secret. {@code patient}: rejected or lacking rights may be caches catching up
     * with a change made just now, so the probe is repeated for up to {@link #SETTLING}.
     */
    private static TokenVerdict judge(Secret secret, ServiceAccount sa, TokenCheck check, boolean patient) {
        if (TokenSecrets.invalidated(secret)) {
            return new TokenVerdict(CredentialProblem.invalidated, "token Secret " + secret.getMetadata().getName()
                    + " is labelled " + ReservedResources.LEGACY_TOKEN_INVALID_SINCE);
        }
        long until = System.nanoTime() + SETTLING.toNanos();
        long pause = FIRST_PAUSE.toMillis();
        for (;;) {
            TokenVerdict v = check.verify(TokenSecrets.token(secret), sa.getMetadata().getUid());
            if (v.usable() || !patient || !v.mayBeSettling()
                    || System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(pause) > until) {
                return v;
            }
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw AuthorizationException.transientFailure(FailureCode.CREDENTIAL_UNUSABLE,
                        "the wait for the token to be accepted was cut short");
            }
            pause = Math.min(pause * 2, 1000);
        }
    }

    /**
     * A replacement for an unusable token Secret. Before 1.24 the token controller mints it: the bad one is deleted
     * and the account's next token awaited. From 1.24 the worker makes one under another name, never listed by the
     * account (so the legacy token cleaner never counts it), and the caller deletes the bad one once it is proven.
     */
    private Secret replace(KubernetesClient client, ObservedGrant observed, ServiceAccount sa, Secret bad) {
        String badName = bad.getMetadata().getName();
        if (!observed.tokenChoice().preferWorkerOwned()) {
            TokenWait wait = new TokenWait(client, sa, canonical(sa, observed, Set.of(badName)));
            try {
                delete(client, bad);
                return wait.await(true);
            } finally {
                wait.stop();
            }
        }
        String name = TokenSecrets.workerSecretName(sa);
        if (name.equals(badName)) {
            name = TokenSecrets.workerSecretName(sa, "/replacing/" + bad.getMetadata().getUid());
        }
        TokenWait wait = new TokenWait(client, sa, named(name));
        try {
            createWorkerSecret(client, sa, name);
            return wait.await(true);
        } finally {
            wait.stop();
        }
    }

    private static Function<List<Secret>, Optional<Secret>> canonical(ServiceAccount sa, ObservedGrant observed,
            Set<String> alsoExcluded) {
        Set<String> excluded = new HashSet<>(observed.retiring());
        excluded.addAll(alsoExcluded);
        TokenSecrets.Choice choice = new TokenSecrets.Choice(observed.tokenChoice().preferWorkerOwned(), excluded);
        return l -> TokenSecrets.canonical(l, sa, choice);
    }

    private static Function<List<Secret>, Optional<Secret>> named(String name) {
        return l -> l.stream().filter(s -> s.getMetadata().getName().equals(name)).findFirst();
    }

    /** Deletes exactly the Secret that was read (its resourceVersion), never a newer one of the same name. */
    private static void delete(KubernetesClient client, Secret s) {
        try {
            KubeErrors.bounded(client, "deleting token Secret " + s.getMetadata().getName(),
                    () -> client.secrets().inNamespace(NAMESPACE).withName(s.getMetadata().getName())
                            .lockResourceVersion(s.getMetadata().getResourceVersion()).delete());
        } catch (KubernetesClientException e) {
            if (e.getCode() != 404) {
                throw KubeErrors.classify(e, "deleting token Secret " + s.getMetadata().getName());
            }
        }
    }

    /** Before 1.24: the account lists the Secret, so the token controller counts it as the account's token. */
    private static void list(KubernetesClient client, String name) {
        call(client, "listing token Secret " + name + " in " + Reserved.SERVICE_ACCOUNT.described(),
                () -> client.serviceAccounts().inNamespace(NAMESPACE).withName(SERVICE_ACCOUNT)
                        .edit(sa -> TokenSecrets.listed(sa).contains(name) ? sa
                                : new ServiceAccountBuilder(sa).addNewSecret().withName(name).endSecret().build()));
    }

    /*
     * Two waves of writes: the role and the account do not depend on each other; the binding needs the role (RBAC
     * checks the binder against it) and a token Secret the account's uid. The calls of a wave run at once, and what
     * took effect is recorded before a failure ends the attempt.
     */

    /** Wave 1: the ClusterRole (on the pool) and the ServiceAccount (here); returns the account. */
    private ServiceAccount wave1(KubernetesClient client, GrantPlan plan, ObservedGrant observed,
            Optional<String> appId, int reliesOn, ChangeLog log) {
        ServiceAccount found = observed.serviceAccount();
        // With nothing to write, each is still recorded (as unchanged).
        ParallelCalls.Outcome<ServiceAccount> wave = !plan.wave1() ? ParallelCalls.Outcome.done(found)
                : calls.both(() -> writeRole(client, plan.role(), observed.role(), plan.policy()),
                        () -> found == null ? createServiceAccount(client, appId, reliesOn)
                                : plan.serviceAccount() == Action.updated ? markOwner(client, found, appId, reliesOn)
                                        : found);
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
        return createWorkerSecret(client, sa, TokenSecrets.workerSecretName(sa));
    }

    private boolean createWorkerSecret(KubernetesClient client, ServiceAccount sa, String name) {
        Secret wanted = TokenSecrets.workerSecret(name);
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

    private static void writeRole(KubernetesClient client, Action action, ClusterRole role, Policy policy) {
        switch (action) {
            case created -> call(client, "creating " + Reserved.CLUSTER_ROLE.described(),
                    () -> client.rbac().clusterRoles().resource(ReservedResources.clusterRole(policy)).create());
            // Locked to the role as read: a concurrent change is a conflict and the attempt is run again.
            case updated -> call(client, "writing policy v" + policy.version() + " to "
                    + Reserved.CLUSTER_ROLE.described(), () -> client.rbac().clusterRoles().resource(
                            new ClusterRoleBuilder(role).editMetadata().addToAnnotations(
                                    Marks.POLICY_VERSION, String.valueOf(policy.version()))
                                    .endMetadata().withRules(policy.rules()).withAggregationRule(null).build())
                            .update());
            default -> {
            }
        }
    }

    private ServiceAccount createServiceAccount(KubernetesClient client, Optional<String> appId, int reliesOn) {
        ServiceAccount made = new ServiceAccountBuilder(ReservedResources.serviceAccount(self, appId)).editMetadata()
                .addToAnnotations(Marks.OWNER_POLICIES, self + "=" + reliesOn).endMetadata().build();
        return call(client, "creating " + Reserved.SERVICE_ACCOUNT.described(),
                () -> client.serviceAccounts().inNamespace(NAMESPACE).resource(made).create());
    }

    /**
     * Adds this instance to the owners of the account as observed, with the policy version it relies on. An update,
     * not a patch: it carries the observed resourceVersion, so an instance that joined meanwhile is never overwritten
     * (409, and the attempt runs again).
     */
    private ServiceAccount markOwner(KubernetesClient client, ServiceAccount observed, Optional<String> appId,
            int reliesOn) {
        Owners owners = Owners.of(observed);
        ServiceAccountBuilder marked = new ServiceAccountBuilder(observed).editMetadata()
                .addToAnnotations(Marks.OWNERS, owners.joined(self))
                .addToAnnotations(Marks.OWNER_POLICIES, owners.policiesWith(self, reliesOn)).endMetadata();
        appId.ifPresent(a -> marked.editMetadata().addToAnnotations(Marks.APP_ID, a).endMetadata());
        return call(client, "marking " + Reserved.SERVICE_ACCOUNT.described() + " as relied on by " + self,
                () -> client.serviceAccounts().inNamespace(NAMESPACE).resource(marked.build()).update());
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
        private final Function<List<Secret>, Optional<Secret>> pick;
        private final CompletableFuture<List<Secret>> filled;
        private long waitStarted;
        private boolean issued;

        /** @param pick the Secret waited for among kube-system's token Secrets (filled or not yet) */
        TokenWait(KubernetesClient client, ServiceAccount sa, Function<List<Secret>, Optional<Secret>> pick) {
            this.client = client;
            this.pick = l -> pick.apply(l.stream().filter(s -> TokenSecrets.belongsTo(s, sa)).toList());
            this.filled = TokenSecrets.inKubeSystem(client)
                    .informOnCondition(l -> this.pick.apply(l).filter(TokenSecrets::filled).isPresent());
        }

        Secret await(boolean secretExpected) {
            waitStarted = System.nanoTime();
            try {
                List<Secret> secrets = filled.get(tokenTimeout.toMillis(), TimeUnit.MILLISECONDS);
                issued = true;
                return pick.apply(secrets).orElseThrow();
            } catch (TimeoutException e) {
                boolean exists = pick.apply(call(client, "listing Secrets in " + NAMESPACE,
                        () -> TokenSecrets.inKubeSystem(client).list().getItems())).isPresent();
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

package io.apigw.authorizer.grant;

import static io.apigw.authorizer.grant.ReservedResources.CLUSTER_ROLE;
import static io.apigw.authorizer.grant.ReservedResources.NAMESPACE;
import static io.apigw.authorizer.grant.ReservedResources.SERVICE_ACCOUNT;

import java.time.Duration;
import java.util.Optional;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.kube.ParallelCalls;
import io.apigw.authorizer.metrics.AuthorizerMetrics;
import io.apigw.authorizer.policy.Policy;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.CredentialProblem;
import io.apigw.authorizer.result.FailureCode;
import io.apigw.authorizer.result.ResourceAction.Action;
import io.apigw.authorizer.result.ResourceAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.runtime.Startup;

/**
 * Puts the four reserved resources in place with as few writes as possible: read all, plan, review the admin
 * credential's rights once, then write only what is missing or drifted, and wait for the token. Safe to run again
 * at any point: every step converges on the same objects. Each resource's reads and writes are its own class
 * ({@link AccountResource}, {@link RoleResource}, {@link BindingResource}, {@link TokenSecretResource}); this class
 * holds the order.
 */
@ApplicationScoped
@Startup
public class GrantReconciler {

    private static final Logger LOG = Logger.getLogger(GrantReconciler.class);

    private final Duration tokenTimeout;
    private final String self;
    private final ParallelCalls calls;
    private final TokenSecretResource tokens;

    public GrantReconciler(AuthorizerConfig config, AuthorizerMetrics metrics, ParallelCalls calls) {
        this.tokenTimeout = config.token().timeout();
        this.self = config.instanceId();
        if (!self.matches("[A-Za-z0-9._-]{1,63}")) {
            // Comma-separated on the account, beside other instances' ids.
            throw new IllegalArgumentException("authorizer.instance-id must be 1-63 characters of [A-Za-z0-9._-]");
        }
        this.calls = calls;
        this.tokens = new TokenSecretResource(tokenTimeout, metrics);
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
     * {@code rotationId}, filled and found usable. If the canonical token already is that Secret (a retry), it is
     * returned. Refused ({@code CONFLICT}) while another gateway instance relies on the account: the old token is
     * theirs too.
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
        Secret fresh = tokens.successor(client, current.owner(), name, current.observed(), log);
        TokenVerdict verdict = TokenSecretResource.judge(fresh, current.owner(), check, true);
        if (!verdict.usable()) {
            throw unusable(verdict);
        }
        return grant(log, fresh, current.observed(), current.owner());
    }

    /** Deletes a token Secret that is pending revocation, if it is still the one recorded ({@code uid}). */
    public Action revoke(KubernetesClient client, String name, String uid) {
        return TokenSecretResource.revoke(client, name, uid);
    }

    /** The grant in place and its token usable, with the account that owns it and what was observed. */
    private record Settled(Grant grant, ServiceAccount owner, ObservedGrant observed) {
    }

    /** The token Secret as the writes and waits left it, and whether it was there before. */
    private record Token(Secret secret, Action action, boolean changed) {
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
        Token token = usable(client, observed, owner, check, written(client, plan, observed, owner, log));
        for (Secret stale : observed.staleTokens()) {
            TokenSecretResource.delete(client, stale); // of an earlier account of the same name: no one can use it
        }
        log.record(Reserved.TOKEN_SECRET.report(token.secret().getMetadata().getName(), token.action()));
        return new Settled(grant(log, token.secret(), observed, owner), owner, observed);
    }

    /** Wave 2 written and the token awaited where there is none filled yet. */
    private Token written(KubernetesClient client, GrantPlan plan, ObservedGrant observed, ServiceAccount owner,
            ChangeLog log) {
        Optional<Secret> existing = observed.canonicalToken();
        Secret secret = existing.filter(TokenSecrets::filled).orElse(null);
        // The watch for the token starts before the last writes, so it is in place when the token arrives.
        TokenWait wait = plan.awaitToken() ? tokens.watchCanonical(client, owner, observed) : null;
        try {
            wave2(client, plan, observed, owner, log);
            if (wait != null) {
                secret = wait.await(existing.isPresent() || plan.createToken());
            }
        } finally {
            if (wait != null) {
                wait.stop();
            }
        }
        // Caches of a token or binding made just now may lag a moment behind: then the probe is given time.
        return new Token(secret, existing.isPresent() ? Action.unchanged : Action.created,
                plan.awaitToken() || plan.wave1() || plan.wave2());
    }

    /** The token tried as the gateway will, replaced once if it is rejected, invalidated or of another account. */
    private Token usable(KubernetesClient client, ObservedGrant observed, ServiceAccount owner, TokenCheck check,
            Token token) {
        TokenVerdict verdict = TokenSecretResource.judge(token.secret(), owner, check, token.changed());
        Token result = token;
        if (replaceable(verdict)) {
            Secret bad = token.secret();
            String badName = bad.getMetadata().getName();
            LOG.infof("token Secret %s/%s is not usable (%s): replacing it", NAMESPACE, badName, verdict.problem());
            Secret replacement = tokens.replace(client, observed, owner, bad);
            boolean renamed = !replacement.getMetadata().getName().equals(badName);
            result = new Token(replacement, renamed ? Action.created : Action.updated, true);
            verdict = TokenSecretResource.judge(replacement, owner, check, true);
            if (verdict.usable() && renamed) {
                TokenSecretResource.delete(client, bad); // from 1.24 the bad one goes once its replacement is proven
            }
        }
        if (!verdict.usable()) {
            throw unusable(verdict);
        }
        return result;
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
                : calls.both(() -> RoleResource.write(client, plan.role(), observed.role(), plan.policy()),
                        () -> found == null ? AccountResource.create(client, self, appId, reliesOn)
                                : plan.serviceAccount() == Action.updated
                                        ? AccountResource.markOwner(client, found, self, appId, reliesOn)
                                        : found);
        recordIfDone(log, wave.pooledFailure(), Reserved.CLUSTER_ROLE.report(plan.role()));
        recordIfDone(log, wave.callerFailure(), Reserved.SERVICE_ACCOUNT.report(plan.serviceAccount()));
        return wave.orThrow();
    }

    /** Wave 2: the ClusterRoleBinding (on the pool) and, from 1.24 on, the worker's token Secret (here). */
    private void wave2(KubernetesClient client, GrantPlan plan, ObservedGrant observed, ServiceAccount owner,
            ChangeLog log) {
        ParallelCalls.Outcome<Boolean> wave = !plan.wave2() ? ParallelCalls.Outcome.done(false)
                : calls.both(() -> BindingResource.write(client, observed.binding(), plan.binding(), plan.rebind(),
                        tokenTimeout), () -> plan.createToken() && TokenSecretResource.createWorkerSecret(client, owner));
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

    private static void recordIfDone(ChangeLog log, RuntimeException failed, ResourceAction action) {
        if (failed == null) {
            log.record(action);
        }
    }
}

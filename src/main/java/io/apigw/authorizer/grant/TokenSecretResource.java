package io.apigw.authorizer.grant;

import static io.apigw.authorizer.grant.ReservedResources.NAMESPACE;
import static io.apigw.authorizer.grant.ReservedResources.SERVICE_ACCOUNT;
import static io.apigw.authorizer.kube.KubeErrors.call;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import io.apigw.authorizer.kube.KubeErrors;
import io.apigw.authorizer.metrics.AuthorizerMetrics;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.apigw.authorizer.result.ResourceAction.Action;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * The reserved token Secret {@code apigw-ingress-token-*}, the largest of the four: it is waited for (the token
 * controller fills it), made by the worker from 1.24, judged as the gateway would use it, replaced when unusable, given
 * a successor by a rotation and revoked after the grace. Which of several is the account's token is
 * {@link TokenSecrets}'s choice.
 */
final class TokenSecretResource {

    /** How long a just-made token or binding is given to be accepted everywhere in the API server. */
    static final Duration SETTLING = Duration.ofSeconds(5);
    private static final Duration FIRST_PAUSE = Duration.ofMillis(100);

    private final Duration tokenTimeout;
    private final AuthorizerMetrics metrics;

    TokenSecretResource(Duration tokenTimeout, AuthorizerMetrics metrics) {
        this.tokenTimeout = tokenTimeout;
        this.metrics = metrics;
    }

    /** kube-system's token Secrets (of any account: the caller picks). */
    static List<Secret> list(KubernetesClient client) {
        return call(client, "listing Secrets in " + NAMESPACE, () -> TokenSecrets.inKubeSystem(client).list().getItems());
    }

    /** A watch for the account's canonical token, never one of {@code observed}'s retiring ones. */
    TokenWait watchCanonical(KubernetesClient client, ServiceAccount sa, ObservedGrant observed) {
        return new TokenWait(client, sa, canonical(sa, observed, Set.of()), tokenTimeout, metrics);
    }

    /**
     * A rotation's successor: a second token Secret of the account named {@code name}, made and filled. Before 1.24
     * the account lists it, so that the token controller mints no other when the old one is revoked.
     */
    Secret successor(KubernetesClient client, ServiceAccount owner, String name, ObservedGrant observed,
            ChangeLog log) {
        TokenWait wait = new TokenWait(client, owner, named(name), tokenTimeout, metrics);
        Secret fresh;
        try {
            createWorkerSecret(client, owner, name);
            log.record(Reserved.TOKEN_SECRET.report(name, Action.created));
            fresh = wait.await(true);
        } finally {
            wait.stop();
        }
        if (!observed.tokenChoice().preferWorkerOwned()) {
            listOnAccount(client, name);
        }
        return fresh;
    }

    /**
     * The probe's verdict on a token Secret. {@code patient}: rejected or lacking rights may be caches catching up
     * with a change made just now, so the probe is repeated for up to {@link #SETTLING}.
     */
    static TokenVerdict judge(Secret secret, ServiceAccount sa, TokenCheck check, boolean patient) {
        if (TokenSecrets.invalidated(secret)) {
            return TokenVerdict.invalidated(secret.getMetadata().getName());
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
    Secret replace(KubernetesClient client, ObservedGrant observed, ServiceAccount sa, Secret bad) {
        String badName = bad.getMetadata().getName();
        if (!observed.tokenChoice().preferWorkerOwned()) {
            TokenWait wait = new TokenWait(client, sa, canonical(sa, observed, Set.of(badName)), tokenTimeout,
                    metrics);
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
        TokenWait wait = new TokenWait(client, sa, named(name), tokenTimeout, metrics);
        try {
            createWorkerSecret(client, sa, name);
            return wait.await(true);
        } finally {
            wait.stop();
        }
    }

    /** Deletes a token Secret that is pending revocation, if it is still the one recorded ({@code uid}). */
    static Action revoke(KubernetesClient client, String name, String uid) {
        Secret s = call(client, "reading token Secret " + name,
                () -> client.secrets().inNamespace(NAMESPACE).withName(name).get());
        if (s == null || !TokenSecrets.reserved(s) || (uid != null && !uid.equals(s.getMetadata().getUid()))) {
            return Action.absent;
        }
        delete(client, s);
        return Action.deleted;
    }

    /** Deletes exactly the Secret that was read (its resourceVersion), never a newer one of the same name. */
    static void delete(KubernetesClient client, Secret s) {
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

    /** Deletes the Secret of that name, whatever its version (a deauthorize takes every reserved token away). */
    static Action delete(KubernetesClient client, String name) {
        return GrantRemover.deleted(call(client, "deleting token Secret " + name,
                () -> client.secrets().inNamespace(NAMESPACE).withName(name).delete()));
    }

    /** @return whether this call made the Secret ({@code false}: it was there already, as the account's token) */
    static boolean createWorkerSecret(KubernetesClient client, ServiceAccount sa) {
        return createWorkerSecret(client, sa, TokenSecrets.workerSecretName(sa));
    }

    private static boolean createWorkerSecret(KubernetesClient client, ServiceAccount sa, String name) {
        Secret wanted = TokenSecrets.workerSecret(name);
        try {
            KubeErrors.bounded(client, "creating token Secret " + name,
                    () -> client.secrets().inNamespace(NAMESPACE).resource(wanted).create());
            return true;
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) {
                throw KubeErrors.classify(e, "creating token Secret " + name);
            }
            Secret found = call(client, "reading token Secret " + name,
                    () -> client.secrets().inNamespace(NAMESPACE).withName(name).get());
            if (found != null && !TokenSecrets.belongsTo(found, sa)) {
                throw AuthorizationException.transientFailure(FailureCode.CONFLICT, "Secret " + NAMESPACE + "/"
                        + name + " exists and is not a token of " + SERVICE_ACCOUNT);
            }
            return false;
        }
    }

    /** Before 1.24: the account lists the Secret, so the token controller counts it as the account's token. */
    private static void listOnAccount(KubernetesClient client, String name) {
        call(client, "listing token Secret " + name + " in " + Reserved.SERVICE_ACCOUNT.described(),
                () -> client.serviceAccounts().inNamespace(NAMESPACE).withName(SERVICE_ACCOUNT)
                        .edit(sa -> TokenSecrets.listed(sa).contains(name) ? sa
                                : new ServiceAccountBuilder(sa).addNewSecret().withName(name).endSecret().build()));
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
}

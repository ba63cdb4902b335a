package io.apigw.authorizer.grant;

import static io.apigw.authorizer.grant.ReservedResources.NAMESPACE;
import static io.apigw.authorizer.grant.ReservedResources.SERVICE_ACCOUNT;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

import io.apigw.authorizer.kube.KubeErrors;
import io.apigw.authorizer.metrics.AuthorizerMetrics;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * A watch of kube-system's token Secrets that ends when the token controller has filled the one waited for. It is
 * started before the last writes so that it is in place when the token arrives; the wait (and its metric) starts
 * once those writes are done.
 */
final class TokenWait {
    private final KubernetesClient client;
    private final Function<List<Secret>, Optional<Secret>> pick;
    private final CompletableFuture<List<Secret>> filled;
    private final Duration timeout;
    private final AuthorizerMetrics metrics;
    private long waitStarted;
    private boolean issued;

    /** @param pick the Secret waited for among kube-system's token Secrets of {@code sa} (filled or not yet) */
    TokenWait(KubernetesClient client, ServiceAccount sa, Function<List<Secret>, Optional<Secret>> pick,
            Duration timeout, AuthorizerMetrics metrics) {
        this.client = client;
        this.pick = l -> pick.apply(l.stream().filter(s -> TokenSecrets.belongsTo(s, sa)).toList());
        this.timeout = timeout;
        this.metrics = metrics;
        this.filled = TokenSecrets.inKubeSystem(client)
                .informOnCondition(l -> this.pick.apply(l).filter(TokenSecrets::filled).isPresent());
    }

    /** @param secretExpected the Secret is known to exist (or to have been made): only its token is missing */
    Secret await(boolean secretExpected) {
        waitStarted = System.nanoTime();
        try {
            List<Secret> secrets = filled.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            issued = true;
            return pick.apply(secrets).orElseThrow();
        } catch (TimeoutException e) {
            throw notIssued(secretExpected);
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

    private AuthorizationException notIssued(boolean secretExpected) {
        boolean exists = pick.apply(TokenSecretResource.list(client)).isPresent();
        String what = exists || secretExpected
                ? "the token Secret of " + NAMESPACE + "/" + SERVICE_ACCOUNT + " was not filled with a token"
                : "no token Secret was created for " + NAMESPACE + "/" + SERVICE_ACCOUNT;
        return AuthorizationException.permanent(FailureCode.TOKEN_NOT_ISSUED, what + " within "
                + timeout.toSeconds() + "s: the cluster's token controller (kube-controller-manager) is "
                + (exists ? "slow or not running" : "not running or not creating tokens"));
    }
}

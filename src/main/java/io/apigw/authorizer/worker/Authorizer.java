package io.apigw.authorizer.worker;

import java.time.Duration;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.credential.CredentialStore;
import io.apigw.authorizer.credential.StoredCredential;
import io.apigw.authorizer.directory.ClusterAccess;
import io.apigw.authorizer.directory.ClusterDirectory;
import io.apigw.authorizer.directory.PrivateAccessDisabledException;
import io.apigw.authorizer.grant.ChangeLog;
import io.apigw.authorizer.kube.ClusterClients;
import io.apigw.authorizer.grant.Grant;
import io.apigw.authorizer.grant.GrantInspector;
import io.apigw.authorizer.grant.GrantReconciler;
import io.apigw.authorizer.grant.GrantRemover;
import io.apigw.authorizer.grant.Inspection;
import io.apigw.authorizer.kube.KubeErrors;
import io.apigw.authorizer.grant.Reserved;
import io.apigw.authorizer.result.ResourceAction;
import io.apigw.authorizer.result.ResourceAction.Action;
import io.apigw.authorizer.metrics.AuthorizerMetrics;
import io.apigw.authorizer.request.AuthorizationRequest;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.apigw.authorizer.result.Result;
import io.apigw.authorizer.timing.Watchdog;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * The whole life of one cluster's authorization: authorize (find it, put the reserved resources in place, keep the
 * token), check (read only), deauthorize. Every step is idempotent, so a transient failure is answered by running
 * the whole attempt again.
 */
@ApplicationScoped
public class Authorizer {

    private static final Logger LOG = Logger.getLogger(Authorizer.class);
    /** A server's Retry-After is honoured up to this, so one request cannot hold its cluster's queue for long. */
    private static final Duration MAX_RETRY_AFTER = Duration.ofSeconds(30);
    /** A retry is started only if this much of the deadline is left after its pause: less could not finish. */
    private static final Duration SHORTEST_ATTEMPT = Duration.ofSeconds(1);

    private final ClusterDirectory directory;
    private final ClusterClients clients;
    private final GrantReconciler grants;
    private final GrantInspector inspector;
    private final GrantRemover remover;
    private final CredentialStore credentials;
    private final Backoff backoff;
    private final AuthorizerMetrics metrics;
    private final Drain drain;
    private final Duration deadline;

    public Authorizer(ClusterDirectory directory, ClusterClients clients, GrantReconciler grants,
            GrantInspector inspector, GrantRemover remover, CredentialStore credentials, AuthorizerConfig config,
            AuthorizerMetrics metrics, Drain drain) {
        this.metrics = metrics;
        this.drain = drain;
        this.directory = directory;
        this.clients = clients;
        this.grants = grants;
        this.inspector = inspector;
        this.remover = remover;
        this.credentials = credentials;
        this.backoff = Backoff.of(config.retry());
        this.deadline = config.request().deadline();
    }

    /** One attempt at a request; {@code changes} carries per-object actions over from earlier attempts. */
    private interface Attempt {
        Result run(AuthorizationRequest request, int attempt, ChangeLog changes);
    }

    public Result handle(AuthorizationRequest request) {
        return switch (request.type()) {
            case AUTHORIZE -> withRetries(request, this::authorize);
            case CHECK -> withRetries(request, this::check);
            case DEAUTHORIZE -> withRetries(request, this::deauthorize);
        };
    }

    private Result authorize(AuthorizationRequest request, int attempt, ChangeLog changes) {
        ClusterAccess access = metrics.step("directory", () -> directory.resolve(request));
        Grant grant = metrics.step("grant", () -> {
            try (ClusterClients.Lease admin = clients.open(access)) {
                return grants.reconcile(admin.client(), changes);
            }
        });
        String credentialRef = metrics.step("credential", () -> credentials.save(request.clusterId(), access.server(),
                access.caPem(), grant.token(), grant.tokenSecret())).value();
        return new Result.Authorized(request.requestId(), request.clusterId(), region(request), Result.now(), attempt,
                grant.alreadyAuthorized(), grant.resources(), grant.tokenSecret(), credentialRef,
                grant.kubernetesVersion());
    }

    private Result check(AuthorizationRequest request, int attempt, ChangeLog changes) {
        ClusterAccess access = directory.resolve(request);
        Inspection found;
        try (ClusterClients.Lease admin = clients.open(access)) {
            found = inspector.inspect(admin.client());
        }
        boolean credentialValid = credentials.load(request.clusterId())
                .map(stored -> authenticates(request.clusterId(), stored)).orElse(false);
        if (found.complete() && credentialValid) {
            List<ResourceAction> resources = Reserved.each(Action.unchanged, found.tokenSecret());
            return new Result.Authorized(request.requestId(), request.clusterId(), region(request), Result.now(),
                    attempt, true, resources, found.tokenSecret(), credentials.reference(request.clusterId()).value(),
                    found.kubernetesVersion());
        }
        return new Result.NotAuthorized(request.requestId(), request.clusterId(), region(request), Result.now(),
                attempt, found.missing(), found.drifted(), credentialValid);
    }

    /** Whether the stored token still works against the cluster, as the gateway would use it (a read). */
    private boolean authenticates(String clusterId, StoredCredential credential) {
        try (ClusterClients.Lease gateway = clients.openAs(clusterId, credential)) {
            KubernetesClient asGateway = gateway.client();
            KubeErrors.call(asGateway, "trying the stored credential", () -> asGateway.namespaces()
                    .list(new io.fabric8.kubernetes.api.model.ListOptionsBuilder().withLimit(1L).build()));
            return true;
        } catch (AuthorizationException e) {
            if (e.code() == FailureCode.PERMISSION_DENIED) {
                return false;
            }
            throw e;
        }
    }

    private Result deauthorize(AuthorizationRequest request, int attempt, ChangeLog changes) {
        ClusterAccess access;
        try {
            access = directory.resolve(request);
        } catch (PrivateAccessDisabledException e) {
            return unreachableDeauthorized(request, attempt, true, "Private network access to the cluster's API "
                    + "server is not enabled, so the reserved resources in the cluster could not be removed; the "
                    + "stored credential was. Enable private access, then retry to remove them.");
        } catch (AuthorizationException e) {
            if (e.code() != FailureCode.CLUSTER_NOT_FOUND) {
                throw e;
            }
            return unreachableDeauthorized(request, attempt, false, "The cluster cannot be reached ("
                    + e.getMessage() + "), so the reserved resources in it could not be removed; the stored "
                    + "credential was.");
        }
        try (ClusterClients.Lease admin = clients.open(access)) {
            remover.remove(admin.client(), changes);
        }
        changes.record(storedCredentialRemoved(request));
        return new Result.Deauthorized(request.requestId(), request.clusterId(), region(request), Result.now(), attempt,
                changes.actions());
    }

    /**
     * The cluster cannot be reached: the gateway must not keep using it, so its stored credential goes now; what is
     * in the cluster is reported as not removed.
     */
    private Result unreachableDeauthorized(AuthorizationRequest request, int attempt, boolean retryable,
            String message) {
        List<ResourceAction> resources = new java.util.ArrayList<>(
                Reserved.each(Action.unreachable, null));
        resources.add(storedCredentialRemoved(request));
        return new Result.Deauthorized(request.requestId(), request.clusterId(), region(request), Result.now(), attempt,
                resources, false, retryable, message);
    }

    private ResourceAction storedCredentialRemoved(AuthorizationRequest request) {
        return credentials.reference(request.clusterId())
                .report(credentials.delete(request.clusterId()) ? Action.deleted : Action.absent);
    }

    /**
     * Runs attempts until one succeeds, a failure is permanent, the attempts are used up, or the request's deadline
     * passes. The deadline bounds the whole request, whatever a step does: a watchdog interrupts the thread when it
     * passes, and every blocking wait gives up when interrupted.
     */
    private Result withRetries(AuthorizationRequest request, Attempt step) {
        ChangeLog changes = new ChangeLog();
        long deadline = System.nanoTime() + this.deadline.toNanos();
        Watchdog watchdog = Watchdog.start(this.deadline);
        try (watchdog) {
            for (int attempt = 1;; attempt++) {
                try {
                    return step.run(request, attempt, changes);
                } catch (PrivateAccessDisabledException e) {
                    LOG.debugf("request %s: private access of %s is off: %s", request.requestId(),
                            request.clusterId(), e.getMessage());
                    return new Result.PrivateAccessDisabled(request.requestId(), request.clusterId(), region(request),
                            Result.now(), attempt, true, Result.PrivateAccessDisabled.MESSAGE);
                } catch (AuthorizationException e) {
                    if (watchdog.expired()) {
                        return pastDeadline(request, attempt, e);
                    }
                    Duration wait = pause(attempt, e.retryAfter().orElse(Duration.ZERO));
                    boolean inTime = System.nanoTime() + wait.plus(SHORTEST_ATTEMPT).toNanos() < deadline;
                    if (e.isTransient() && attempt < backoff.maxAttempts() && inTime) {
                        metrics.retry(e.code().name());
                        LOG.infof("request %s: attempt %d for %s failed (%s: %s); retrying", request.requestId(),
                                attempt, request.clusterId(), e.code(), e.getMessage());
                        if (!sleep(wait)) {
                            if (watchdog.expired()) {
                                return pastDeadline(request, attempt, e);
                            }
                            // Stopping: leave the record unacknowledged for redelivery, not a false failure.
                            throw new IllegalStateException("interrupted between attempts");
                        }
                        continue;
                    }
                    if (drain.tearingDown()) {
                        // The failure may be the teardown's doing (a closed client): redeliver rather than publish it.
                        throw e;
                    }
                    return new Result.Failed(request.requestId(), request.clusterId(), region(request), attempt,
                            e.code(), e.getMessage());
                } catch (RuntimeException e) {
                    if (watchdog.expired()) {
                        return pastDeadline(request, attempt, null);
                    }
                    if (drain.draining()) {
                        // Stopping pulls things from under the attempt: no false INTERNAL, redeliver it instead.
                        throw e;
                    }
                    // Unknown exceptions may quote what they saw: log the type only, never the message.
                    LOG.errorf("request %s: unexpected %s while handling %s", request.requestId(),
                            e.getClass().getName(), request.clusterId());
                    return new Result.Failed(request.requestId(), request.clusterId(), region(request), attempt,
                            FailureCode.INTERNAL, "unexpected internal error (" + e.getClass().getSimpleName() + ")");
                }
            }
        }
    }

    /**
     * The deadline cut the request short: retryable, as {@code TOKEN_NOT_ISSUED} if it was waiting for the token,
     * else as an API server that did not answer in time.
     */
    private Result pastDeadline(AuthorizationRequest request, int attempt, AuthorizationException cut) {
        FailureCode code = cut != null && cut.code() == FailureCode.TOKEN_NOT_ISSUED ? FailureCode.TOKEN_NOT_ISSUED
                : FailureCode.API_SERVER_UNREACHABLE;
        String what = code == FailureCode.TOKEN_NOT_ISSUED ? "while waiting for the token"
                : "while waiting for an answer (the cluster's API server, the cluster directory or the gateway's own "
                        + "cluster)";
        LOG.infof("request %s: deadline of %ss passed for %s in attempt %d", request.requestId(),
                deadline.toSeconds(), request.clusterId(), attempt);
        return new Result.Failed(request.requestId(), request.clusterId(), region(request), attempt, code,
                "the request's deadline (" + deadline.toSeconds() + "s) passed " + what);
    }

    private static String region(AuthorizationRequest request) {
        return request.region().orElse(null);
    }

    /** The backoff, or longer if the server asked for it (429/503 Retry-After), up to a bound. */
    private Duration pause(int attempt, Duration serverAsked) {
        Duration wait = backoff.after(attempt);
        if (serverAsked.compareTo(wait) > 0) {
            wait = serverAsked.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : serverAsked;
        }
        return wait;
    }

    /** @return false if interrupted (the deadline passed, or the worker is stopping) */
    private static boolean sleep(Duration wait) {
        try {
            Thread.sleep(wait.toMillis());
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}

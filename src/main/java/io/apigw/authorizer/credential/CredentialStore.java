package io.apigw.authorizer.credential;

import static io.apigw.authorizer.credential.StoredRecords.annotations;
import static io.apigw.authorizer.credential.StoredRecords.recordOf;
import static io.apigw.authorizer.credential.StoredRecords.revocation;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.marks.Marks;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.apigw.authorizer.timing.Watchdog;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.kubernetes.client.vertx.VertxHttpClientFactory;
import io.quarkus.runtime.Startup;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

/**
 * Keeps the gateway's credential for each authorized cluster as a Secret {@code apigw-cluster-<clusterId>} (keys
 * {@code server}, {@code ca.crt}, {@code token}) in the worker's own cluster. Writes only when something changed.
 */
@ApplicationScoped
// Made at start-up on the main thread: its Vert.x instance must not be made on one of Quarkus's contexts.
@Startup
public class CredentialStore {

    private static final Logger LOG = Logger.getLogger(CredentialStore.class);
    public static final String NAME_PREFIX = "apigw-cluster-";
    /** Credentials listed per page when a sweep reads the registry. */
    private static final long REGISTRY_PAGE = 500;

    /** The readiness probe's timeout (k8s/base/deployment.yaml): a slower answer is not ready anyway. */
    private static final Duration READINESS_LIMIT = Duration.ofSeconds(3);

    private final Vertx vertx;
    private final KubernetesClient ownCluster;
    private final String namespace;

    /**
     * The client is the worker's own, made from the same {@code quarkus.kubernetes-client.*} settings as Quarkus's
     * client, on a Vert.x instance of its own: an HTTP client that Vert.x makes while a call runs on one of Quarkus's
     * contexts (the readiness check's) is closed with that context early in a shutdown, under requests that are
     * still draining. This one is closed only after the drain.
     */
    public CredentialStore(Config ownClusterConfig, KubernetesSerialization serialization, AuthorizerConfig config) {
        this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1)
                .setInternalBlockingPoolSize(1));
        this.ownCluster = new KubernetesClientBuilder().withConfig(ownClusterConfig)
                .withHttpClientFactory(new VertxHttpClientFactory(vertx)).withKubernetesSerialization(serialization)
                .build();
        this.namespace = config.credentials().namespace();
    }

    @PreDestroy
    void close() {
        ownCluster.close();
        vertx.close();
    }

    /**
     * Stores the credential, in place: the gateway reads the same Secret before and after. Writes only when something
     * changed. The token has just been proven, so it is recorded as verified (refreshed hourly); the request's region
     * and appId are kept for the sweep.
     *
     * @param clusterUid the identity of the cluster the token is of; null keeps the one recorded, if any
     * @param pending a revocation to record; null keeps the one recorded, if any
     * @return where the credential is kept
     */
    public CredentialRef save(Registered where, String clusterUid, String server, String caPem, Token token,
            String tokenSecret, String tokenSecretUid, Revocation pending) {
        String name = reference(where.clusterId()).name();
        SecretWrite write = new SecretWrite(where, clusterUid, SecretWrite.data(server, caPem, token), tokenSecret,
                tokenSecretUid, pending);
        ownCluster("storing the credential", () -> {
            Secret existing = ownCluster.secrets().inNamespace(namespace).withName(name).get();
            if (existing == null) {
                return ownCluster.secrets().inNamespace(namespace).resource(write.created(namespace, name)).create();
            }
            // The read's resourceVersion goes with the update: a concurrent change is a conflict, not lost.
            return write.over(existing)
                    .map(changed -> ownCluster.secrets().inNamespace(namespace).resource(changed).update())
                    .orElse(existing);
        });
        return reference(where.clusterId());
    }

    /** Removes a recorded revocation once it is done, unless another one has been recorded meanwhile. */
    public void revoked(String clusterId, Revocation done) {
        ownCluster("recording a revocation", () -> {
            Secret s = ownCluster.secrets().inNamespace(namespace).withName(NAME_PREFIX + clusterId).get();
            if (s == null || revocation(s).filter(done::equals).isEmpty()) {
                return s;
            }
            Map<String, String> annotations = new LinkedHashMap<>(annotations(s));
            annotations.remove(Marks.REVOKE_TOKEN_SECRET);
            annotations.remove(Marks.REVOKE_TOKEN_SECRET_UID);
            annotations.remove(Marks.REVOKE_AFTER);
            return ownCluster.secrets().inNamespace(namespace).resource(new SecretBuilder(s).editMetadata()
                    .withAnnotations(annotations).endMetadata().build()).update();
        });
    }

    /** The stored credential of a cluster with what is recorded beside it, if there is one. */
    public Optional<CredentialRecord> record(String clusterId) {
        Secret s = ownCluster("reading the stored credential",
                () -> ownCluster.secrets().inNamespace(namespace).withName(NAME_PREFIX + clusterId).get());
        return recordOf(s);
    }

    /**
     * Marks the stored credential as being deauthorized, under the version read (a concurrent change is a conflict,
     * retried by the request). Its version changes, so a repair judged before no longer matches it.
     */
    public void markDeauthorizing(String clusterId, String requestId) {
        ownCluster("marking the stored credential as deauthorized", () -> {
            Secret s = ownCluster.secrets().inNamespace(namespace).withName(NAME_PREFIX + clusterId).get();
            if (s == null || requestId.equals(annotations(s).get(Marks.DEAUTHORIZING))) {
                return s;
            }
            Map<String, String> annotations = new LinkedHashMap<>(annotations(s));
            annotations.put(Marks.DEAUTHORIZING, requestId);
            return ownCluster.secrets().inNamespace(namespace).resource(new SecretBuilder(s).editMetadata()
                    .withAnnotations(annotations).endMetadata().build()).update();
        });
    }

    /**
     * A stored credential as the registry lists it: what a sweep needs to check it, its policy version, what the last
     * sweep found, and the version of the Secret (what a conditional authorize names).
     */
    public record Registered(String clusterId, Optional<String> region, Optional<String> appId,
            Optional<String> ownerUin, int policyVersion, Optional<String> sweepId, Optional<String> sweepState,
            String version) {

        /** Where a credential is about to be stored from a request, with the policy its ClusterRole now has. */
        public static Registered of(String clusterId, Optional<String> region, Optional<String> appId,
                Optional<String> ownerUin, int policyVersion) {
            return new Registered(clusterId, region, appId, ownerUin, policyVersion, Optional.empty(),
                    Optional.empty(), null);
        }
    }

    /** Every stored credential (the sweep's registry), read in pages; none that a deauthorize has begun to remove. */
    public List<Registered> registry() {
        List<Registered> all = new ArrayList<>();
        String next = null;
        do {
            String page = next;
            var list = ownCluster("listing the stored credentials", () -> ownCluster.secrets().inNamespace(namespace)
                    .withLabel(Marks.CLUSTER_ID).list(new ListOptionsBuilder()
                            .withLimit(REGISTRY_PAGE).withContinue(page).build()));
            for (Secret s : list.getItems()) {
                String clusterId = s.getMetadata().getLabels().get(Marks.CLUSTER_ID);
                // One a deauthorize has begun to remove is no longer the fleet's: no sweep checks, repairs or moves it.
                if (s.getMetadata().getName().equals(NAME_PREFIX + clusterId)
                        && !annotations(s).containsKey(Marks.DEAUTHORIZING)) {
                    all.add(StoredRecords.registered(clusterId, s));
                }
            }
            next = list.getMetadata() == null ? null : list.getMetadata().getContinue();
        } while (next != null && !next.isEmpty());
        return all;
    }

    /**
     * Records a sweep's verdict on the credential it judged: only if that credential is still stored (a change of
     * annotations alone, such as a completed revocation, does not matter; a new token or a deletion does).
     *
     * @return the credential's version after the write; empty if the credential has changed or gone since
     */
    public Optional<String> recordSweep(String clusterId, CredentialRecord judged, String sweepId, String state,
            boolean usable) {
        return ownCluster("recording a sweep's verdict", () -> {
            Secret s = ownCluster.secrets().inNamespace(namespace).withName(NAME_PREFIX + clusterId).get();
            Optional<CredentialRecord> now = recordOf(s);
            if (now.isEmpty() || !now.get().credential().equals(judged.credential())
                    || !Objects.equals(now.get().tokenSecretUid(), judged.tokenSecretUid())) {
                return Optional.<String>empty();
            }
            Map<String, String> annotations = new LinkedHashMap<>(annotations(s));
            String recorded = annotations.get(Marks.SWEEP_ID);
            if (recorded != null && recorded.compareTo(sweepId) > 0) {
                // A late check of an earlier sweep never overwrites a later sweep's verdict (ids sort by time).
                return Optional.<String>empty();
            }
            String at = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
            annotations.put(Marks.SWEEP_ID, sweepId);
            annotations.put(Marks.SWEEP_STATE, state);
            annotations.put(Marks.CHECKED_AT, at);
            if (usable) {
                annotations.put(Marks.VERIFIED_AT, at);
            }
            try {
                // Locked to the version just read: a concurrent authorize wins, and this verdict is dropped.
                Secret written = ownCluster.secrets().inNamespace(namespace).resource(new SecretBuilder(s)
                        .editMetadata().withAnnotations(annotations).endMetadata().build()).update();
                return Optional.of(written.getMetadata().getResourceVersion());
            } catch (KubernetesClientException e) {
                if (e.getCode() == 409 || e.getCode() == 404) {
                    return Optional.<String>empty();
                }
                throw e;
            }
        });
    }

    /** @return whether there was a credential to delete */
    public boolean delete(String clusterId) {
        return !ownCluster("deleting the stored credential",
                () -> ownCluster.secrets().inNamespace(namespace).withName(NAME_PREFIX + clusterId).delete()).isEmpty();
    }

    public CredentialRef reference(String clusterId) {
        return new CredentialRef(namespace, NAME_PREFIX + clusterId);
    }

    /**
     * One piece of work on the worker's own cluster, bounded as a whole by its client's request timeout (a stalled
     * answer must not hold the request past its deadline), with one sorting of failures: a missing namespace is
     * permanent; conflicts (a concurrent writer), throttling, outages and time-outs are worth another attempt.
     */
    private <T> T ownCluster(String during, Supplier<T> call) {
        return ownCluster(during, Watchdog.forClient(ownCluster.getConfiguration().getRequestTimeout()), call);
    }

    private <T> T ownCluster(String during, Duration bound, Supplier<T> call) {
        Watchdog watchdog = Watchdog.start(bound);
        try (watchdog) {
            return call.get();
        } catch (KubernetesClientException e) {
            int status = watchdog.expired() ? 0 : e.getCode();
            LOG.warnf("credential store: %s failed with HTTP %d%s", during, status,
                    watchdog.expired() ? " (timed out)" : "");
            if (status == 404) {
                throw new AuthorizationException(FailureCode.INTERNAL, "the credential namespace " + namespace
                        + " does not exist in the gateway's cluster", false);
            }
            throw new AuthorizationException(FailureCode.INTERNAL,
                    "the gateway's cluster did not answer while " + during + " ("
                            + (watchdog.expired() ? "timed out" : "HTTP " + status) + ")",
                    status <= 0 || status == 409 || status == 429 || status >= 500);
        }
    }

    /** Whether the worker's own cluster answers for the credential namespace; used by the readiness check. */
    public boolean reachable() {
        try {
            // Bounded as a whole like every call here, and by the readiness probe's own timeout: an unbounded list
            // held /q/health and a SIGTERM for minutes when the own cluster stopped answering (issue 26), and a
            // check still running at shutdown holds the exit for as long as it runs.
            ownCluster("checking readiness", READINESS_LIMIT, () -> ownCluster.secrets().inNamespace(namespace)
                    .withLabel(Marks.CLUSTER_ID).list(new ListOptionsBuilder()
                            .withLimit(1L).build()));
            return true;
        } catch (AuthorizationException | KubernetesClientException e) {
            return false;
        }
    }

    public String namespace() {
        return namespace;
    }
}

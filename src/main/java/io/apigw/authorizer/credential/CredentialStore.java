package io.apigw.authorizer.credential;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.quarkus.runtime.Startup;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.apigw.authorizer.timing.Watchdog;
import io.apigw.authorizer.marks.Marks;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.kubernetes.client.vertx.VertxHttpClientFactory;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

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
    /** An unchanged credential's verified time is rewritten at most this often, so a repeat authorize writes nothing. */
    private static final Duration VERIFIED_AT_REFRESH = Duration.ofHours(1);
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
        String clusterId = where.clusterId();
        String name = reference(clusterId).name();
        Map<String, String> data = new LinkedHashMap<>();
        data.put("server", b64(server.getBytes(StandardCharsets.UTF_8)));
        data.put("ca.crt", b64(caPem.getBytes(StandardCharsets.UTF_8)));
        data.put("token", b64(token.bytes()));
        ownCluster("storing the credential", () -> {
            Secret existing = ownCluster.secrets().inNamespace(namespace).withName(name).get();
            Map<String, String> annotations = new LinkedHashMap<>(existing == null ? Map.of() : annotations(existing));
            boolean tokenChanged = existing == null || existing.getData() == null
                    || !data.get("token").equals(existing.getData().get("token"));
            annotations.put(Marks.TOKEN_SECRET, tokenSecret);
            putOrRemove(annotations, Marks.TOKEN_SECRET_UID, tokenSecretUid);
            if (tokenChanged || !annotations.containsKey(Marks.TOKEN_STORED_AT)) {
                annotations.put(Marks.TOKEN_STORED_AT, Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
            }
            annotations.remove(Marks.DEAUTHORIZING);
            where.region().ifPresent(r -> annotations.put(Marks.REGION, r));
            where.appId().ifPresent(a -> annotations.put(Marks.APP_ID, a));
            where.ownerUin().ifPresent(u -> annotations.put(Marks.OWNER_UIN, u));
            if (clusterUid != null) {
                annotations.put(Marks.CLUSTER_UID, clusterUid);
            }
            Instant verified = instant(annotations.get(Marks.VERIFIED_AT));
            if (tokenChanged || verified == null || verified.plus(VERIFIED_AT_REFRESH).isBefore(Instant.now())) {
                annotations.put(Marks.VERIFIED_AT, Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
            }
            if (pending != null) {
                annotations.put(Marks.REVOKE_TOKEN_SECRET, pending.tokenSecret());
                putOrRemove(annotations, Marks.REVOKE_TOKEN_SECRET_UID, pending.tokenSecretUid());
                annotations.put(Marks.REVOKE_AFTER, pending.after().toString());
            }
            Map<String, String> labels = new LinkedHashMap<>(
                    existing == null || existing.getMetadata().getLabels() == null ? Map.of()
                            : existing.getMetadata().getLabels());
            labels.put("app.kubernetes.io/managed-by", "apigw-tke-authorizer");
            labels.put(Marks.CLUSTER_ID, clusterId);
            labels.put(Marks.POLICY_VERSION, String.valueOf(where.policyVersion()));
            if (existing == null) {
                return ownCluster.secrets().inNamespace(namespace).resource(new SecretBuilder()
                        .withNewMetadata().withNamespace(namespace).withName(name)
                        .withLabels(labels)
                        .withAnnotations(annotations)
                        .endMetadata()
                        .withType("Opaque").withData(data).build()).create();
            }
            if (!data.equals(existing.getData()) || !annotations.equals(existing.getMetadata().getAnnotations())
                    || !labels.equals(existing.getMetadata().getLabels())) {
                // The read's resourceVersion goes with the update: a concurrent change is a conflict, not lost.
                return ownCluster.secrets().inNamespace(namespace).resource(new SecretBuilder(existing)
                        .editMetadata().withLabels(labels).withAnnotations(annotations).endMetadata()
                        .withData(data).withStringData(null).build()).update();
            }
            return existing;
        });
        return reference(clusterId);
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

    private static Optional<CredentialRecord> recordOf(Secret s) {
        if (s == null || s.getData() == null || s.getData().get("token") == null) {
            return Optional.empty();
        }
        Base64.Decoder d = Base64.getDecoder();
        Map<String, String> a = annotations(s);
        return Optional.of(new CredentialRecord(new StoredCredential(
                new String(d.decode(s.getData().getOrDefault("server", "")), StandardCharsets.UTF_8),
                new String(d.decode(s.getData().getOrDefault("ca.crt", "")), StandardCharsets.UTF_8),
                Token.of(d.decode(s.getData().get("token")))), a.get(Marks.TOKEN_SECRET),
                a.get(Marks.TOKEN_SECRET_UID), instant(a.get(Marks.TOKEN_STORED_AT)), revocation(s),
                s.getMetadata().getResourceVersion(), policyVersion(s), a.get(Marks.CLUSTER_UID),
                new Tenant(Optional.ofNullable(a.get(Marks.APP_ID)),
                        Optional.ofNullable(a.get(Marks.OWNER_UIN))), a.containsKey(Marks.DEAUTHORIZING)));
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

    /** The recorded policy version; 1 where none is recorded (stored before v1.4, when v1 was the only one). */
    private static int policyVersion(Secret s) {
        String v = s.getMetadata().getLabels() == null ? null : s.getMetadata().getLabels().get(Marks.POLICY_VERSION);
        try {
            return v == null ? 1 : Integer.parseInt(v);
        } catch (NumberFormatException e) {
            return 0; // garbled: no known policy, so the cluster's rules are never changed on its account
        }
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
                Map<String, String> a = annotations(s);
                String clusterId = s.getMetadata().getLabels().get(Marks.CLUSTER_ID);
                // One a deauthorize has begun to remove is no longer the fleet's: no sweep checks, repairs or moves it.
                if (s.getMetadata().getName().equals(NAME_PREFIX + clusterId)
                        && !a.containsKey(Marks.DEAUTHORIZING)) {
                    all.add(new Registered(clusterId, Optional.ofNullable(a.get(Marks.REGION)),
                            Optional.ofNullable(a.get(Marks.APP_ID)),
                            Optional.ofNullable(a.get(Marks.OWNER_UIN)), policyVersion(s),
                            Optional.ofNullable(a.get(Marks.SWEEP_ID)),
                            Optional.ofNullable(a.get(Marks.SWEEP_STATE)), s.getMetadata().getResourceVersion()));
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

    private static Map<String, String> annotations(Secret s) {
        return s.getMetadata().getAnnotations() == null ? Map.of() : s.getMetadata().getAnnotations();
    }

    private static Optional<Revocation> revocation(Secret s) {
        Map<String, String> a = annotations(s);
        Instant after = instant(a.get(Marks.REVOKE_AFTER));
        String name = a.get(Marks.REVOKE_TOKEN_SECRET);
        // A garbled record is not acted on: the old Secret stays rather than a wrong one going.
        return name == null || after == null ? Optional.empty()
                : Optional.of(new Revocation(name, a.get(Marks.REVOKE_TOKEN_SECRET_UID), after));
    }

    private static Instant instant(String s) {
        try {
            return s == null ? null : Instant.parse(s);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    private static void putOrRemove(Map<String, String> m, String key, String value) {
        if (value == null) {
            m.remove(key);
        } else {
            m.put(key, value);
        }
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

    private static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }
}

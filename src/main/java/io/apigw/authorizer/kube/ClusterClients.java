package io.apigw.authorizer.kube;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import javax.net.ssl.KeyManager;
import javax.net.ssl.TrustManager;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.directory.ClusterAccess;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.apigw.authorizer.credential.StoredCredential;
import io.apigw.authorizer.timing.DaemonThreads;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.kubernetes.client.vertx.VertxHttpClientFactory;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;

/**
 * Clients to target clusters, kept for reuse: one per cluster and credential, so its connection pool, TLS context and
 * Jackson caches serve every later request for that cluster (a client per request cost half the worker's CPU, see
 * BENCHMARKS.md). All run on the application's Vert.x and share one serialization and task executor. Every call is
 * bounded and the client's own retries are off: the worker retries whole attempts and counts them.
 *
 * <p>
 * A caller holds a {@link Lease} for the length of one attempt. A client that leaves the cache (least recently used
 * beyond {@code authorizer.kube.client-cache-size}, or idle past {@code client-idle-timeout}) is closed once its last
 * lease is returned; a changed credential or CA is a different client, so rotation needs no invalidation.
 */
@ApplicationScoped
public class ClusterClients {

    private static final Logger LOG = Logger.getLogger(ClusterClients.class);

    private final Vertx vertx;
    private final VertxHttpClientFactory httpClients;
    private final AuthorizerConfig.Kube limits;
    private final int maxClients;
    private final long idleNanos;
    private final long sweeper;
    private final MeterRegistry registry;
    private final Gauge gauge;

    /** One Jackson mapper for all target clients: a mapper per client rebuilt its (de)serializers every request. */
    private final KubernetesSerialization serialization;
    private final ExecutorService tasks = Executors.newCachedThreadPool(DaemonThreads.named("kube-client-tasks"));

    /** Access-ordered, so the eldest entries are the least recently used; guarded by itself, as is {@link #closed}. */
    private final Map<String, Kept> kept = new LinkedHashMap<>(64, 0.75f, true);
    private boolean closed;

    public ClusterClients(Vertx vertx, AuthorizerConfig config, KubernetesSerialization serialization,
            MeterRegistry registry) {
        this.vertx = vertx;
        this.httpClients = new VertxHttpClientFactory(vertx);
        this.limits = config.kube();
        this.maxClients = Math.max(1, limits.clientCacheSize());
        this.idleNanos = limits.clientIdleTimeout().toNanos();
        this.serialization = serialization;
        // Idle clients are closed even when no request comes: they hold connections and credentials.
        long period = Math.max(10, limits.clientIdleTimeout().toMillis() / 2);
        this.sweeper = vertx.setPeriodic(period, id -> tasks.execute(this::closeIdle));
        this.registry = registry;
        this.gauge = Gauge.builder("authorizer.kube.clients", this, ClusterClients::size)
                .description("Clients to target clusters kept for reuse").register(registry);
    }

    /** The admin connection to a cluster, as the directory resolved it. */
    public Lease open(ClusterAccess access) {
        return lease("admin", access.clusterId(), access.clientConfig(), access.caPem(), !access.mintedPerLookup());
    }

    /** A client that acts as the gateway would, with the stored credential. */
    public Lease openAs(String clusterId, StoredCredential credential) {
        ConfigBuilder config = new ConfigBuilder(Config.empty()).withMasterUrl(credential.server())
                .withOauthToken(credential.token().reveal());
        if (!credential.caPem().isBlank()) {
            config.withCaCertData(Base64.getEncoder().encodeToString(credential.caPem().getBytes(StandardCharsets.UTF_8)));
        }
        return lease("gateway", clusterId, config.build(), credential.caPem(), true);
    }

    /** One attempt's use of a kept client; closing it returns the client (it stays open for the next attempt). */
    public final class Lease implements AutoCloseable {
        private final Kept kept;
        private boolean returned;

        private Lease(Kept kept) {
            this.kept = kept;
        }

        public KubernetesClient client() {
            return kept.client;
        }

        @Override
        public void close() {
            if (!returned) {
                returned = true;
                release(kept);
            }
        }
    }

    private static final class Kept {
        final KubernetesClient client;
        int leases;
        long lastUsed;
        /** Out of the cache: closed when its last lease is returned. */
        boolean retired;

        Kept(KubernetesClient client) {
            this.client = client;
        }
    }

    private Lease lease(String role, String clusterId, Config config, String caPem, boolean keep) {
        if (!keep) {
            return once(config, caPem);
        }
        String key = ClientKey.of(role, clusterId, config, caPem);
        synchronized (kept) {
            if (closed) {
                throw stopping();
            }
            Kept found = kept.get(key);
            if (found != null) {
                return take(found);
            }
        }
        // Built outside the lock: a TLS context takes a while, and other clusters' requests must not wait for it.
        return keep(key, new Kept(build(config, caPem)));
    }

    /** Keeps a client just built, unless another request kept one for the key meanwhile (then that one serves). */
    private Lease keep(String key, Kept fresh) {
        List<Kept> toClose = new ArrayList<>();
        Lease lease;
        synchronized (kept) {
            Kept raced = kept.get(key);
            if (closed) {
                toClose.add(fresh);
                lease = null;
            } else if (raced != null) {
                toClose.add(fresh);
                lease = take(raced);
            } else {
                kept.put(key, fresh);
                lease = take(fresh);
                // The least recently used beyond the bound leave, eldest first; one still in use closes on return.
                Iterator<Kept> eldest = kept.values().iterator();
                while (kept.size() > maxClients) {
                    retire(eldest.next(), toClose);
                    eldest.remove();
                }
            }
        }
        toClose.forEach(ClusterClients::closeQuietly);
        if (lease == null) {
            throw stopping();
        }
        return lease;
    }

    /** A credential minted for this lookup may expire: this client serves one attempt only. */
    private Lease once(Config config, String caPem) {
        Kept once = new Kept(build(config, caPem));
        once.retired = true;
        synchronized (kept) {
            if (closed) {
                closeQuietly(once);
                throw stopping();
            }
            return take(once);
        }
    }

    /** Under the lock. */
    private Lease take(Kept k) {
        k.leases++;
        k.lastUsed = System.nanoTime();
        return new Lease(k);
    }

    /** Under the lock. */
    private static void retire(Kept k, List<Kept> toClose) {
        k.retired = true;
        if (k.leases == 0) {
            toClose.add(k);
        }
    }

    private void release(Kept k) {
        boolean close;
        synchronized (kept) {
            k.leases--;
            k.lastUsed = System.nanoTime();
            close = k.retired && k.leases == 0;
        }
        if (close) {
            closeQuietly(k);
        }
    }

    private void closeIdle() {
        List<Kept> toClose = new ArrayList<>();
        synchronized (kept) {
            long now = System.nanoTime();
            Iterator<Kept> all = kept.values().iterator();
            while (all.hasNext()) {
                Kept k = all.next();
                if (k.leases == 0 && now - k.lastUsed > idleNanos) {
                    retire(k, toClose);
                    all.remove();
                }
            }
        }
        toClose.forEach(ClusterClients::closeQuietly);
    }

    /** A failure to close one cluster's client must not fail the request that happened to return the last lease. */
    private static void closeQuietly(Kept k) {
        try {
            k.client.close();
        } catch (RuntimeException e) {
            LOG.debugf("closing a client to a target cluster failed: %s", e.getClass().getName());
        }
    }

    private static IllegalStateException stopping() {
        return new IllegalStateException("the worker is stopping; no new client to a target cluster");
    }

    private int size() {
        synchronized (kept) {
            return kept.size();
        }
    }

    /** Closes what is not in use; what is still leased closes when its attempt returns it. */
    @PreDestroy
    void closeAll() {
        vertx.cancelTimer(sweeper);
        // A registry that outlives this bean (a restarted application) must not keep a gauge of a dead instance.
        registry.remove(gauge);
        List<Kept> toClose = new ArrayList<>();
        synchronized (kept) {
            closed = true;
            kept.values().forEach(k -> retire(k, toClose));
            kept.clear();
        }
        toClose.forEach(ClusterClients::closeQuietly);
        // The task pool stays up (its threads are daemons and end when idle): clients still leased deliver their
        // watch events through it until they are returned.
    }

    private KubernetesClient build(Config config, String caPem) {
        if (config.isTrustCerts() || config.isDisableHostnameVerification()) {
            // Whatever the directory: fabric8 would trust every certificate (or any host name) with these.
            throw ClusterAccess.tlsNotVerified("the cluster's connection settings skip TLS verification");
        }
        config.setConnectionTimeout((int) limits.connectTimeout().toMillis());
        config.setRequestTimeout((int) limits.requestTimeout().toMillis());
        config.setRequestRetryBackoffLimit(0);
        config.setWatchReconnectLimit(0);
        KubernetesClientBuilder builder = new KubernetesClientBuilder().withConfig(config)
                .withHttpClientFactory(httpClients).withKubernetesSerialization(serialization).withTaskExecutor(tasks);
        // Without a CA, fabric8 verifies against the JVM's default trust store (and Vert.x checks the host name).
        if (!caPem.isBlank()) {
            // fabric8 adds the cluster CA to the JVM's default trust store; a cluster's API server must present a
            // certificate of its own CA and of nothing else.
            TrustManager[] pinned = ClientTls.trustOnly(caPem);
            KeyManager[] clientCertificate = ClientTls.keyManagers(config);
            builder.withHttpClientBuilderConsumer(b -> b.sslContext(clientCertificate, pinned));
        }
        return builder.build();
    }
}

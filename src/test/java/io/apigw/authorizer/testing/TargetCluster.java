package io.apigw.authorizer.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.VersionInfo;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.vertx.VertxHttpClientFactory;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.HashSet;
import java.util.Objects;

/**
 * A target cluster for fast tests: a fabric8 mock API server (CRUD plus per-test expectations), listed in the test
 * kubeconfig under its cluster id, with an optional stand-in for the token controller. The mock has none of its own.
 */
public final class TargetCluster implements AutoCloseable {

    public enum TokenController {
        /** Before 1.24: creates a token Secret for every service account and fills it. */
        AUTO_CREATE,
        /** 1.24 and later: only fills token Secrets that someone else created. */
        FILL_ONLY,
        /** No controller at all: nothing is ever filled. */
        NONE
    }

    private static final Path KUBECONFIG = createKubeconfig();
    private static final Map<String, String> SERVERS = new LinkedHashMap<>();
    /** {@code certificate-authority-data} (base64 PEM) of entries made by {@link #registerServer(String, String)}. */
    private static final Map<String, String> CA_DATA = new HashMap<>();
    private static final Set<String> INSECURE = new HashSet<>();
    private static final Map<String, String> ADMIN_TOKENS = new HashMap<>();
    /** Every token any stand-in controller ever issued, so tests can prove none of them leaks. */
    public static final List<String> ISSUED_TOKENS = new CopyOnWriteArrayList<>();

    public final String clusterId;
    public final KubernetesMockServer server;
    public final NamespacedKubernetesClient client;
    private final ScheduledExecutorService controller;

    /** What the stand-in authorizer tells the worker it may do: everything, as for a cluster admin. */
    public static final SelfSubjectRulesReview CLUSTER_ADMIN = new SelfSubjectRulesReviewBuilder().withNewStatus()
            .withIncomplete(false).addNewResourceRule().withVerbs("*").withApiGroups("*").withResources("*")
            .endResourceRule().endStatus().build();

    private TargetCluster(String clusterId, String gitVersion, TokenController tokens, SelfSubjectRulesReview rights,
            Duration roundTrip) {
        this(clusterId, gitVersion, tokens, rights, roundTrip, null, false);
    }

    /** {@code tokenDelay == null}: the polling stand-in controller and a delay on every answer (the original mode). */
    private TargetCluster(String clusterId, String gitVersion, TokenController tokens, SelfSubjectRulesReview rights,
            Duration roundTrip, Duration tokenDelay, boolean tls) {
        this.clusterId = clusterId;
        Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
        String[] parts = gitVersion.substring(1).split("\\.");
        this.server = new KubernetesMockServer(new Context(), new MockWebServer(), responses,
                new Delayed(new KubernetesMixedDispatcher(responses), roundTrip, tokenDelay != null), tls,
                new VersionInfo.Builder().withMajor(parts[0]).withMinor(parts[1]).withGitVersion(gitVersion).build());
        server.init();
        // The mock has no authorizer: answer the worker's rights review as the real one would.
        server.expect().post().withPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
                .andReturn(200, rights).always();
        // Its bindings are all cluster-wide, so the cluster-wide answer is the rules review's: where that one denies,
        // the worker asks no further; where it allows (or cannot tell), so does this one.
        server.expect().post().withPath("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
                .andReturn(201, new SelfSubjectAccessReviewBuilder().withNewStatus().withAllowed(true).endStatus()
                        .build())
                .always();
        this.client = tokenDelay == null ? server.createClient() : controlPlaneClient();
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("kube-system").endMetadata()
                .build()).create();
        if (tokens == TokenController.NONE) {
            controller = null;
        } else if (tokenDelay == null) {
            controller = Executors.newSingleThreadScheduledExecutor();
            controller.scheduleWithFixedDelay(() -> playTokenController(tokens), 20, 20, TimeUnit.MILLISECONDS);
        } else {
            controller = null;
            startEventDrivenTokenController(tokens, tokenDelay);
        }
        if (tls) {
            try {
                String ca = Files.readString(Path.of(server.getSelfSignedCertificate().certificatePath()));
                synchronized (TargetCluster.class) {
                    CA_DATA.put(clusterId, b64(ca));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        register(clusterId, server.url("/").replaceAll("/$", ""));
    }

    public static TargetCluster start(String gitVersion, TokenController tokens) {
        return start(gitVersion, tokens, CLUSTER_ADMIN);
    }

    public static TargetCluster start(String gitVersion, TokenController tokens, SelfSubjectRulesReview rights) {
        return start(gitVersion, tokens, rights, Duration.ZERO);
    }

    /** A cluster whose every answer takes {@code roundTrip} (without holding the server's event loop). */
    public static TargetCluster start(String gitVersion, TokenController tokens, SelfSubjectRulesReview rights,
            Duration roundTrip) {
        return new TargetCluster("cls-" + UUID.randomUUID().toString().substring(0, 8), gitVersion, tokens, rights,
                roundTrip);
    }

    /**
     * A cluster for load tests and benchmarks. Every request from outside (the worker, kubectl through
     * {@link #kubeconfig()}) crosses the simulated network: each answer takes {@code roundTrip}. The control plane's own
     * calls (the stand-in token controller, this object's {@link #client}) are local and not delayed. The stand-in
     * token controller reacts to watch events, as the real one does, instead of polling, and fills each token Secret
     * {@code tokenDelay} after it has seen it appear. Watches are not delayed.
     */
    public static TargetCluster start(String gitVersion, TokenController tokens, SelfSubjectRulesReview rights,
            Duration roundTrip, Duration tokenDelay) {
        return start(gitVersion, tokens, rights, roundTrip, tokenDelay, false);
    }

    /** As above; {@code tls}: the API server speaks HTTPS with a self-signed CA, which its kubeconfig entry names. */
    public static TargetCluster start(String gitVersion, TokenController tokens, SelfSubjectRulesReview rights,
            Duration roundTrip, Duration tokenDelay, boolean tls) {
        return new TargetCluster("cls-" + UUID.randomUUID().toString().substring(0, 8), gitVersion, tokens, rights,
                roundTrip, Objects.requireNonNull(tokenDelay, "tokenDelay"), tls);
    }

    /** Arrival times (nanoTime) of the worker's requests, to tell whether two authorizations overlapped. */
    public List<Long> workerArrivals() {
        return List.copyOf(arrivals);
    }

    private final List<Long> arrivals = new CopyOnWriteArrayList<>();
    private final Set<String> rejected = ConcurrentHashMap.newKeySet();

    /** From now on the API server answers 401 to this bearer token, as a real one does to a revoked token. */
    public void rejectToken(String token) {
        rejected.add(token);
    }

    /** One request the worker made: when it arrived (nanoTime), its method and its path with the query. */
    public record WorkerRequest(long nanos, String method, String path) {
    }

    private final List<WorkerRequest> workerRequests = new CopyOnWriteArrayList<>();

    /** Every request made with the cluster's admin credential, in arrival order (e.g. to count sequential calls). */
    public List<WorkerRequest> workerRequests() {
        return List.copyOf(workerRequests);
    }
    private final List<Instant> versionReads = new CopyOnWriteArrayList<>();

    /** When the worker asked for /version: the first read of each of its attempts. */
    public List<Instant> workerVersionReads() {
        return List.copyOf(versionReads);
    }

    private final class Delayed extends Dispatcher {
        private final Dispatcher delegate;
        private final Duration roundTrip;
        /** Leave the control plane's own calls undelayed (they do not cross the network). */
        private final boolean exemptControlPlane;

        Delayed(Dispatcher delegate, Duration roundTrip, boolean exemptControlPlane) {
            this.delegate = delegate;
            this.roundTrip = roundTrip;
            this.exemptControlPlane = exemptControlPlane;
        }

        @Override
        public MockResponse dispatch(RecordedRequest request) {
            String auth = request.getHeader("Authorization");
            if (auth != null && rejected.contains(auth.replaceFirst("(?i)^bearer\\s+", ""))) {
                return new MockResponse().setResponseCode(401).setHeader("Content-Type", "application/json")
                        .setBody("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                                + "\"reason\":\"Unauthorized\",\"code\":401}");
            }
            if (("Bearer admin-" + clusterId).equals(auth)) {
                arrivals.add(System.nanoTime());
                workerRequests.add(new WorkerRequest(System.nanoTime(), request.getMethod(), request.getPath()));
                if ("/version".equals(request.getPath())) {
                    versionReads.add(Instant.now());
                }
            }
            MockResponse response = delegate.dispatch(request);
            boolean local = exemptControlPlane && request.getHeader(CONTROL_PLANE_HEADER) != null;
            if (exemptControlPlane && !local && response.getWebSocketListener() == null && response.code() >= 400
                    && (response.getBody() == null || response.getBody().size() == 0)) {
                // The mock answers errors such as a 404 with an empty body, and sends those at once, delay or not; a
                // real API server sends a Status, which takes the round trip like any answer.
                response.setHeader("Content-Type", "application/json").setBody("{\"kind\":\"Status\",\"apiVersion\":"
                        + "\"v1\",\"metadata\":{},\"status\":\"Failure\",\"code\":" + response.code() + "}");
            }
            return roundTrip.isZero() || local ? response : response.setBodyDelay(roundTrip);
        }

        @Override
        public void shutdown() {
            delegate.shutdown();
        }
    }

    /** A kubeconfig entry with no server: the directory's way of saying private access is off. */
    public static String registerWithoutPrivateEndpoint() {
        String id = "cls-" + UUID.randomUUID().toString().substring(0, 8);
        register(id, "");
        return id;
    }

    /** Turns an entry's private endpoint off (no server), as when a user disables private access. */
    public static void disablePrivateAccess(String clusterId) {
        register(clusterId, "");
    }

    /** Removes an entry, as when the cluster is deleted. */
    public static synchronized void forget(String clusterId) {
        SERVERS.remove(clusterId);
        writeKubeconfig();
    }

    /** A kubeconfig entry whose API server never answers. */
    public static String registerUnreachable() {
        String id = "cls-" + UUID.randomUUID().toString().substring(0, 8);
        register(id, "https://127.0.0.1:" + FreePort.closed());
        return id;
    }

    /** A kubeconfig entry for any API server URL (a fault-injecting socket, say), with the system's CAs. */
    public static String registerServer(String server) {
        return registerServer(server, null);
    }

    /**
     * A kubeconfig entry for any API server URL whose {@code certificate-authority-data} is {@code caPem} (none when
     * null). Like every entry, its admin credential is the token {@code admin-<clusterId>}.
     */
    public static String registerServer(String server, String caPem) {
        return registerServer(server, caPem, false);
    }

    /** As {@link #registerServer(String, String)}, with {@code insecure-skip-tls-verify: true} on the entry. */
    public static String registerInsecure(String server, String caPem) {
        return registerServer(server, caPem, true);
    }

    private static synchronized String registerServer(String server, String caPem, boolean insecure) {
        String id = "cls-" + UUID.randomUUID().toString().substring(0, 8);
        if (insecure) {
            INSECURE.add(id);
        }
        if (caPem != null) {
            CA_DATA.put(id, b64(caPem));
        }
        register(id, server);
        return id;
    }

    /**
     * One more kubeconfig entry per element of {@code servers} (an API server URL each, which may repeat), written to
     * the file once: a directory of thousands of cluster ids served by fewer API servers. The ids are
     * {@code cls-a<n>}, numbered from 0.
     */
    public static synchronized List<String> registerAliases(List<String> servers) {
        List<String> ids = new ArrayList<>(servers.size());
        for (String server : servers) {
            String id = "cls-a" + ids.size();
            SERVERS.put(id, server);
            ids.add(id);
        }
        writeKubeconfig();
        return ids;
    }

    /** This cluster's API server URL, as the kubeconfig names it. */
    public String url() {
        return SERVERS.get(clusterId);
    }

    /** Points an entry at another address of the same server, as when the cloud moves a private endpoint. */
    public static synchronized void moveEndpoint(String clusterId, String server) {
        register(clusterId, server);
    }

    /** Points an entry at another CA, as when ops correct or rotate it in the directory. */
    public static synchronized void changeCa(String clusterId, String caPem) {
        CA_DATA.put(clusterId, b64(caPem));
        register(clusterId, SERVERS.get(clusterId));
    }

    /** Gives an entry another admin token, as when the cluster's admin credential is rotated in the directory. */
    public static synchronized void rotateAdminToken(String clusterId, String token) {
        ADMIN_TOKENS.put(clusterId, token);
        register(clusterId, SERVERS.get(clusterId));
    }

    public static Path kubeconfig() {
        return KUBECONFIG;
    }

    /** Requests the server received since the last call (drains the recording). */
    public List<RecordedRequest> takeRequests() throws InterruptedException {
        List<RecordedRequest> out = new ArrayList<>();
        RecordedRequest r;
        while ((r = server.takeRequest(10, TimeUnit.MILLISECONDS)) != null) {
            out.add(r);
        }
        return out;
    }

    /** The worker's writes among the recorded requests (the stand-in controller's own calls are left out). */
    public List<RecordedRequest> workerWrites(List<RecordedRequest> requests) {
        return requests.stream()
                .filter(r -> ("Bearer admin-" + clusterId).equals(r.getHeader("Authorization")))
                .filter(r -> !r.getMethod().equals("GET") && !r.getPath().contains("selfsubjectrulesreviews")
                        && !r.getPath().contains("selfsubjectaccessreviews"))
                .toList();
    }

    /** The empty token Secret a pre-1.24 token controller creates for a service account (filled afterwards). */
    private static Secret autoTokenSecret(ServiceAccount sa, String name) {
        return new SecretBuilder().withNewMetadata().withName(name).withNamespace("kube-system")
                .addToAnnotations("kubernetes.io/service-account.name", sa.getMetadata().getName())
                .addToAnnotations("kubernetes.io/service-account.uid", sa.getMetadata().getUid())
                .endMetadata().withType("kubernetes.io/service-account-token").build();
    }

    private void playTokenController(TokenController mode) {
        try {
            if (mode == TokenController.AUTO_CREATE) {
                for (ServiceAccount sa : client.serviceAccounts().inNamespace("kube-system").list().getItems()) {
                    if (sa.getSecrets() == null || sa.getSecrets().isEmpty()) {
                        String name = sa.getMetadata().getName() + "-token-" + UUID.randomUUID().toString().substring(0, 5);
                        client.secrets().inNamespace("kube-system").resource(autoTokenSecret(sa, name)).create();
                        client.serviceAccounts().inNamespace("kube-system").resource(new ServiceAccountBuilder(sa)
                                .withSecrets(new ObjectReferenceBuilder().withName(name).build()).build()).update();
                    }
                }
            }
            for (Secret s : client.secrets().inNamespace("kube-system").list().getItems()) {
                if ("kubernetes.io/service-account-token".equals(s.getType())
                        && (s.getData() == null || !s.getData().containsKey("token"))) {
                    String token = "tok-" + UUID.randomUUID();
                    ISSUED_TOKENS.add(token);
                    client.secrets().inNamespace("kube-system").resource(new SecretBuilder(s)
                            .addToData("token", b64(token)).addToData("ca.crt", b64("ca")).build()).update();
                }
            }
        } catch (RuntimeException e) {
            // A conflicting write of the worker: try again on the next tick, as the real controller would.
        }
    }

    // --- the event-driven stand-in token controller (benchmark mode) ---------------------------------------------

    /** Marks the requests of the control plane's own client (benchmark mode). */
    private static final String CONTROL_PLANE_HEADER = "X-Stand-In-Control-Plane";

    /** The control plane's own client: a shared Vert.x, and a header that exempts its calls from the delay. */
    private NamespacedKubernetesClient controlPlaneClient() {
        Config config = new ConfigBuilder(
                Config.empty()).withMasterUrl(server.url("/")).withTrustCerts(true)
                .withNamespace("default").withCustomHeaders(Map.of(CONTROL_PLANE_HEADER, "true")).build();
        return new KubernetesClientBuilder().withConfig(config)
                .withHttpClientFactory(sharedHttpClients()).build().adapt(NamespacedKubernetesClient.class);
    }

    /** One Vert.x for the control-plane clients of every benchmark-mode cluster (each mock server keeps its own). */
    private static VertxHttpClientFactory sharedHttp;
    /** Fills are due {@code tokenDelay} after a token Secret appears; one small timer pool serves every cluster. */
    private static ScheduledExecutorService fillTimer;

    private static synchronized VertxHttpClientFactory sharedHttpClients() {
        if (sharedHttp == null) {
            sharedHttp = new VertxHttpClientFactory(Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2)
                    .setWorkerPoolSize(4)));
        }
        return sharedHttp;
    }

    private static synchronized ScheduledExecutorService fillTimer() {
        if (fillTimer == null) {
            fillTimer = Executors.newScheduledThreadPool(2, r -> {
                Thread t = new Thread(r, "stand-in-token-controller");
                t.setDaemon(true);
                return t;
            });
        }
        return fillTimer;
    }

    private final List<SharedIndexInformer<?>> informers = new CopyOnWriteArrayList<>();
    private final Set<String> fillsDue = ConcurrentHashMap.newKeySet();

    private void startEventDrivenTokenController(TokenController mode, Duration tokenDelay) {
        if (mode == TokenController.AUTO_CREATE) {
            informers.add(client.serviceAccounts().inNamespace("kube-system").inform(new ResourceEventHandler<>() {
                @Override
                public void onAdd(ServiceAccount sa) {
                    mintTokenSecret(sa);
                }

                @Override
                public void onUpdate(ServiceAccount old, ServiceAccount sa) {
                    mintTokenSecret(sa);
                }

                @Override
                public void onDelete(ServiceAccount sa, boolean unknownFinalState) {
                }
            }));
        }
        informers.add(client.secrets().inNamespace("kube-system").inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Secret s) {
                scheduleFill(s, tokenDelay);
            }

            @Override
            public void onUpdate(Secret old, Secret s) {
                scheduleFill(s, tokenDelay);
            }

            @Override
            public void onDelete(Secret s, boolean unknownFinalState) {
                fillsDue.remove(s.getMetadata().getName());
            }
        }));
    }

    private void mintTokenSecret(ServiceAccount sa) {
        if (sa.getSecrets() != null && !sa.getSecrets().isEmpty()) {
            return;
        }
        try {
            String name = sa.getMetadata().getName() + "-token-" + UUID.randomUUID().toString().substring(0, 5);
            client.secrets().inNamespace("kube-system").resource(autoTokenSecret(sa, name)).create();
            client.serviceAccounts().inNamespace("kube-system").withName(sa.getMetadata().getName())
                    .edit(current -> new ServiceAccountBuilder(current)
                            .withSecrets(new ObjectReferenceBuilder().withName(name).build()).build());
        } catch (KubernetesClientException e) {
            // The account changed or went away meanwhile: its next event brings it back here.
        }
    }

    private void scheduleFill(Secret s, Duration tokenDelay) {
        if (!"kubernetes.io/service-account-token".equals(s.getType())
                || (s.getData() != null && s.getData().containsKey("token"))
                || !fillsDue.add(s.getMetadata().getName())) {
            return;
        }
        fillTimer().schedule(() -> fill(s.getMetadata().getName(), 0), tokenDelay.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void fill(String name, int conflicts) {
        try {
            Secret s = client.secrets().inNamespace("kube-system").withName(name).get();
            if (s == null || (s.getData() != null && s.getData().containsKey("token"))) {
                fillsDue.remove(name);
                return;
            }
            String token = "tok-" + UUID.randomUUID();
            ISSUED_TOKENS.add(token);
            client.secrets().inNamespace("kube-system").resource(new SecretBuilder(s)
                    .addToData("token", b64(token)).addToData("ca.crt", b64("ca")).build()).update();
            fillsDue.remove(name);
        } catch (KubernetesClientException e) {
            if (conflicts < 10) {
                fillTimer().schedule(() -> fill(name, conflicts + 1), 5, TimeUnit.MILLISECONDS);
            } else {
                fillsDue.remove(name);
            }
        }
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static synchronized void register(String clusterId, String server) {
        SERVERS.put(clusterId, server);
        writeKubeconfig();
    }

    private static void writeKubeconfig() {
        StringBuilder y = new StringBuilder("apiVersion: v1\nkind: Config\nclusters:\n");
        SERVERS.forEach((id, url) -> y.append("- name: ").append(id).append("\n  cluster:\n    server: \"")
                .append(url).append("\"\n")
                .append(CA_DATA.containsKey(id) ? "    certificate-authority-data: " + CA_DATA.get(id) + "\n" : "")
                .append(INSECURE.contains(id) ? "    insecure-skip-tls-verify: true\n" : ""));
        y.append("contexts:\n");
        SERVERS.keySet().forEach(id -> y.append("- name: ").append(id).append("\n  context:\n    cluster: ").append(id)
                .append("\n    user: ").append(id).append("-admin\n"));
        y.append("users:\n");
        SERVERS.keySet().forEach(id -> y.append("- name: ").append(id).append("-admin\n  user:\n    token: ")
                .append(ADMIN_TOKENS.getOrDefault(id, "admin-" + id)).append("\n"));
        try {
            Path tmp = Files.createTempFile(KUBECONFIG.getParent(), "kubeconfig", ".tmp");
            Files.writeString(tmp, y);
            Files.move(tmp, KUBECONFIG, StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path createKubeconfig() {
        try {
            Path dir = Files.createTempDirectory("authorizer-test");
            Path file = dir.resolve("kubeconfig");
            Files.writeString(file, "apiVersion: v1\nkind: Config\n");
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        if (controller != null) {
            controller.shutdownNow();
        }
        informers.forEach(SharedIndexInformer::stop);
        client.close();
        server.destroy();
    }
}

package io.apigw.authorizer.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;

import io.apigw.authorizer.testing.StallingApiServer;
import io.apigw.authorizer.testing.TargetCluster;
import io.apigw.authorizer.testing.TargetCluster.TokenController;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * The simulated fleet: N clusters in an interleaved order, so that any prefix has the same mix of fresh clusters,
 * clusters authorized in the warm-up pass, and clusters whose private endpoint is off (a kubeconfig entry without a
 * server, no API server at all). With {@code faults=P}, P % of the N clusters are faulty instead, in four kinds of
 * equal share ({@link Fault}); they are kept apart ({@link #faulty}) and join only the phases that measure faults.
 * With {@code flood=N}, one more cluster, slow ({@code flood-rtt-ms} per answer), gets a flood of N requests at once
 * in the flood phases ({@link #flooded}).
 */
final class Fleet implements AutoCloseable {

    enum Kind {
        /** Not authorized before the measured phase: its first request is a fresh authorization. */
        FRESH,
        /** Authorized in the warm-up pass: every measured request finds all four resources in place. */
        WARM,
        /** Private endpoint off. */
        PRIVATE,
        /** One of the {@link Fault}s. */
        FAULTY
    }

    /** How a faulty cluster's API server misbehaves. */
    enum Fault {
        /** Accepts connections and never reads or answers a byte. */
        SILENT,
        /** Answers reads (nothing reserved exists yet); every write's answer stalls after its first bytes. */
        STALLED_WRITE,
        /** Answers 401 to every call of the admin credential, as to a revoked one. */
        UNAUTHORIZED,
        /** A working cluster whose every answer takes 1 s. */
        SLOW
    }

    static final Duration SLOW_ROUND_TRIP = Duration.ofSeconds(1);

    /** @param cluster the mock API server, or null (private access off, or a raw faulty server) */
    record Member(String clusterId, Kind kind, TargetCluster cluster, Fault fault) {
    }

    /** The healthy clusters: every phase but the fault phases. */
    final List<Member> members;
    /** The faulty clusters, in the order of {@link Fault}, repeated. */
    final List<Member> faulty;
    /** The slow cluster of the flood phases (never authorized), or null without {@code flood}. */
    final Member flooded;
    private final List<AutoCloseable> faultyServers;

    private Fleet(List<Member> members, List<Member> faulty, Member flooded, List<AutoCloseable> faultyServers) {
        this.members = members;
        this.faulty = faulty;
        this.flooded = flooded;
        this.faultyServers = faultyServers;
    }

    static Fleet start(Params p, ExecutorService pool) throws Exception {
        int faults = Math.round(p.clusters() * p.faultPct() / 100f);
        List<Kind> kinds = interleave(p.clusters() - faults, p.freshPct(), p.privatePct());
        TokenController tokens = p.autoCreatedTokens() ? TokenController.AUTO_CREATE : TokenController.FILL_ONLY;
        List<Future<Member>> started = new ArrayList<>();
        for (Kind k : kinds) {
            started.add(pool.submit(() -> k == Kind.PRIVATE
                    ? new Member(TargetCluster.registerWithoutPrivateEndpoint(), k, null, null)
                    : member(TargetCluster.start(p.kubeVersion(), tokens, TargetCluster.CLUSTER_ADMIN, p.roundTrip(),
                            p.tokenDelay(), p.tls()), k)));
        }
        List<Member> members = new ArrayList<>();
        for (Future<Member> f : started) {
            members.add(f.get());
        }
        List<Member> faulty = new ArrayList<>();
        List<AutoCloseable> servers = new ArrayList<>();
        for (int i = 0; i < faults; i++) {
            Fault fault = Fault.values()[i % Fault.values().length];
            faulty.add(switch (fault) {
                case SILENT -> {
                    SilentServer s = new SilentServer();
                    servers.add(s);
                    yield new Member(TargetCluster.registerServer(s.url()), Kind.FAULTY, null, fault);
                }
                case STALLED_WRITE -> {
                    // Every POST stalls: the preflight's rights reviews (the first writes an attempt makes) included.
                    StallingApiServer s = new StallingApiServer(request -> !request.startsWith("GET"));
                    servers.add(s);
                    yield new Member(TargetCluster.registerServer(s.url()), Kind.FAULTY, null, fault);
                }
                case UNAUTHORIZED -> {
                    TargetCluster c = TargetCluster.start(p.kubeVersion(), tokens, TargetCluster.CLUSTER_ADMIN,
                            p.roundTrip(), p.tokenDelay(), p.tls());
                    c.rejectToken("admin-" + c.clusterId);
                    yield new Member(c.clusterId, Kind.FAULTY, c, fault);
                }
                case SLOW -> {
                    TargetCluster c = TargetCluster.start(p.kubeVersion(), tokens, TargetCluster.CLUSTER_ADMIN,
                            SLOW_ROUND_TRIP, p.tokenDelay(), p.tls());
                    yield new Member(c.clusterId, Kind.FAULTY, c, fault);
                }
            });
        }
        Member flooded = null;
        if (p.flood() > 0) {
            TargetCluster c = TargetCluster.start(p.kubeVersion(), tokens, TargetCluster.CLUSTER_ADMIN,
                    p.floodRoundTrip(), p.tokenDelay(), p.tls());
            flooded = new Member(c.clusterId, Kind.FAULTY, c, null);
        }
        return new Fleet(members, faulty, flooded, servers);
    }

    private static Member member(TargetCluster c, Kind k) {
        return new Member(c.clusterId, k, c, null);
    }

    /** The healthy clusters with the faulty ones spread evenly among them, so that any prefix has the same mix. */
    List<Member> withFaults() {
        int all = members.size() + faulty.size();
        List<Member> out = new ArrayList<>(all);
        int h = 0;
        int f = 0;
        for (int i = 0; i < all; i++) {
            boolean faultyTurn = f < faulty.size() && (h == members.size()
                    || (f + 1) * (double) all / faulty.size() <= i + 1);
            out.add(faultyTurn ? faulty.get(f++) : members.get(h++));
        }
        return out;
    }

    /** Largest-deficit interleaving: every prefix holds the kinds in (nearly) the requested proportions. */
    static List<Kind> interleave(int n, int freshPct, int privatePct) {
        Map<Kind, Integer> want = new EnumMap<>(Kind.class);
        int fresh = Math.round(n * freshPct / 100f);
        int priv = Math.round(n * privatePct / 100f);
        want.put(Kind.FRESH, fresh);
        want.put(Kind.PRIVATE, priv);
        want.put(Kind.WARM, n - fresh - priv);
        want.put(Kind.FAULTY, 0);
        Map<Kind, Integer> have = new EnumMap<>(Kind.class);
        List<Kind> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Kind best = null;
            double bestDeficit = -1e9;
            for (Kind k : Kind.values()) {
                if (have.getOrDefault(k, 0) >= want.get(k)) {
                    continue;
                }
                double deficit = (i + 1) * (double) want.get(k) / n - have.getOrDefault(k, 0);
                if (deficit > bestDeficit) {
                    bestDeficit = deficit;
                    best = k;
                }
            }
            out.add(best);
            have.merge(best, 1, Integer::sum);
        }
        return out;
    }

    List<Member> prefix(int count) {
        return members.subList(0, Math.min(count, members.size()));
    }

    /**
     * Back to "never authorized": removes the four reserved resources (and any kubectl left) from each cluster and
     * the stored credential from the worker's own cluster. The control plane's own client is not delayed.
     */
    void reset(Collection<Member> which, KubernetesClient ownCluster, String credentialNamespace, ExecutorService pool)
            throws Exception {
        List<Future<?>> done = new ArrayList<>();
        for (Member m : which) {
            if (m.cluster() == null) {
                continue;
            }
            done.add(pool.submit(() -> {
                KubernetesClient c = m.cluster().client;
                c.rbac().clusterRoleBindings().withName("apigw-ingress-clusterrole-binding").delete();
                c.rbac().clusterRoles().withName("apigw-ingress-clusterrole").delete();
                c.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress").delete();
                c.secrets().inNamespace("kube-system").list().getItems().stream()
                        .filter(s -> s.getMetadata().getName().startsWith("apigw-ingress-token-"))
                        .forEach(s -> c.secrets().inNamespace("kube-system").withName(s.getMetadata().getName())
                                .delete());
                ownCluster.secrets().inNamespace(credentialNamespace).withName("apigw-cluster-" + m.clusterId())
                        .delete();
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get();
        }
    }

    /**
     * The mock API servers as kubectl needs them: legacy discovery documents for the seed's kinds. The mock matches
     * paths with their query, and kubectl's discovery client asks with {@code ?timeout=32s}.
     */
    static void serveDiscovery(TargetCluster c) {
        for (String q : new String[] { "", "?timeout=32s" }) {
            serveDiscovery(c, q);
        }
    }

    private static void serveDiscovery(TargetCluster c, String q) {
        c.server.expect().get().withPath("/api" + q)
                .andReturn(200, "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"],\"serverAddressByClientCIDRs\":"
                        + "[{\"clientCIDR\":\"0.0.0.0/0\",\"serverAddress\":\"127.0.0.1\"}]}")
                .always();
        c.server.expect().get().withPath("/apis" + q)
                .andReturn(200, "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[{\"name\":"
                        + "\"rbac.authorization.k8s.io\",\"versions\":[{\"groupVersion\":\"rbac.authorization.k8s.io/v1\","
                        + "\"version\":\"v1\"}],\"preferredVersion\":{\"groupVersion\":\"rbac.authorization.k8s.io/v1\","
                        + "\"version\":\"v1\"}}]}")
                .always();
        String verbs = "[\"create\",\"delete\",\"get\",\"list\",\"patch\",\"update\",\"watch\"]";
        c.server.expect().get().withPath("/api/v1" + q)
                .andReturn(200, "{\"kind\":\"APIResourceList\",\"groupVersion\":\"v1\",\"resources\":["
                        + resource("namespaces", "Namespace", false, verbs) + ","
                        + resource("serviceaccounts", "ServiceAccount", true, verbs) + ","
                        + resource("secrets", "Secret", true, verbs) + "]}")
                .always();
        c.server.expect().get().withPath("/apis/rbac.authorization.k8s.io/v1" + q)
                .andReturn(200, "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":"
                        + "\"rbac.authorization.k8s.io/v1\",\"resources\":["
                        + resource("clusterroles", "ClusterRole", false, verbs) + ","
                        + resource("clusterrolebindings", "ClusterRoleBinding", false, verbs) + "]}")
                .always();
    }

    private static String resource(String plural, String kind, boolean namespaced, String verbs) {
        return "{\"name\":\"" + plural + "\",\"singularName\":\"\",\"namespaced\":" + namespaced + ",\"kind\":\"" + kind
                + "\",\"verbs\":" + verbs + "}";
    }

    static Duration ms(long ms) {
        return Duration.ofMillis(ms);
    }

    /**
     * An API server that accepts every connection and never reads or answers: only the client's own timeouts end a
     * call. The connections stay open until the client gives up or the fleet closes.
     */
    static final class SilentServer implements AutoCloseable {
        private final ServerSocket server;
        private final List<Socket> held = new CopyOnWriteArrayList<>();

        SilentServer() throws IOException {
            server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
            Thread acceptor = new Thread(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        held.removeIf(Socket::isClosed);
                        held.add(s);
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "bench-silent-server");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        String url() {
            return "http://127.0.0.1:" + server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : held) {
                s.close();
            }
        }
    }

    @Override
    public void close() {
        for (AutoCloseable s : faultyServers) {
            try {
                s.close();
            } catch (Exception e) {
                // shutting down anyway
            }
        }
        for (Member m : faulty) {
            if (m.cluster() != null) {
                m.cluster().close();
            }
        }
        if (flooded != null) {
            flooded.cluster().close();
        }
        for (Member m : members) {
            if (m.cluster() != null) {
                try {
                    m.cluster().close();
                } catch (RuntimeException e) {
                    // shutting down anyway
                }
            }
        }
    }

    static ExecutorService pool(int threads) {
        return Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "bench-harness");
            t.setDaemon(true);
            return t;
        });
    }
}

package io.apigw.authorizer.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import io.apigw.authorizer.testing.TargetCluster;
import io.apigw.authorizer.testing.TargetCluster.TokenController;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * The simulated fleet: N clusters in an interleaved order, so that any prefix has the same mix of fresh clusters,
 * clusters authorized in the warm-up pass, and clusters whose private endpoint is off (a kubeconfig entry without a
 * server, no API server at all).
 */
final class Fleet implements AutoCloseable {

    enum Kind {
        /** Not authorized before the measured phase: its first request is a fresh authorization. */
        FRESH,
        /** Authorized in the warm-up pass: every measured request finds all four resources in place. */
        WARM,
        /** Private endpoint off. */
        PRIVATE
    }

    record Member(String clusterId, Kind kind, TargetCluster cluster) {
    }

    final List<Member> members;

    private Fleet(List<Member> members) {
        this.members = members;
    }

    static Fleet start(Params p, ExecutorService pool) throws Exception {
        List<Kind> kinds = interleave(p.clusters(), p.freshPct(), p.privatePct());
        TokenController tokens = p.autoCreatedTokens() ? TokenController.AUTO_CREATE : TokenController.FILL_ONLY;
        List<Future<Member>> started = new ArrayList<>();
        for (Kind k : kinds) {
            started.add(pool.submit(() -> k == Kind.PRIVATE
                    ? new Member(TargetCluster.registerWithoutPrivateEndpoint(), k, null)
                    : member(TargetCluster.start(p.kubeVersion(), tokens, TargetCluster.CLUSTER_ADMIN, p.roundTrip(),
                            p.tokenDelay(), p.tls()), k)));
        }
        List<Member> members = new ArrayList<>();
        for (Future<Member> f : started) {
            members.add(f.get());
        }
        return new Fleet(members);
    }

    private static Member member(TargetCluster c, Kind k) {
        return new Member(c.clusterId, k, c);
    }

    /** Largest-deficit interleaving: every prefix holds the kinds in (nearly) the requested proportions. */
    static List<Kind> interleave(int n, int freshPct, int privatePct) {
        Map<Kind, Integer> want = new EnumMap<>(Kind.class);
        int fresh = Math.round(n * freshPct / 100f);
        int priv = Math.round(n * privatePct / 100f);
        want.put(Kind.FRESH, fresh);
        want.put(Kind.PRIVATE, priv);
        want.put(Kind.WARM, n - fresh - priv);
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

    @Override
    public void close() {
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

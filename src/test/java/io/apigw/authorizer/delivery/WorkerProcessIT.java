package io.apigw.authorizer.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.apigw.authorizer.testing.KafkaBroker;
import io.apigw.authorizer.testing.KafkaClients;
import io.apigw.authorizer.testing.TargetCluster;
import io.apigw.authorizer.testing.TargetCluster.TokenController;
import io.apigw.authorizer.testing.PackagedWorkers;
import io.apigw.authorizer.testing.WorkerProcess;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.awaitility.Awaitility;

/**
 * The packaged worker as real processes on a real broker: a hard kill mid-batch, a graceful stop, and two workers
 * sharing the partitions. Whatever happens to a worker, every request ends with a result.
 */
class WorkerProcessIT extends PackagedWorkers {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration RTT = Duration.ofMillis(150);

    private WorkerProcess worker(String name) {
        return worker(name, Map.of());
    }

    private WorkerProcess worker(String name, Map<String, String> overrides) {
        Map<String, String> config = config();
        config.put("authorizer.token.timeout", "10s");
        config.putAll(overrides);
        WorkerProcess w = WorkerProcess.start(name, config);
        workers.add(w);
        return w.awaitReady(Duration.ofSeconds(60));
    }

    private List<String> sendToSlowClusters(int n) {
        return sendToSlowClusters(n, RTT);
    }

    private List<String> sendToSlowClusters(int n, Duration rtt) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            TargetCluster c = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY, TargetCluster.CLUSTER_ADMIN, rtt);
            clusters.add(c);
            String id = "proc-" + i + "-" + UUID.randomUUID();
            ids.add(id);
            kafka.sendRequest(requests, id, c.clusterId);
        }
        return ids;
    }

    /** requestId → the results published for it (more than one only after a redelivery). */
    private Map<String, List<ConsumerRecord<byte[], byte[]>>> results(List<String> ids, int atLeast, Duration within) {
        List<ConsumerRecord<byte[], byte[]>> read = kafka.readUntil(results,
                rs -> answered(rs, ids).size() >= atLeast, within);
        return read.stream().filter(r -> ids.contains(requestId(r)))
                .collect(Collectors.groupingBy(WorkerProcessIT::requestId));
    }

    private static Set<String> answered(List<ConsumerRecord<byte[], byte[]>> rs, List<String> ids) {
        return rs.stream().map(WorkerProcessIT::requestId).filter(ids::contains).collect(Collectors.toSet());
    }

    private static String requestId(ConsumerRecord<byte[], byte[]> r) {
        try {
            JsonNode body = JSON.readTree(r.value());
            return body.path("requestId").asText();
        } catch (Exception e) {
            return "";
        }
    }

    @Test
    void hardKillMidBatchLosesNoRequest() {
        WorkerProcess first = worker("a");
        List<String> ids = sendToSlowClusters(16);
        results(ids, 3, Duration.ofSeconds(60));
        first.kill();

        worker("b");
        Map<String, List<ConsumerRecord<byte[], byte[]>>> all = results(ids, ids.size(), Duration.ofSeconds(120));

        assertThat(all.keySet()).containsExactlyInAnyOrderElementsOf(ids);
        all.forEach((id, rs) -> {
            assertThat(rs).allMatch(r -> KafkaClients.header(r, "ce_type").equals("Authorized"));
            // A redelivered request may be answered twice, always with the same event id.
            assertThat(rs.stream().map(r -> KafkaClients.header(r, "ce_id")).distinct()).hasSize(1);
        });
    }

    @Test
    void sigtermFinishesInFlightWorkAndCommitsIt() {
        WorkerProcess first = worker("graceful");
        List<String> ids = sendToSlowClusters(8);
        results(ids, 1, Duration.ofSeconds(60));
        int exit = first.terminate(Duration.ofSeconds(60));
        int answeredBeforeExit = results(ids, ids.size(), Duration.ofSeconds(3)).size();

        worker("successor");
        Map<String, List<ConsumerRecord<byte[], byte[]>>> all = results(ids, ids.size(), Duration.ofSeconds(120));

        assertThat(exit).as("exit code after SIGTERM\n" + first.log()).isIn(0, 143);
        assertThat(answeredBeforeExit).as("answered before the first worker exited").isGreaterThan(1);
        assertThat(all.keySet()).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(all.values()).as("no request was redone after the graceful stop: its offsets were committed")
                .allMatch(rs -> rs.size() == 1);
    }

    /**
     * A rolling update under load: SIGTERM while requests run and others wait. The running ones finish (their
     * credential stored in the worker's own cluster), are committed, and are not run again; the waiting ones are
     * left for the successor, which runs each once.
     */
    @Test
    void sigtermFinishesInFlightRequestsWithTheirCredentialsAndLeavesQueuedOnesToTheSuccessor() {
        WorkerProcess first = worker("rolling", Map.of("authorizer.concurrency", "2"));
        List<String> ids = sendToSlowClusters(6, Duration.ofMillis(700));
        awaitClustersStarted(2);
        int exit = first.terminate(Duration.ofSeconds(60));
        List<String> finishedByFirst = ids.stream().filter(id -> first.log().contains("requestId=" + id)).toList();
        // ids.get(i) was sent for clusters.get(i)
        List<String> startedByFirst = ids.stream()
                .filter(id -> !clusters.get(ids.indexOf(id)).workerVersionReads().isEmpty()).toList();

        worker("rolling-successor");
        Map<String, List<ConsumerRecord<byte[], byte[]>>> all = results(ids, ids.size(), Duration.ofSeconds(120));

        assertThat(exit).as("exit code after SIGTERM\n" + first.log()).isIn(0, 143);
        assertThat(first.log()).doesNotContain("Client is closed").doesNotContain("outcome=Failed");
        assertThat(startedByFirst).hasSizeGreaterThanOrEqualTo(2).hasSizeLessThan(ids.size());
        assertThat(finishedByFirst).as("requests in flight at SIGTERM finished by the stopping worker\n" + first.log())
                .containsExactlyInAnyOrderElementsOf(startedByFirst);
        try (var own = ownCluster.createClient()) {
            for (String id : finishedByFirst) {
                String clusterId = clusterOf(all.get(id).get(0));
                assertThat(own.secrets().inNamespace("apigw-system").withName("apigw-cluster-" + clusterId).get())
                        .as("credential of %s stored before the worker stopped", clusterId).isNotNull();
            }
        }
        assertThat(all.keySet()).containsExactlyInAnyOrderElementsOf(ids);
        assertEachClusterAuthorizedOnce(all, first.log());
    }

    /**
     * A second worker joins while the first runs a request on every partition and has one more waiting on each: the
     * partitions that move are revoked only once their running requests are done (and committed), their waiting
     * records go to the second worker, and no cluster is authorized by both, at the same time or one after the
     * other.
     */
    @Test
    void aRebalanceWaitsForRunningRequestsSoNoClusterIsAuthorizedTwice() {
        WorkerProcess a = worker("takeover-a");
        // Slow clusters (an authorization takes about 15 s), two per partition of the request topic.
        Map<Integer, List<TargetCluster>> byPartition = new HashMap<>();
        for (int i = 0; i < 64 && byPartition.values().stream().filter(l -> l.size() >= 2).count() < 4; i++) {
            TargetCluster c = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY, TargetCluster.CLUSTER_ADMIN,
                    Duration.ofSeconds(3));
            List<TargetCluster> on = byPartition.computeIfAbsent(KafkaBroker.partitionOf(c.clusterId, 4), p -> new ArrayList<>());
            if (on.size() < 2) {
                on.add(c);
                clusters.add(c);
            } else {
                c.close();
            }
        }
        List<String> ids = new ArrayList<>();
        for (int round = 0; round < 2; round++) { // first one running per partition (concurrency 4), then one waiting
            for (List<TargetCluster> on : byPartition.values()) {
                String id = "takeover-" + round + "-" + UUID.randomUUID();
                ids.add(id);
                kafka.sendRequest(requests, id, on.get(round).clusterId);
            }
        }
        awaitClustersStarted(4);
        WorkerProcess b = worker("takeover-b");

        Map<String, List<ConsumerRecord<byte[], byte[]>>> all = results(ids, ids.size(), Duration.ofSeconds(150));

        String logs = a.log() + "\n----- b:\n" + b.log();
        assertThat(all.keySet()).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(a.log()).as("a gave partitions up once their running requests were done\n" + logs)
                .containsPattern("revoked: [1-9][0-9]* requests were running");
        assertThat(b.log()).as("b ran the records that were waiting on the partitions it got\n" + logs)
                .contains("outcome=Authorized");
        assertEachClusterAuthorizedOnce(all, logs);
    }

    /** Waits until the worker has started on {@code n} clusters (each read /version). */
    private void awaitClustersStarted(int n) {
        Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                .until(() -> clusters.stream().filter(c -> !c.workerVersionReads().isEmpty()).count() >= n);
    }

    /** One result per request and one attempt per cluster: nothing was redone or done by two workers at once. */
    private void assertEachClusterAuthorizedOnce(Map<String, List<ConsumerRecord<byte[], byte[]>>> all,
            String logs) {
        assertThat(all.values()).as("results per request\n" + logs).allMatch(rs -> rs.size() == 1);
        assertThat(clusters).as("authorizations (reads of /version) per cluster\n" + logs)
                .allMatch(c -> c.workerVersionReads().size() == 1);
    }

    private static String clusterOf(ConsumerRecord<byte[], byte[]> r) {
        try {
            return JSON.readTree(r.value()).path("clusterId").asText();
        } catch (Exception e) {
            return "";
        }
    }

    /**
     * Issue 26: a SIGTERM while the worker's own cluster is down (its API server gone: connections refused) and the
     * kubelet's readiness probes go on: the worker exits within the pod's grace (60 s). It used to wait for the
     * readiness check's retried Secret list for minutes.
     */
    @Test
    void sigtermWithTheOwnClusterDownExitsWithinThePodsGrace() throws Exception {
        sigtermWithTheOwnCluster(false);
    }

    /** As above, with the own cluster silent: it accepts connections and never answers. */
    @Test
    void sigtermWithTheOwnClusterSilentExitsWithinThePodsGrace() throws Exception {
        sigtermWithTheOwnCluster(true);
    }

    private void sigtermWithTheOwnCluster(boolean silent) throws Exception {
        KubernetesMockServer own = ownClusterStandIn();
        int port = own.getPort();
        WorkerProcess w = worker("own-cluster-" + (silent ? "silent" : "down"),
                Map.of("quarkus.kubernetes-client.api-server-url", own.url("/")));
        own.destroy();
        List<Socket> held = new CopyOnWriteArrayList<>();
        try (ServerSocket blackHole = new ServerSocket()) {
            if (silent) {
                blackHole.setReuseAddress(true);
                blackHole.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                Thread accept = new Thread(() -> {
                    try {
                        while (true) {
                            held.add(blackHole.accept()); // accepted, never answered
                        }
                    } catch (IOException e) {
                        // closed by the test
                    }
                }, "silent-own-cluster");
                accept.setDaemon(true);
                accept.start();
            }
            // The kubelet's probes go on meanwhile: each readiness check asks the own cluster.
            HttpClient http = HttpClient.newBuilder()
                    .connectTimeout(Duration.ofSeconds(1)).build();
            AtomicBoolean probing = new AtomicBoolean(true);
            Thread kubelet = new Thread(() -> {
                while (probing.get()) {
                    http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                            + w.httpPort + "/q/health/ready")).timeout(Duration.ofSeconds(1)).build(),
                            HttpResponse.BodyHandlers.discarding());
                    try {
                        Thread.sleep(1000);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "kubelet-probes");
            kubelet.setDaemon(true);
            kubelet.start();
            sendToSlowClusters(6);
            awaitClustersStarted(2);
            Thread.sleep(3000);

            long t0 = System.nanoTime();
            int exit = w.terminate(Duration.ofSeconds(180));
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            probing.set(false);

            assertThat(exit).as("exit code after SIGTERM\n" + w.log()).isIn(0, 143);
            assertThat(took).as("from SIGTERM to exit, the own cluster " + (silent ? "silent" : "down") + "\n"
                    + w.log()).isLessThan(Duration.ofSeconds(60));
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    /**
     * Issue 26: a SIGTERM while the broker is gone and requests are in flight: the worker exits within the pod's grace
     * (60 s). Their results cannot be published; they stay unacknowledged and are redelivered to the next owner. It
     * used to wait for the result publishes' producer for minutes.
     */
    @Test
    void sigtermWithKafkaDownExitsWithinThePodsGrace() throws Exception {
        WorkerProcess w = worker("kafka-down");
        List<String> ids = sendToSlowClusters(6, Duration.ofSeconds(2));
        awaitClustersStarted(2);
        kafka.close();
        broker.stop();
        try {
            long t0 = System.nanoTime();
            int exit = w.terminate(Duration.ofSeconds(180));
            Duration took = Duration.ofNanos(System.nanoTime() - t0);

            assertThat(exit).as("exit code after SIGTERM\n" + w.log()).isIn(0, 143);
            assertThat(took).as("from SIGTERM to exit, the broker down\n" + w.log())
                    .isLessThan(Duration.ofSeconds(60));
        } finally {
            broker.restart();
            kafka = new KafkaClients(broker.bootstrapServers());
        }
        worker("kafka-down-successor");
        assertThat(results(ids, ids.size(), Duration.ofSeconds(120)).keySet())
                .as("every request is answered: the successor gets what the stopped worker left unacknowledged")
                .containsExactlyInAnyOrderElementsOf(ids);
    }

    @Test
    void theWorkerRecoversFromABrokerRestartWithoutRestartingItself() throws Exception {
        WorkerProcess w = worker("broker-restart");
        List<String> before = sendToSlowClusters(2);
        assertThat(results(before, before.size(), Duration.ofSeconds(60))).hasSize(2);

        kafka.close();
        broker.stop();
        Thread.sleep(5_000);
        broker.restart();
        kafka = new KafkaClients(broker.bootstrapServers());

        List<String> after = sendToSlowClusters(4);
        Map<String, List<ConsumerRecord<byte[], byte[]>>> answered = results(after, after.size(), Duration.ofSeconds(120));
        assertThat(answered.keySet()).containsExactlyInAnyOrderElementsOf(after);
        assertThat(w.isAlive()).isTrue();
    }

    @Test
    void twoWorkersSharePartitionsAndOneTakesOverWhenTheOtherDies() {
        WorkerProcess a = worker("share-a");
        WorkerProcess b = worker("share-b");
        List<String> ids = sendToSlowClusters(24);
        results(ids, 4, Duration.ofSeconds(60));
        a.kill();

        Map<String, List<ConsumerRecord<byte[], byte[]>>> all = results(ids, ids.size(), Duration.ofSeconds(120));

        assertThat(all.keySet()).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(a.log()).as("worker a handled requests before it died").contains("outcome=Authorized");
        assertThat(b.log()).as("worker b handled requests").contains("outcome=Authorized");
    }
}

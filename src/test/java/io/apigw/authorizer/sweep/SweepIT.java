package io.apigw.authorizer.sweep;

import static io.apigw.authorizer.sweep.SweepHarness.awaitLeader;
import static io.apigw.authorizer.sweep.SweepHarness.cluster;
import static io.apigw.authorizer.sweep.SweepHarness.context;
import static io.apigw.authorizer.sweep.SweepHarness.credential;
import static io.apigw.authorizer.sweep.SweepHarness.gatewayClient;
import static io.apigw.authorizer.sweep.SweepHarness.gauge;
import static io.apigw.authorizer.sweep.SweepHarness.request;
import static io.apigw.authorizer.sweep.SweepHarness.results;
import static io.apigw.authorizer.sweep.SweepHarness.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.apigw.authorizer.credential.CredentialStore;
import io.apigw.authorizer.grant.ReservedResources;

import io.apigw.authorizer.testing.FreePort;
import io.apigw.authorizer.testing.KafkaBroker;
import io.apigw.authorizer.testing.KafkaClients;
import io.apigw.authorizer.testing.LocalKube;
import io.apigw.authorizer.testing.Requests;
import io.apigw.authorizer.testing.StallingApiServer;
import io.apigw.authorizer.testing.WorkerProcess;
import io.apigw.authorizer.marks.Marks;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashSet;
import java.util.Set;

/**
 * Continuous assurance on real parts: three real kube-apiservers (with their controller-managers), a real broker and
 * two packaged workers sharing one real Lease. A sweep finds a deleted binding, a revoked token and private access
 * turned off, repairs the first two through the request topic, never undoes a deauthorize, moves to the other
 * replica when its sweeper dies, and never holds up the console's requests.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SweepIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration INTERVAL = Duration.ofSeconds(30);
    private static final Duration LEASE = Duration.ofSeconds(6);
    private static final Duration LEASE_RETRY = Duration.ofSeconds(1);
    private static final String DRIFT = "cls-drift";
    private static final String TOKEN = "cls-token";
    private static final String HEALTHY = "cls-healthy";
    private static final String PRIVATE = "cls-private";
    private static final int STALLED = 6;
    private static final DateTimeFormatter SWEEP_ID = DateTimeFormatter
            .ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    private static final Pattern SWEEP_REQUEST = Pattern.compile("(sweep|repair)-(\\d{8}T\\d{6}Z)-(.+)");

    static LocalKube own;
    static LocalKube tokenKube;
    static LocalKube healthyKube;
    static KubernetesClient ownAdmin;
    static KafkaBroker broker;
    static KafkaClients kafka;
    static StallingApiServer stalling;
    static Path directory;
    static final List<WorkerProcess> workers = new ArrayList<>();
    static Instant broken;
    static Instant repaired;

    @BeforeAll
    static void start() throws Exception {
        List<LocalKube> kubes = SweepHarness.startKubes(3);
        own = kubes.get(0);
        tokenKube = kubes.get(1);
        healthyKube = kubes.get(2);
        ownAdmin = own.adminClient();
        broker = KafkaBroker.start(FreePort.closed(), 4);
        kafka = new KafkaClients(broker.bootstrapServers());
        stalling = new StallingApiServer(path -> true);
        directory = Files.createTempFile("sweep-directory", ".kubeconfig");
        writeDirectory(true);

        Map<String, String> config = SweepHarness.workerConfig(broker.bootstrapServers(), own, ownAdmin, INTERVAL);
        config.put("authorizer.directory.kubeconfig.path", directory.toString());
        config.put("authorizer.concurrency", "4");
        config.put("authorizer.retry.max-backoff", "1s");
        config.put("authorizer.kube.connect-timeout", "2s");
        config.put("authorizer.kube.request-timeout", "5s");
        config.put("authorizer.sweep.concurrency", "2");
        config.put("authorizer.sweep.lease.duration", LEASE.toSeconds() + "s");
        config.put("authorizer.sweep.lease.retry-period", LEASE_RETRY.toSeconds() + "s");
        CompletableFuture<WorkerProcess> second = CompletableFuture.supplyAsync(
                () -> WorkerProcess.start("sweep-2", config).awaitReady(Duration.ofSeconds(90)));
        workers.add(WorkerProcess.start("sweep-1", config).awaitReady(Duration.ofSeconds(90)));
        workers.add(second.join());
    }

    @AfterAll
    static void stop() {
        workers.forEach(WorkerProcess::close);
        SweepHarness.closeAll(kafka, broker, stalling, ownAdmin, own, tokenKube, healthyKube);
    }

    @Test
    @Order(1)
    void aSweepFindsEachProblemWithItsStateAndRepairsTheTwoItCan() throws Exception {
        for (String cluster : List.of(DRIFT, TOKEN, HEALTHY, PRIVATE)) {
            JsonNode r = console(cluster, "ClusterAuthorizationRequested", Map.of());
            assertThat(r.get("type").asText()).as(r.toString()).isEqualTo("Authorized");
            assertThat(r.has("trigger")).as("the console's own results carry no trigger").isFalse();
        }
        // Between two sweeps, so that every later sweep's check reads after the damage.
        String before = awaitOneSweepOver(List.of(DRIFT, TOKEN, HEALTHY, PRIVATE));
        // What users and clouds do to authorized clusters: a deleted binding, a revoked token, private access off.
        ownAdmin.rbac().clusterRoleBindings().withName(ReservedResources.CLUSTER_ROLE_BINDING).delete();
        try (KubernetesClient b = tokenKube.adminClient()) {
            b.secrets().inNamespace("kube-system").list().getItems().stream()
                    .filter(s -> s.getMetadata().getName().startsWith(ReservedResources.TOKEN_SECRET_PREFIX))
                    .forEach(s -> b.secrets().inNamespace("kube-system").resource(s).delete());
        }
        writeDirectory(false);
        broken = Instant.now();

        Map<String, JsonNode> found = sweepResults(before, broken, "sweep", List.of(DRIFT, TOKEN, HEALTHY, PRIVATE));
        assertThat(found.get(DRIFT).get("type").asText()).as(found.get(DRIFT).toString()).isEqualTo("NotAuthorized");
        assertThat(found.get(DRIFT).get("missing").toString()).as("a deleted binding is missing")
                .contains(ReservedResources.CLUSTER_ROLE_BINDING);
        assertThat(found.get(TOKEN).get("type").asText()).isEqualTo("NotAuthorized");
        assertThat(found.get(TOKEN).get("credentialProblem").asText()).as(found.get(TOKEN).toString())
                .isEqualTo("rejected");
        assertThat(found.get(PRIVATE).get("type").asText()).isEqualTo("PrivateAccessDisabled");
        assertThat(found.get(HEALTHY).get("type").asText()).isEqualTo("Authorized");
        assertThat(found.values()).allSatisfy(r -> assertThat(r.get("trigger").asText()).isEqualTo("sweep"));
        assertThat(awaitState(DRIFT, "drifted")).isTrue();

        Map<String, JsonNode> repairs = sweepResults(before, broken, "repair", List.of(DRIFT, TOKEN));
        assertThat(repairs.values()).allSatisfy(r -> {
            assertThat(r.get("type").asText()).as(r.toString()).isEqualTo("Authorized");
            assertThat(r.get("trigger").asText()).isEqualTo("repair");
        });
        repaired = Instant.now();
        assertThat(ownAdmin.rbac().clusterRoleBindings().withName(ReservedResources.CLUSTER_ROLE_BINDING).get())
                .as("the binding is back").isNotNull();
        try (KubernetesClient asGateway = gatewayClient(ownAdmin, TOKEN)) {
            assertThat(asGateway.pods().inAnyNamespace().list().getItems()).isNotNull();
        }
        assertThat(results(kafka, r -> r.path("trigger").asText().equals("repair") && r.get("clusterId").asText()
                .equals(PRIVATE), Duration.ofSeconds(1))).as("private access off is not repaired").isEmpty();
    }

    @Test
    @Order(2)
    void theNextSweepFindsTheRepairedClustersAuthorizedAndTheSweeperServesTheTally() throws Exception {
        // The first sweep to start after the repairs.
        long slot = INTERVAL.toMillis();
        String after = SWEEP_ID.format(Instant.ofEpochMilli(repaired.toEpochMilli() - repaired.toEpochMilli() % slot));
        Map<String, JsonNode> found = sweepResults(after, repaired, "sweep", List.of(DRIFT, TOKEN, PRIVATE));
        assertThat(found.get(DRIFT).get("type").asText()).isEqualTo("Authorized");
        assertThat(found.get(TOKEN).get("type").asText()).isEqualTo("Authorized");
        assertThat(found.get(PRIVATE).get("type").asText()).isEqualTo("PrivateAccessDisabled");

        WorkerProcess leader = awaitLeader(workers, Duration.ofSeconds(10));
        long deadline = System.nanoTime() + Duration.ofSeconds(70).toNanos();
        String metrics = leader.get("/q/metrics").body();
        while (gauge(metrics, "authorizer_sweep_clusters{state=\"authorized\"") != 3 && System.nanoTime() < deadline) {
            Thread.sleep(1000);
            metrics = leader.get("/q/metrics").body();
        }
        assertThat(gauge(metrics, "authorizer_sweep_clusters{state=\"authorized\"")).as(metrics).isEqualTo(3);
        assertThat(gauge(metrics, "authorizer_sweep_clusters{state=\"private_access_disabled\"")).isEqualTo(1);
        assertThat(gauge(metrics, "authorizer_sweep_clusters{state=\"drifted\"")).isZero();
        assertThat(gauge(metrics, "authorizer_sweep_last_completed_timestamp_seconds"))
                .isGreaterThan(repaired.getEpochSecond());
        WorkerProcess other = workers.stream().filter(w -> w != leader).findFirst().get();
        assertThat(gauge(other.get("/q/metrics").body(), "authorizer_sweep_leader")).isZero();
        assertThat(gauge(other.get("/q/metrics").body(), "authorizer_sweep_clusters{state=\"authorized\""))
                .as("only the sweeper serves the tally").isZero();
    }

    @Test
    @Order(3)
    void aRepairForACredentialThatChangedOrWasDeauthorizedDoesNothing() throws Exception {
        // A verdict's version, then the console rotates the credential before the repair runs.
        String judged = credential(ownAdmin, HEALTHY).getMetadata().getResourceVersion();
        JsonNode rotated = console(HEALTHY, "ClusterCredentialRotationRequested", Map.of("grace", "PT0S"));
        assertThat(rotated.get("type").asText()).as(rotated.toString()).isEqualTo("CredentialRotated");
        String tokenAfterRotation = credential(ownAdmin, HEALTHY).getData().get("token");
        JsonNode stale = console(HEALTHY, "ClusterAuthorizationRequested",
                Map.of("trigger", "repair", "ifCredentialVersion", judged));
        assertThat(stale.get("type").asText()).as(stale.toString()).isEqualTo("AuthorizationSkipped");
        assertThat(stale.get("reason").asText()).isEqualTo("credential_changed");
        assertThat(credential(ownAdmin, HEALTHY).getData().get("token")).as("the skipped repair stored nothing")
                .isEqualTo(tokenAfterRotation);

        // The version a sweep recorded its verdict on; then the console deauthorizes before the repair runs.
        String seen = credential(ownAdmin, DRIFT).getMetadata().getResourceVersion();
        JsonNode gone = console(DRIFT, "ClusterDeauthorizationRequested", Map.of());
        assertThat(gone.get("type").asText()).as(gone.toString()).isEqualTo("Deauthorized");
        JsonNode repair = console(DRIFT, "ClusterAuthorizationRequested",
                Map.of("trigger", "repair", "ifCredentialVersion", seen));
        assertThat(repair.get("type").asText()).as(repair.toString()).isEqualTo("AuthorizationSkipped");
        assertThat(repair.get("reason").asText()).isEqualTo("credential_deleted");
        assertThat(repair.get("trigger").asText()).isEqualTo("repair");
        assertThat(credential(ownAdmin, DRIFT)).as("the deauthorize is not undone").isNull();
        assertThat(ownAdmin.serviceAccounts().inNamespace("kube-system").withName(ReservedResources.SERVICE_ACCOUNT)
                .get()).isNull();
    }

    @Test
    @Order(4)
    void whenTheSweeperDiesTheOtherReplicaTakesOverWithinTheLeaseDuration() throws Exception {
        WorkerProcess leader = awaitLeader(workers, Duration.ofSeconds(10));
        assertThat(workers.stream().filter(w -> gauge(w.get("/q/metrics").body(), "authorizer_sweep_leader") == 1))
                .as("exactly one sweeper").hasSize(1);
        String holder = lease().getSpec().getHolderIdentity();
        WorkerProcess other = workers.stream().filter(w -> w != leader).findFirst().get();

        long killed = System.nanoTime();
        leader.kill();
        workers.remove(leader);
        while (gauge(other.get("/q/metrics").body(), "authorizer_sweep_leader") != 1
                && System.nanoTime() - killed < Duration.ofSeconds(30).toNanos()) {
            Thread.sleep(100);
        }
        Duration took = Duration.ofNanos(System.nanoTime() - killed);
        assertThat(gauge(other.get("/q/metrics").body(), "authorizer_sweep_leader")).isEqualTo(1);
        // The Lease expires at most its duration after the last renewal; the candidate tries every retry period.
        // fabric8 jitters each try by up to 1.2 retry periods; 0.5 s for the metric to be read.
        assertThat(took).as("takeover after the kill").isLessThanOrEqualTo(LEASE.plus(LEASE_RETRY.multipliedBy(22)
                .dividedBy(10)).plusMillis(500));
        assertThat(lease().getSpec().getHolderIdentity()).isNotEqualTo(holder);
        System.out.printf("sweeper takeover after SIGKILL: %d ms (lease %ss)%n", took.toMillis(), LEASE.toSeconds());
    }

    @Test
    @Order(5)
    void theConsolesRequestsAreNotQueuedBehindASweepOfStalledClusters() throws Exception {
        // The killed sweeper's partitions move after session.timeout.ms: an answer first, so that only the sweep
        // could delay the measured one.
        assertThat(console(HEALTHY, "ClusterAuthorizationCheckRequested", Map.of()).get("type").asText())
                .isEqualTo("Authorized");
        for (int i = 0; i < STALLED; i++) {
            storeCredential("cls-stall-" + i, stalling.url());
        }
        // All six checks at once, as the sweeper sends them: more than the console's pool (4) has slots.
        String sweepId = "20261202T000000Z";
        for (int i = 0; i < STALLED; i++) {
            String cluster = "cls-stall-" + i;
            kafka.send(KafkaBroker.SWEEPS, cluster, JSON.writeValueAsBytes(JSON.createObjectNode()
                    .put("requestId", "sweep-" + sweepId + "-" + cluster).put("clusterId", cluster)
                    .put("trigger", "sweep")), List.of(Requests.header("ce_specversion", "1.0"),
                            Requests.header("ce_type", "ClusterAuthorizationCheckRequested"),
                            Requests.header("ce_id", "sweep-" + cluster), Requests.header("ce_source", "/test"),
                            Requests.header(SweepRequests.SWEEP_ID_HEADER, sweepId)));
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (checksStalled() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        Thread.sleep(1500);
        // Within the 5 s request timeout no stalled call has ended: what is held now is what the sweep may hold.
        assertThat(checksStalled()).as("checks held by the stalled API server: the sweep's own two slots, no more")
                .isEqualTo(2);

        // More stalled sweep checks than the console's pool has slots (4): a shared pool would be full.
        long sent = System.nanoTime();
        JsonNode answer = console(HEALTHY, "ClusterAuthorizationCheckRequested", Map.of());
        Duration took = Duration.ofNanos(System.nanoTime() - sent);
        assertThat(answer.get("type").asText()).as(answer.toString()).isEqualTo("Authorized");
        assertThat(took).as("a console check during the stalled sweep").isLessThan(Duration.ofSeconds(5));
        System.out.printf("console check during a sweep of %d stalled clusters: %d ms%n", STALLED, took.toMillis());
    }

    // ---------------------------------------------------------------------------------------------------------

    private static JsonNode console(String clusterId, String type, Map<String, String> extra) throws Exception {
        return request(kafka, workers.get(0), clusterId, type, extra);
    }

    /** Each check reads the reserved ServiceAccount once (beside other reads): one stalled read per check. */
    private static long checksStalled() {
        return stalling.stalled.stream().filter(r -> r.endsWith("/serviceaccounts/" + ReservedResources.SERVICE_ACCOUNT))
                .count();
    }

    /** The worker's directory: one context per cluster, private access of {@link #PRIVATE} on or off. */
    private static void writeDirectory(boolean privateAccess) throws Exception {
        StringBuilder kubeconfig = new StringBuilder("apiVersion: v1\nkind: Config\nclusters:\n");
        kubeconfig.append(cluster("own", own)).append(cluster("token", tokenKube)).append(cluster("healthy", healthyKube));
        kubeconfig.append("- name: private\n  cluster:\n").append(privateAccess ? "    server: " + healthyKube.server()
                + "\n    certificate-authority: " + healthyKube.caFile() + "\n" : "    {}\n");
        kubeconfig.append("- name: stall\n  cluster:\n    server: ").append(stalling.url()).append('\n');
        kubeconfig.append("users:\n").append(user("own", own.adminToken()))
                .append(user("token", tokenKube.adminToken())).append(user("healthy", healthyKube.adminToken()))
                .append("- name: stall\n  user:\n    token: not-used\n");
        kubeconfig.append("contexts:\n").append(context(DRIFT, "own", "own")).append(context(TOKEN, "token", "token"))
                .append(context(HEALTHY, "healthy", "healthy")).append(context(PRIVATE, "private", "healthy"));
        for (int i = 0; i < STALLED; i++) {
            kubeconfig.append(context("cls-stall-" + i, "stall", "stall"));
        }
        SweepHarness.writeAtomically(directory, kubeconfig.toString());
    }

    /** A stored credential of a cluster whose API server now stalls every call (written as the worker writes one). */
    private static void storeCredential(String clusterId, String server) {
        Base64.Encoder b64 = Base64.getEncoder();
        ownAdmin.secrets().inNamespace("apigw-system").resource(new SecretBuilder().withNewMetadata()
                .withName(CredentialStore.NAME_PREFIX + clusterId).withNamespace("apigw-system")
                .addToLabels(Marks.CLUSTER_ID, clusterId).endMetadata()
                .addToData("server", b64.encodeToString(server.getBytes(StandardCharsets.UTF_8)))
                .addToData("ca.crt", "")
                .addToData("token", b64.encodeToString("stored-token".getBytes(StandardCharsets.UTF_8)))
                .build()).create();
    }

    private static boolean awaitState(String clusterId, String state) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            Secret s = credential(ownAdmin, clusterId);
            if (s != null && state.equals(s.getMetadata().getAnnotations().get(Marks.SWEEP_STATE))) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }

    private static Lease lease() {
        return ownAdmin.leases().inNamespace("apigw-system").withName("apigw-tke-authorizer-sweeper").get();
    }

    /** Waits until one sweep has a verdict for each of the clusters; returns its id. */
    private static String awaitOneSweepOver(List<String> clusters) throws InterruptedException {
        long deadline = System.nanoTime() + INTERVAL.multipliedBy(3).toNanos();
        while (System.nanoTime() < deadline) {
            Set<String> ids = new HashSet<>();
            for (String c : clusters) {
                Secret s = credential(ownAdmin, c);
                ids.add(s == null || s.getMetadata().getAnnotations() == null ? ""
                        : s.getMetadata().getAnnotations().getOrDefault(Marks.SWEEP_ID, ""));
            }
            if (ids.size() == 1 && !ids.contains("")) {
                return ids.iterator().next();
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no sweep over " + clusters);
    }

    /**
     * For each cluster, its first result of {@code trigger} from a sweep later than {@code afterSweep} that
     * completed after {@code since}.
     */
    private static Map<String, JsonNode> sweepResults(String afterSweep, Instant since, String trigger,
            List<String> clusters) throws Exception {
        String after = afterSweep;
        Predicate<JsonNode> wanted = r -> {
            Matcher m = SWEEP_REQUEST.matcher(r.path("requestId").asText());
            return m.matches() && m.group(1).equals(trigger) && r.path("trigger").asText().equals(trigger)
                    && m.group(2).compareTo(afterSweep) > 0
                    && Instant.parse(r.path("completedAt").asText()).isAfter(since);
        };
        Map<String, JsonNode> first = new HashMap<>();
        long deadline = System.nanoTime() + INTERVAL.multipliedBy(3).toNanos();
        while (first.size() < clusters.size() && System.nanoTime() < deadline) {
            for (JsonNode r : results(kafka, wanted, Duration.ofSeconds(2))) {
                first.putIfAbsent(r.get("clusterId").asText(), r);
            }
            first.keySet().retainAll(clusters);
        }
        assertThat(first.keySet()).as("%s results after %s", trigger, after).containsExactlyInAnyOrderElementsOf(clusters);
        return first;
    }
}

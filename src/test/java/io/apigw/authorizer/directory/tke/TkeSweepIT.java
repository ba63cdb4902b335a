package io.apigw.authorizer.directory.tke;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import com.fasterxml.jackson.databind.JsonNode;

import io.apigw.authorizer.sweep.SweepHarness;
import io.apigw.authorizer.testing.FreePort;
import io.apigw.authorizer.testing.KafkaBroker;
import io.apigw.authorizer.testing.KafkaClients;
import io.apigw.authorizer.testing.LocalKube;
import io.apigw.authorizer.testing.WorkerProcess;
import io.apigw.authorizer.marks.Marks;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.awaitility.Awaitility;

/**
 * The sweep with the TKE directory, on real parts: a real kube-apiserver behind the TKE and STS stand-in (which names
 * it as the cluster's private endpoint), a real broker, the packaged worker with its own keys in its environment (as
 * a Deployment gives them) and no tenant keys: it assumes the role the tenant granted. A sweep asks TKE again in the
 * region and as the tenant the authorize recorded, and finds private access turned off in the cloud.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TkeSweepIT {

    private static final Duration INTERVAL = Duration.ofSeconds(10);
    private static final String CLUSTER = "cls-tkesweep1";
    private static final String APP_ID = "1250000000";
    private static final String REGION = "ap-guangzhou";
    private static final String OWNER_UIN = "100000000001";
    private static final String ROLE = "qcs::cam::uin/" + OWNER_UIN + ":roleName/APIGW_TKEAuthorizerRole";
    private static final String WORKER_ID = "AKIDsweepworker";
    private static final String WORKER_KEY = "sweep-worker-own-secret-key";
    /** Another tenant the worker serves: its role is granted, for a cluster of its own. */
    private static final String OTHER_APP_ID = "1250000003";
    private static final String OTHER_UIN = "100000000003";
    private static final String OTHER_ROLE = "qcs::cam::uin/" + OTHER_UIN + ":roleName/APIGW_TKEAuthorizerRole";

    static LocalKube kube;
    static KubernetesClient admin;
    static KafkaBroker broker;
    static KafkaClients kafka;
    static TkeStub stub;
    static WorkerProcess worker;

    @BeforeAll
    static void start() throws Exception {
        kube = LocalKube.start();
        admin = kube.adminClient();
        broker = KafkaBroker.start(FreePort.closed(), 4);
        kafka = new KafkaClients(broker.bootstrapServers());
        URI server = URI.create(kube.server());
        stub = TkeStub.start().stsCaller(WORKER_ID, WORKER_KEY).grantRole(ROLE, CLUSTER)
                .grantRole(OTHER_ROLE, "cls-tkeother");
        stub.endpointStatus("Created");
        stub.endpoints(server.getHost() + ":" + server.getPort(), Files.readString(kube.caFile()));
        stub.kubeconfig(TkeStub.tokenKubeconfig(kube.adminToken()));
        // One cluster is both the worker's own and the target: the reserved resources are kube-system's.
        Map<String, String> config = SweepHarness.workerConfig(broker.bootstrapServers(), kube, admin, INTERVAL);
        config.put("authorizer.directory.type", "tke");
        config.put("authorizer.directory.tke.endpoint", stub.endpoint());
        config.put("authorizer.directory.tke.protocol", "http");
        config.put("authorizer.directory.tke.require-tenant-credentials", "true");
        config.put("authorizer.directory.tke.assume-role.enabled", "true");
        config.put("authorizer.directory.tke.assume-role.endpoint", stub.endpoint());
        // A cached endpoint would hide the cloud's change from the next sweep for the cache's lifetime.
        config.put("authorizer.directory.tke.cache-ttl", "1s");
        worker = WorkerProcess.start("tke-sweep", config,
                Map.of("TENCENTCLOUD_SECRET_ID", WORKER_ID, "TENCENTCLOUD_SECRET_KEY", WORKER_KEY), List.of())
                .awaitReady(Duration.ofSeconds(90));
    }

    @AfterAll
    static void stop() {
        SweepHarness.closeAll(worker, kafka, broker, stub, admin, kube);
    }

    @Test
    @Order(1)
    void aSweepAsksTkeInTheRecordedRegionAsTheTenantThroughItsRole() throws Exception {
        JsonNode authorized = SweepHarness.request(kafka, worker, CLUSTER, "ClusterAuthorizationRequested",
                Map.of("appId", APP_ID, "ownerUin", OWNER_UIN));
        assertThat(authorized.get("type").asText()).as(authorized.toString()).isEqualTo("Authorized");
        assertThat(stub.actions()).as("the role assumed with the worker's own keys").contains(TkeStub.ASSUME_ROLE);
        assertThat(stub.calls()).filteredOn(c -> c.action().equals(TkeStub.ASSUME_ROLE))
                .allMatch(c -> c.signedWith(WORKER_ID, WORKER_KEY) && c.body().get("RoleArn").asText().equals(ROLE));
        assertThat(SweepHarness.credential(admin, CLUSTER).getMetadata().getAnnotations())
                .containsEntry(Marks.OWNER_UIN, OWNER_UIN);
        stub.forgetCalls();
        Instant after = Instant.now();

        JsonNode checked = checkStartedAfter(after);
        assertThat(checked.get("type").asText()).as(checked.toString()).isEqualTo("Authorized");
        assertThat(checked.get("region").asText()).isEqualTo(REGION);
        assertThat(stub.calls()).filteredOn(c -> !c.action().equals(TkeStub.ASSUME_ROLE))
                .as("the sweep's check asked TKE for the cluster").isNotEmpty().allSatisfy(call -> {
                    assertThat(call.body().get("ClusterId").asText()).isEqualTo(CLUSTER);
                    assertThat(call.header("X-TC-Region")).isEqualTo(REGION);
                    assertThat(stub.issued()).as("signed by keys issued for the tenant's role").anyMatch(k -> k
                            .roleArn().equals(ROLE) && call.signedWith(k.secretId(), k.secretKey())
                            && k.token().equals(call.header("X-TC-Token")));
                });
        String log = worker.log();
        assertThat(stub.issued()).isNotEmpty().allSatisfy(k -> assertThat(log).as("worker log")
                .doesNotContain(k.secretKey()).doesNotContain(k.token()));
        assertThat(log).doesNotContain(WORKER_KEY);
        assertThat(authorized.toString() + checked).doesNotContain(WORKER_KEY).doesNotContain("tmp-secret-key")
                .doesNotContain("tmp-session-token");
    }

    @Test
    @Order(2)
    void aTenantWhoHasNotGrantedTheRoleIsToldSo() throws Exception {
        JsonNode failed = SweepHarness.request(kafka, worker, "cls-tkenorole", "ClusterAuthorizationRequested",
                Map.of("appId", "1250000001", "ownerUin", "100000000002"));

        assertThat(failed.get("type").asText()).as(failed.toString()).isEqualTo("Failed");
        assertThat(failed.get("code").asText()).isEqualTo("PERMISSION_DENIED");
        assertThat(failed.get("message").asText()).contains("has not granted the role", "grant the role, then retry");
        assertThat(failed.get("attempts").asInt()).as("not retried by the worker").isEqualTo(1);
    }

    /**
     * Issue 26, G1: another tenant (served, its role granted for a cluster of its own), or a request without a tenant,
     * names A's cluster: each request is answered as for an unknown cluster, nothing in the cluster changes, and A's
     * gateway token still works. A's credential is watched meanwhile: every write to it (each new resourceVersion) is
     * the sweep's own verdict, which changes the verdict annotations and nothing else, and none is any request's.
     */
    @Test
    @Order(3)
    void anotherTenantsRequestsForTheClusterChangeNothingOfIt() throws Exception {
        Secret before = SweepHarness.credential(admin, CLUSTER);
        List<Secret> versions = new CopyOnWriteArrayList<>();
        Watch watch = admin.secrets().inNamespace(before.getMetadata().getNamespace())
                .withName(before.getMetadata().getName())
                .withResourceVersion(before.getMetadata().getResourceVersion())
                .watch(new Watcher<>() {
                    @Override
                    public void eventReceived(Action action, Secret secret) {
                        versions.add(action == Action.MODIFIED ? secret : null); // never added or deleted
                    }

                    @Override
                    public void onClose(WatcherException cause) {
                    }
                });
        String accountVersion = admin.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress").get()
                .getMetadata().getResourceVersion();
        List<String> tokenSecrets = tokenSecretVersions();

        for (Map<String, String> tenant : List.of(Map.of("appId", OTHER_APP_ID, "ownerUin", OTHER_UIN),
                Map.<String, String>of())) {
            for (String type : List.of("ClusterDeauthorizationRequested",
                    "ClusterAuthorizationCheckRequested", "ClusterCredentialRotationRequested",
                    "ClusterAuthorizationRequested")) {
                JsonNode answer = SweepHarness.request(kafka, worker, CLUSTER, type, tenant);
                assertThat(answer.get("type").asText()).as(type + " " + tenant + ": " + answer).isEqualTo("Failed");
                if (!tenant.isEmpty()) {
                    assertThat(answer.get("code").asText()).as(type + ": " + answer).isEqualTo("CLUSTER_NOT_FOUND");
                }
            }
        }

        Secret after = SweepHarness.credential(admin, CLUSTER);
        // Every write up to the one read now, whatever the sweep wrote since.
        String now = after.getMetadata().getResourceVersion();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> now.equals(before.getMetadata()
                .getResourceVersion()) || versions.stream().anyMatch(v -> v != null
                        && now.equals(v.getMetadata().getResourceVersion())));
        watch.close();
        assertThat(versions).as("A's credential was only ever modified").doesNotContainNull();
        Secret previous = before;
        for (Secret version : versions) {
            String write = "the write of resourceVersion " + version.getMetadata().getResourceVersion();
            assertThat(version.getData()).as(write + ": A's stored credential").isEqualTo(before.getData());
            assertThat(version.getMetadata().getLabels()).as(write + ": its labels")
                    .isEqualTo(before.getMetadata().getLabels());
            assertThat(withoutSweepVerdict(version)).as(write + ": only the sweep's verdict moved")
                    .isEqualTo(withoutSweepVerdict(previous));
            // A sweep's verdict: of this sweep or a later one (a check sent again writes its sweep's verdict again).
            assertThat(version.getMetadata().getAnnotations().get(Marks.SWEEP_ID)).as(write + ": a sweep's")
                    .isNotNull().isGreaterThanOrEqualTo(Optional.ofNullable(previous.getMetadata().getAnnotations()
                            .get(Marks.SWEEP_ID)).orElse(""));
            previous = version;
        }
        assertThat(admin.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress").get().getMetadata()
                .getResourceVersion()).isEqualTo(accountVersion);
        assertThat(tokenSecretVersions()).isEqualTo(tokenSecrets);
        try (KubernetesClient asGateway = SweepHarness.gatewayClient(admin, CLUSTER)) {
            assertThat(asGateway.services().inAnyNamespace().list().getItems()).as("A's gateway token works")
                    .isNotEmpty();
        }
    }

    private static Map<String, String> withoutSweepVerdict(Secret s) {
        Map<String, String> a = new TreeMap<>(s.getMetadata().getAnnotations());
        a.keySet().removeAll(Set.of(Marks.SWEEP_ID, Marks.SWEEP_STATE,
                Marks.CHECKED_AT, Marks.VERIFIED_AT));
        return a;
    }

    /** kube-system's reserved token Secrets, each as name and resourceVersion. */
    private static List<String> tokenSecretVersions() {
        return admin.secrets().inNamespace("kube-system").list().getItems().stream()
                .filter(x -> x.getMetadata().getName().startsWith("apigw-ingress-token-"))
                .map(x -> x.getMetadata().getName() + "@" + x.getMetadata().getResourceVersion()).sorted().toList();
    }

    @Test
    @Order(4)
    void privateAccessTurnedOffInTheCloudIsFoundByTheNextSweep() throws Exception {
        stub.endpointStatus("NotFound");
        Instant off = Instant.now();

        JsonNode found = checkStartedAfter(off);
        assertThat(found.get("type").asText()).as(found.toString()).isEqualTo("PrivateAccessDisabled");
        long deadline = System.nanoTime() + INTERVAL.toNanos();
        String state = null;
        while (System.nanoTime() < deadline && !"private_access_disabled".equals(state)) {
            state = SweepHarness.credential(admin, CLUSTER).getMetadata().getAnnotations()
                    .get(Marks.SWEEP_STATE);
            Thread.sleep(200);
        }
        assertThat(state).isEqualTo("private_access_disabled");
        assertThat(SweepHarness.credential(admin, CLUSTER).getData()).as("a sweep is read-only: the credential stays")
                .containsKey("token");
    }

    /**
     * The result of a sweep check that began after {@code since}. The first result after it may be of a check that was
     * already running then (it asked TKE before); one cluster's checks run one at a time, so the one after that began
     * after it.
     */
    private static JsonNode checkStartedAfter(Instant since) throws Exception {
        JsonNode inFlight = SweepHarness.firstResult(kafka, worker, "sweep", CLUSTER, since, INTERVAL.multipliedBy(4));
        return SweepHarness.firstResult(kafka, worker, "sweep", CLUSTER,
                Instant.parse(inFlight.get("completedAt").asText()), INTERVAL.multipliedBy(4));
    }
}

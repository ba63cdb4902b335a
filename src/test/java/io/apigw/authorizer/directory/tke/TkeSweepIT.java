package io.apigw.authorizer.directory.tke;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import com.fasterxml.jackson.databind.JsonNode;

import io.apigw.authorizer.credential.CredentialStore;
import io.apigw.authorizer.sweep.SweepHarness;
import io.apigw.authorizer.testing.FreePort;
import io.apigw.authorizer.testing.KafkaBroker;
import io.apigw.authorizer.testing.KafkaClients;
import io.apigw.authorizer.testing.LocalKube;
import io.apigw.authorizer.testing.WorkerProcess;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * The sweep with the TKE directory, on real parts: a real kube-apiserver behind the TKE stand-in (which names it as
 * the cluster's private endpoint), a real broker, the packaged worker with a tenant's keys. A sweep asks TKE again in
 * the region and as the tenant the authorize recorded, and finds private access turned off in the cloud.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TkeSweepIT {

    private static final Duration INTERVAL = Duration.ofSeconds(10);
    private static final String CLUSTER = "cls-tkesweep1";
    private static final String APP_ID = "1250000000";
    private static final String REGION = "ap-guangzhou";
    private static final String SECRET_ID = "AKIDsweeptenant";
    private static final String SECRET_KEY = "sweep-tenant-secret-key";

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
        stub = TkeStub.start();
        stub.endpointStatus("Created");
        stub.endpoints(server.getHost() + ":" + server.getPort(), Files.readString(kube.caFile()));
        stub.kubeconfig(TkeStub.tokenKubeconfig(kube.adminToken()));
        // One cluster is both the worker's own and the target: the reserved resources are kube-system's.
        Map<String, String> config = SweepHarness.workerConfig(broker.bootstrapServers(), kube, admin, INTERVAL);
        config.put("authorizer.directory.type", "tke");
        config.put("authorizer.directory.tke.endpoint", stub.endpoint());
        config.put("authorizer.directory.tke.protocol", "http");
        config.put("authorizer.directory.tke.require-tenant-credentials", "true");
        config.put("authorizer.directory.tke.tenants." + APP_ID + ".secret-id", SECRET_ID);
        config.put("authorizer.directory.tke.tenants." + APP_ID + ".secret-key", SECRET_KEY);
        // A cached endpoint would hide the cloud's change from the next sweep for the cache's lifetime.
        config.put("authorizer.directory.tke.cache-ttl", "1s");
        worker = WorkerProcess.start("tke-sweep", config).awaitReady(Duration.ofSeconds(90));
    }

    @AfterAll
    static void stop() {
        SweepHarness.closeAll(worker, kafka, broker, stub, admin, kube);
    }

    @Test
    @Order(1)
    void aSweepAsksTkeInTheRecordedRegionAsTheTenant() throws Exception {
        JsonNode authorized = SweepHarness.request(kafka, worker, CLUSTER, "ClusterAuthorizationRequested",
                Map.of("appId", APP_ID));
        assertThat(authorized.get("type").asText()).as(authorized.toString()).isEqualTo("Authorized");
        Instant after = Instant.now();
        stub.forgetCalls();

        JsonNode checked = sweepResult(after);
        assertThat(checked.get("type").asText()).as(checked.toString()).isEqualTo("Authorized");
        assertThat(checked.get("region").asText()).isEqualTo(REGION);
        assertThat(stub.calls()).as("the sweep's check asked TKE for the cluster").isNotEmpty()
                .allSatisfy(call -> {
                    assertThat(call.body().get("ClusterId").asText()).isEqualTo(CLUSTER);
                    assertThat(call.header("X-TC-Region")).isEqualTo(REGION);
                    assertThat(call.signedWith(SECRET_ID, SECRET_KEY)).as("signed by the tenant's keys").isTrue();
                });
    }

    @Test
    @Order(2)
    void privateAccessTurnedOffInTheCloudIsFoundByTheNextSweep() throws Exception {
        stub.endpointStatus("NotFound");
        Instant off = Instant.now();

        JsonNode found = sweepResult(off);
        assertThat(found.get("type").asText()).as(found.toString()).isEqualTo("PrivateAccessDisabled");
        long deadline = System.nanoTime() + INTERVAL.toNanos();
        String state = null;
        while (System.nanoTime() < deadline && !"private_access_disabled".equals(state)) {
            state = SweepHarness.credential(admin, CLUSTER).getMetadata().getAnnotations()
                    .get(CredentialStore.SWEEP_STATE_ANNOTATION);
            Thread.sleep(200);
        }
        assertThat(state).isEqualTo("private_access_disabled");
        assertThat(SweepHarness.credential(admin, CLUSTER).getData()).as("a sweep is read-only: the credential stays")
                .containsKey("token");
    }

    /** The cluster's first sweep result completed after {@code since}. */
    private static JsonNode sweepResult(Instant since) throws Exception {
        return SweepHarness.firstResult(kafka, worker, "sweep", CLUSTER, since, INTERVAL.multipliedBy(4));
    }
}

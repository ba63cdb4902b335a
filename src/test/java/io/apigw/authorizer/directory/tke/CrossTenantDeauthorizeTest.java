package io.apigw.authorizer.directory.tke;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;

import jakarta.enterprise.inject.Any;
import jakarta.inject.Inject;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.apigw.authorizer.testing.InMemoryChannels;
import io.apigw.authorizer.testing.Requests;
import io.apigw.authorizer.testing.Requests.Published;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import io.smallrye.reactive.messaging.memory.InMemoryConnector;

/**
 * Issue 26, G1 (the security review's test, its assertions kept): with the tke directory, a cluster that cannot be
 * found is exactly what another tenant's cluster looks like (TKE answers ResourceNotFound for a cluster outside the
 * signing account; an appId the worker does not serve gets the same). A deauthorize naming such a cluster must not
 * delete the stored credential of the tenant that authorized it, nor tell the requester that one exists.
 */
@QuarkusTest
@WithKubernetesTestServer
@QuarkusTestResource(value = InMemoryChannels.class, restrictToAnnotatedClass = true)
@TestProfile(TkeWorkerFlowTest.Tke.class)
class CrossTenantDeauthorizeTest {

    static final String VICTIM_APP_ID = "1251111111";

    @Inject
    @Any
    InMemoryConnector connector;

    @Inject
    KubernetesClient ownCluster;

    Requests requests;
    TkeStub stub;

    @BeforeEach
    void setUp() {
        requests = new Requests(connector);
        stub = TkeStubResource.stub;
        stub.healthyCluster();
        stub.forgetCalls();
    }

    /** What tenant A's earlier authorize left in the gateway's own cluster. */
    private void seedVictimCredential(String clusterId) {
        seedCredential(clusterId, VICTIM_APP_ID);
    }

    private void seedCredential(String clusterId, String appId) {
        ownCluster.secrets().inNamespace("apigw-system").resource(new SecretBuilder().withNewMetadata()
                .withNamespace("apigw-system").withName("apigw-cluster-" + clusterId)
                .withLabels(Map.of("apigw.tencent.com/cluster-id", clusterId,
                        "app.kubernetes.io/managed-by", "apigw-tke-authorizer"))
                .withAnnotations(Map.of("apigw.tencent.com/app-id", appId,
                        "apigw.tencent.com/region", "ap-shanghai"))
                .endMetadata().withType("Opaque")
                .withData(Map.of("server", b64("https://10.0.0.99"), "ca.crt", b64(TkeStub.CA_PEM),
                        "token", b64("victim-gateway-token")))
                .build()).create();
    }

    private Secret stored(String clusterId) {
        return ownCluster.secrets().inNamespace("apigw-system").withName("apigw-cluster-" + clusterId).get();
    }

    private Published deauthorize(String clusterId, String appId) {
        String requestId = "req-" + UUID.randomUUID();
        requests.sendBinary(clusterId, "{\"requestId\":\"" + requestId + "\",\"clusterId\":\"" + clusterId
                + "\",\"region\":\"ap-shanghai\",\"appId\":\"" + appId + "\"}", "ClusterDeauthorizationRequested");
        return requests.awaitResult(requestId);
    }

    @Test
    void aServedTenantNamingAnotherTenantsClusterCannotDeleteThatTenantsStoredCredential() {
        String victim = "cls-victim01";
        seedVictimCredential(victim);
        // The configured tenant's keys sign the lookup; TKE does not know the victim's cluster in that account.
        stub.error(TkeStub.STATUS, "ResourceNotFound.ClusterNotFound", "cluster not found");

        Published result = deauthorize(victim, TkeWorkerFlowTest.APP_ID);

        assertThat(result.header("ce_type")).isEqualTo("Failed");
        assertThat(result.body().get("code").asText()).isEqualTo("CLUSTER_NOT_FOUND");
        assertThat(result.body().toString()).doesNotContain(VICTIM_APP_ID).doesNotContain("apigw-cluster-");
        assertThat(stored(victim)).as("tenant %s's stored credential after a deauthorize by tenant %s",
                VICTIM_APP_ID, TkeWorkerFlowTest.APP_ID).isNotNull();
    }

    @Test
    void aRequestWithAnAppIdTheWorkerDoesNotServeCannotDeleteAStoredCredential() {
        String victim = "cls-victim02";
        seedVictimCredential(victim);

        Published result = deauthorize(victim, "1259999999");

        assertThat(result.header("ce_type")).isEqualTo("Failed");
        assertThat(result.body().get("code").asText()).isEqualTo("CLUSTER_NOT_FOUND");
        assertThat(stub.calls()).as("cloud calls for an appId the worker does not serve").isEmpty();
        assertThat(stored(victim)).as("stored credential after a deauthorize naming an unserved appId").isNotNull();
    }

    @Test
    void aRequestWithoutAnAppIdCannotDeleteAStoredCredential() {
        String victim = "cls-victim03";
        seedVictimCredential(victim);
        String before = stored(victim).getMetadata().getResourceVersion();
        String requestId = "req-" + UUID.randomUUID();
        requests.sendBinary(victim, "{\"requestId\":\"" + requestId + "\",\"clusterId\":\"" + victim
                + "\",\"region\":\"ap-shanghai\"}", "ClusterDeauthorizationRequested");

        Published result = requests.awaitResult(requestId);

        assertThat(result.header("ce_type")).isEqualTo("Failed");
        assertThat(result.body().get("code").asText()).isEqualTo("CLUSTER_NOT_FOUND");
        assertThat(stored(victim).getMetadata().getResourceVersion()).isEqualTo(before);
    }

    @Test
    void theTenantsOwnDeauthorizeOfAClusterTkeNoLongerKnowsRemovesItsStoredCredential() {
        String gone = "cls-gone01";
        seedCredential(gone, TkeWorkerFlowTest.APP_ID);
        stub.error(TkeStub.STATUS, "ResourceNotFound.ClusterNotFound", "cluster not found");

        Published result = deauthorize(gone, TkeWorkerFlowTest.APP_ID);

        assertThat(result.header("ce_type")).isEqualTo("Deauthorized");
        assertThat(stored(gone)).as("the stored credential after its own tenant's deauthorize").isNull();
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }
}

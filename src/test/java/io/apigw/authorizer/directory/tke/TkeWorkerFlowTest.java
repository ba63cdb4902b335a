package io.apigw.authorizer.directory.tke;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import jakarta.enterprise.inject.Any;
import jakarta.inject.Inject;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.apigw.authorizer.testing.InMemoryChannels;
import io.apigw.authorizer.testing.Requests.Published;
import io.apigw.authorizer.testing.Requests;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import io.smallrye.reactive.messaging.memory.InMemoryConnector;

/**
 * The whole worker with {@code authorizer.directory.type=tke}, record in to result out, against the TKE stand-in.
 * Tenant keys are required here, so the configured tenant's keys must sign every call.
 */
@QuarkusTest
@WithKubernetesTestServer
@QuarkusTestResource(value = InMemoryChannels.class, restrictToAnnotatedClass = true)
@TestProfile(TkeWorkerFlowTest.Tke.class)
class TkeWorkerFlowTest {

    static final String APP_ID = "1250000000";
    static final String SECRET_ID = "AKIDflowtenant";
    static final String SECRET_KEY = "flow-tenant-secret-key";

    public static class Tke implements QuarkusTestProfile {

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("authorizer.directory.type", "tke",
                    "authorizer.directory.tke.require-tenant-credentials", "true",
                    "authorizer.directory.tke.tenants." + APP_ID + ".secret-id", SECRET_ID,
                    "authorizer.directory.tke.tenants." + APP_ID + ".secret-key", SECRET_KEY,
                    "authorizer.directory.tke.connect-timeout", "1s",
                    "authorizer.directory.tke.read-timeout", "2s");
        }

        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(TkeStubResource.class));
        }
    }

    @Inject
    @Any
    InMemoryConnector connector;

    Requests requests;
    TkeStub stub;

    @BeforeEach
    void setUp() {
        requests = new Requests(connector);
        stub = TkeStubResource.stub;
        stub.healthyCluster();
        stub.forgetCalls();
    }

    private Published authorize(String clusterId, String appId) {
        String requestId = "req-" + UUID.randomUUID();
        requests.sendBinary(clusterId, "{\"requestId\":\"" + requestId + "\",\"clusterId\":\"" + clusterId
                + "\",\"region\":\"ap-shanghai\",\"appId\":\"" + appId + "\"}");
        return requests.awaitResult(requestId);
    }

    @Test
    void privateEndpointOffIsPrivateAccessDisabled() {
        stub.endpointStatus("NotFound");

        Published result = authorize("cls-flowoff1", APP_ID);

        assertThat(result.header("ce_type")).isEqualTo("PrivateAccessDisabled");
        assertThat(result.body().get("retryable").asBoolean()).isTrue();
        assertThat(result.body().get("attempts").asInt()).isEqualTo(1);
        assertThat(result.body().get("region").asText()).isEqualTo("ap-shanghai");
        assertThat(stub.calls()).singleElement().satisfies(call -> {
            assertThat(call.action()).isEqualTo(TkeStub.STATUS);
            assertThat(call.signedWith(SECRET_ID, SECRET_KEY)).isTrue();
            assertThat(call.header("X-TC-Region")).isEqualTo("ap-shanghai");
            assertThat(call.body().get("ClusterId").asText()).isEqualTo("cls-flowoff1");
        });
    }

    @Test
    void unknownClusterIsFailedClusterNotFoundWithTheCloudRequestId() {
        String cloudRequestId = stub.error(TkeStub.STATUS, "ResourceNotFound.ClusterNotFound", "cluster not found");

        Published result = authorize("cls-nosuch1", APP_ID);

        assertThat(result.header("ce_type")).isEqualTo("Failed");
        assertThat(result.body().get("code").asText()).isEqualTo("CLUSTER_NOT_FOUND");
        assertThat(result.body().get("retryable").asBoolean()).isFalse();
        assertThat(result.body().get("attempts").asInt()).isEqualTo(1);
        assertThat(result.body().get("message").asText()).contains(cloudRequestId);
    }

    @Test
    void tenantWithoutKeysIsClusterNotFoundWithoutAnyCloudCall() {
        Published result = authorize("cls-othertenant", "1259999999");

        assertThat(result.body().get("code").asText()).isEqualTo("CLUSTER_NOT_FOUND");
        assertThat(stub.calls()).isEmpty();
    }

    @Test
    void endpointBeingCreatedIsRetriedThenFailedRetryable() {
        stub.endpointStatus("Creating");

        Published result = authorize("cls-creating1", APP_ID);

        assertThat(result.body().get("code").asText()).isEqualTo("API_SERVER_UNREACHABLE");
        assertThat(result.body().get("retryable").asBoolean()).isTrue();
        assertThat(result.body().get("attempts").asInt()).isEqualTo(3);
        assertThat(stub.calls()).hasSize(3);
    }
}

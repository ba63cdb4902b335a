package io.apigw.authorizer.contract;

import static io.apigw.authorizer.contract.ContractCheck.data;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.UUID;

import jakarta.enterprise.inject.Any;
import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.apigw.authorizer.testing.InMemoryChannels;
import io.apigw.authorizer.testing.Requests;
import io.apigw.authorizer.testing.TargetCluster;
import io.apigw.authorizer.testing.TargetCluster.TokenController;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import io.smallrye.reactive.messaging.memory.InMemoryConnector;

/**
 * Contract section 8 (v1.1) through the real worker: check and deauthorize requests, checked against the shipped
 * contract before they are sent, and their NotAuthorized / Authorized / Deauthorized results checked after.
 */
@QuarkusTest
@WithKubernetesTestServer
@QuarkusTestResource(value = InMemoryChannels.class, restrictToAnnotatedClass = true)
class ContractLifecycleTest {

    private static final String AUTHORIZE = "ClusterAuthorizationRequested";
    private static final String CHECK = "ClusterAuthorizationCheckRequested";
    private static final String DEAUTHORIZE = "ClusterDeauthorizationRequested";

    @Inject
    @Any
    InMemoryConnector connector;

    ContractCheck contract;
    TargetCluster cluster;

    @BeforeEach
    void setUp() {
        contract = new ContractCheck(connector, new Requests(connector));
    }

    @AfterEach
    void everythingPublishedConforms() {
        if (cluster != null) {
            cluster.close();
        }
        contract.assertEverythingPublishedConforms();
    }

    @Test
    void checkAuthorizeCheckDeauthorizeDeauthorizeCheckConform() {
        cluster = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY);
        String id = cluster.clusterId;

        JsonNode before = contract.answer(send(CHECK, id), "NotAuthorized");
        assertThat(before.path("missing")).hasSize(4);
        assertThat(before.path("credentialValid").asBoolean()).isFalse();

        contract.answer(send(AUTHORIZE, id), "Authorized");
        JsonNode authorized = contract.answer(send(CHECK, id), "Authorized");
        assertThat(authorized.path("alreadyAuthorized").asBoolean()).isTrue();

        JsonNode removed = contract.answer(send(DEAUTHORIZE, id), "Deauthorized");
        assertThat(removed.path("resources").findValuesAsText("action")).contains("deleted");
        JsonNode again = contract.answer(send(DEAUTHORIZE, id), "Deauthorized");
        assertThat(again.path("resources").findValuesAsText("action")).containsOnly("absent");

        JsonNode after = contract.answer(send(CHECK, id), "NotAuthorized");
        assertThat(after.path("missing")).isNotEmpty();
    }

    @Test
    void checkOfAnUnknownClusterIsFailedAndDeauthorizeIncompleteConforming() {
        String id = "cls-nosuch" + UUID.randomUUID().toString().substring(0, 4);

        assertThat(contract.answer(send(CHECK, id), "Failed").path("code").asText()).isEqualTo("CLUSTER_NOT_FOUND");
        JsonNode deauthorized = contract.answer(send(DEAUTHORIZE, id), "Deauthorized");
        assertThat(deauthorized.path("complete").asBoolean(true)).isFalse();
        assertThat(deauthorized.path("retryable").asBoolean(true)).isFalse();
    }

    @Test
    void deauthorizeOfAClusterWithoutPrivateAccessConforms() {
        JsonNode deauthorized = contract.answer(send(DEAUTHORIZE, TargetCluster.registerWithoutPrivateEndpoint()),
                "Deauthorized");
        assertThat(deauthorized.path("retryable").asBoolean(false)).isTrue();
    }

    @Test
    void checkOfAClusterWithoutPrivateAccessConforms() {
        String id = TargetCluster.registerWithoutPrivateEndpoint();

        contract.answer(send(CHECK, id), "PrivateAccessDisabled");
    }

    private String send(String type, String clusterId) {
        return contract.send(type, clusterId, data(clusterId, ""));
    }
}

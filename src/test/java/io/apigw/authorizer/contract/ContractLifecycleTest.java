package io.apigw.authorizer.contract;

import static io.apigw.authorizer.testing.Requests.header;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

import jakarta.enterprise.inject.Any;
import jakarta.inject.Inject;

import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.apigw.authorizer.contract.ContractCheck.Record;
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

    Requests requests;
    ContractCheck contract;
    TargetCluster cluster;

    @BeforeEach
    void setUp() {
        requests = new Requests(connector);
        contract = new ContractCheck(connector);
    }

    @AfterEach
    void everythingPublishedConforms() {
        if (cluster != null) {
            cluster.close();
        }
        List<Record> results = contract.results();
        assertThat(results).isNotEmpty();
        results.forEach(contract::assertResultConforms);
        contract.deadLetters().forEach(contract::assertDeadLetterConforms);
    }

    @Test
    void checkAuthorizeCheckDeauthorizeDeauthorizeCheckConform() {
        cluster = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY);
        String id = cluster.clusterId;

        JsonNode before = answer(send(CHECK, id), "NotAuthorized");
        assertThat(before.path("missing")).hasSize(4);
        assertThat(before.path("credentialValid").asBoolean()).isFalse();

        answer(send(AUTHORIZE, id), "Authorized");
        JsonNode authorized = answer(send(CHECK, id), "Authorized");
        assertThat(authorized.path("alreadyAuthorized").asBoolean()).isTrue();

        JsonNode removed = answer(send(DEAUTHORIZE, id), "Deauthorized");
        assertThat(removed.path("resources").findValuesAsText("action")).contains("deleted");
        JsonNode again = answer(send(DEAUTHORIZE, id), "Deauthorized");
        assertThat(again.path("resources").findValuesAsText("action")).containsOnly("absent");

        JsonNode after = answer(send(CHECK, id), "NotAuthorized");
        assertThat(after.path("missing")).isNotEmpty();
    }

    @Test
    void checkAndDeauthorizeOfAnUnknownClusterAreFailedConforming() {
        String id = "cls-nosuch" + UUID.randomUUID().toString().substring(0, 4);

        assertThat(answer(send(CHECK, id), "Failed").path("code").asText()).isEqualTo("CLUSTER_NOT_FOUND");
        assertThat(answer(send(DEAUTHORIZE, id), "Failed").path("code").asText()).isEqualTo("CLUSTER_NOT_FOUND");
    }

    @Test
    void checkOfAClusterWithoutPrivateAccessConforms() {
        String id = TargetCluster.registerWithoutPrivateEndpoint();

        answer(send(CHECK, id), "PrivateAccessDisabled");
    }

    /** Sends a binary-mode request after checking it against the contract; returns its requestId. */
    private String send(String type, String clusterId) {
        String requestId = "req-" + UUID.randomUUID();
        String data = "{\"requestId\":\"" + requestId + "\",\"clusterId\":\"" + clusterId
                + "\",\"region\":\"ap-guangzhou\"}";
        List<Header> headers = List.of(header("ce_specversion", "1.0"), header("ce_type", type),
                header("ce_id", "evt-" + UUID.randomUUID()), header("ce_source", "/apigw/console"),
                header("ce_subject", clusterId), header("ce_time", Instant.now().toString()),
                header("content-type", "application/json"));
        contract.assertRequestConforms(type, clusterId, headers, data);
        requests.send(clusterId, data.getBytes(StandardCharsets.UTF_8), headers);
        return requestId;
    }

    private JsonNode answer(String requestId, String expectedType) {
        requests.awaitResult(requestId);
        Record result = contract.resultOf(requestId);
        JsonNode body = contract.assertResultConforms(result);
        assertThat(result.header("ce_type")).as(result.value()).isEqualTo(expectedType);
        return body;
    }
}

package io.apigw.authorizer.contract;

import static io.apigw.authorizer.contract.ContractCheck.data;
import static io.apigw.authorizer.contract.ContractCheck.headers;
import static io.apigw.authorizer.testing.Requests.header;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
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
 * The real worker, driven through the in-memory connector against fabric8 mock API servers: every request these
 * tests send is checked against the shipped contract before it is sent, and every result and dead letter the worker
 * publishes is checked against it (headers, key, value) after each test.
 */
@QuarkusTest
@WithKubernetesTestServer
@QuarkusTestResource(value = InMemoryChannels.class, restrictToAnnotatedClass = true)
class ContractFlowTest {

    private static final String AUTHORIZE = "ClusterAuthorizationRequested";

    @Inject
    @Any
    InMemoryConnector connector;

    Requests requests;
    ContractCheck contract;
    TargetCluster cluster;

    @BeforeEach
    void setUp() {
        requests = new Requests(connector);
        contract = new ContractCheck(connector, requests);
    }

    @AfterEach
    void everythingPublishedConforms() {
        if (cluster != null) {
            cluster.close();
        }
        contract.assertEverythingPublishedConforms();
    }

    @Test
    void authorizedFreshThenRepeatConform() {
        cluster = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY);

        JsonNode fresh = contract.answer(contract.send(AUTHORIZE, cluster.clusterId, data(cluster.clusterId,
                ",\"appId\":\"1250000000\",\"requestedBy\":\"100000000002\"")), "Authorized");
        assertThat(fresh.path("alreadyAuthorized").asBoolean()).isFalse();
        assertThat(fresh.path("attempts").asInt()).isEqualTo(1);
        assertThat(fresh.path("region").asText()).isEqualTo("ap-guangzhou");

        // Numeric ids and a field the contract does not know: the schema accepts them, so must the worker.
        JsonNode repeat = contract.answer(contract.send(AUTHORIZE, cluster.clusterId, data(cluster.clusterId,
                ",\"appId\":1250000000,\"requestedBy\":100000000002,\"console\":{\"tab\":\"clusters\"}")),
                "Authorized");
        assertThat(repeat.path("alreadyAuthorized").asBoolean()).isTrue();
        assertThat(repeat.path("tokenSecret").asText()).isEqualTo(fresh.path("tokenSecret").asText());
    }

    @Test
    void authorizedOnAClusterBefore124Conforms() {
        cluster = TargetCluster.start("v1.20.2", TokenController.AUTO_CREATE);

        JsonNode body = contract.answer(contract.send(AUTHORIZE, cluster.clusterId, data(cluster.clusterId, "")),
                "Authorized");

        assertThat(body.path("kubernetesVersion").asText()).isEqualTo("v1.20.2");
    }

    @Test
    void privateAccessDisabledConforms() {
        String clusterId = TargetCluster.registerWithoutPrivateEndpoint();

        JsonNode body = contract.answer(contract.send(AUTHORIZE, clusterId, data(clusterId, "")),
                "PrivateAccessDisabled");

        assertThat(body.path("retryable").asBoolean()).isTrue();
    }

    @Test
    void clusterNotFoundConforms() {
        String clusterId = "cls-nosuch" + UUID.randomUUID().toString().substring(0, 4);

        JsonNode body = contract.answer(contract.send(AUTHORIZE, clusterId, data(clusterId, "")), "Failed");

        assertThat(body.path("code").asText()).isEqualTo("CLUSTER_NOT_FOUND");
        assertThat(body.path("retryable").asBoolean()).isFalse();
    }

    @Test
    void apiServerUnreachableConforms() {
        String clusterId = TargetCluster.registerUnreachable();

        JsonNode body = contract.answer(contract.send(AUTHORIZE, clusterId, data(clusterId, "")), "Failed");

        assertThat(body.path("code").asText()).isEqualTo("API_SERVER_UNREACHABLE");
        assertThat(body.path("attempts").asInt()).isEqualTo(3);
    }

    @Test
    void invalidRequestIsRefusedByTheSchemaAndAnsweredWithAConformingFailed() {
        String requestId = "req-" + UUID.randomUUID();
        String data = "{\"requestId\":\"" + requestId + "\",\"clusterId\":\"cls-x\",\"region\":\"Guangzhou\"}";
        // Schema and worker agree: this request breaks section 3.
        assertThat(contract.requestDataViolations(data)).isNotEmpty();
        requests.send("cls-x", bytes(data), headers(AUTHORIZE, "cls-x"));

        JsonNode body = contract.answer(requestId, "Failed");

        assertThat(body.path("code").asText()).isEqualTo("INVALID_REQUEST");
        assertThat(body.path("attempts").asInt()).isZero();
        assertThat(body.path("retryable").asBoolean()).isFalse();
        assertThat(body.has("region")).as("an invalid region is not echoed").isFalse();
    }

    @Test
    void unknownEventTypeIsDeadLetteredAndAnsweredConforming() {
        String requestId = "req-" + UUID.randomUUID();
        String data = "{\"requestId\":\"" + requestId + "\",\"clusterId\":\"cls-y\"}";
        List<Header> headers = headers("ClusterAuthorizationFrobnicated", "cls-y");
        assertThat(Contract.violations(Contract.load().headerSchema(AUTHORIZE),
                new Record(data, headers, "cls-y").headerObject())).isNotEmpty();
        requests.send("cls-y", bytes(data), headers);

        JsonNode body = contract.answer(requestId, "Failed");

        assertThat(body.path("code").asText()).isEqualTo("INVALID_REQUEST");
        Record dead = contract.deadLetters().stream().filter(d -> "cls-y".equals(d.key())).findFirst().orElseThrow();
        assertThat(dead.value()).isEqualTo(data);
        assertThat(dead.header("ce_type")).isEqualTo("ClusterAuthorizationFrobnicated");
        assertThat(dead.header("dead-letter-reason")).contains("unknown event type");
        assertThat(dead.header("dead-letter-topic")).isEqualTo("apigw.tke-authorization.requests");
    }

    /** Contract section 4: a readable request whose ids break their patterns still gets its answer, with them as sent. */
    @Test
    void idsThatBreakTheirPatternsAreEchoedInAConformingFailedAndTheRecordIsDeadLettered() {
        String requestId = "req " + UUID.randomUUID() + "/" + "x".repeat(200);
        String clusterId = "../../etc/Cls_" + UUID.randomUUID().toString().substring(0, 8);
        String data = "{\"requestId\":\"" + requestId + "\",\"clusterId\":\"" + clusterId + "\"}";
        assertThat(contract.requestDataViolations(data)).isNotEmpty();
        requests.sendBinary(clusterId, data);

        JsonNode body = contract.answer(requestId, "Failed");

        assertThat(body.path("code").asText()).isEqualTo("INVALID_REQUEST");
        assertThat(body.path("clusterId").asText()).isEqualTo(clusterId);
        assertThat(body.path("retryable").asBoolean()).isFalse();
        Record dead = contract.deadLetters().stream().filter(d -> clusterId.equals(d.key())).findFirst().orElseThrow();
        assertThat(dead.value()).isEqualTo(data);
        assertThat(dead.header("dead-letter-reason")).startsWith("requestId must be");
    }

    @Test
    void anIdTooLongToEchoLeavesOnlyTheDeadLetter() {
        String requestId = "req-" + UUID.randomUUID();
        String clusterId = "c".repeat(1025);
        requests.send(clusterId, bytes("{\"requestId\":\"" + requestId + "\",\"clusterId\":\"" + clusterId + "\"}"),
                List.of());
        String control = contract.send(AUTHORIZE, "cls-nosuch", data("cls-nosuch", ""));
        contract.answer(control, "Failed");

        assertThat(contract.deadLetters()).anyMatch(d -> clusterId.equals(d.key())
                && d.header("dead-letter-reason").startsWith("clusterId must be a DNS label"));
        assertThat(contract.results()).noneMatch(r -> r.value().contains(requestId));
    }

    @Test
    void bareAndStructuredRequestsAreReadAsTheSameDataAndAnsweredConforming() {
        String clusterId = TargetCluster.registerWithoutPrivateEndpoint();

        String bareId = "req-" + UUID.randomUUID();
        String bare = "{\"requestId\":\"" + bareId + "\",\"clusterId\":\"" + clusterId + "\"}";
        assertThat(contract.requestDataViolations(bare)).isEmpty();
        requests.send(clusterId, bytes(bare), List.of());
        contract.answer(bareId, "PrivateAccessDisabled");

        String structuredId = "req-" + UUID.randomUUID();
        String data = "{\"requestId\":\"" + structuredId + "\",\"clusterId\":\"" + clusterId
                + "\",\"region\":\"ap-shanghai\"}";
        assertThat(contract.requestDataViolations(data)).isEmpty();
        String event = "{\"specversion\":\"1.0\",\"type\":\"" + AUTHORIZE + "\",\"id\":\"evt-" + structuredId
                + "\",\"source\":\"/apigw/console\",\"subject\":\"" + clusterId
                + "\",\"datacontenttype\":\"application/json\",\"data\":" + data + "}";
        requests.send(clusterId, bytes(event), List.of(header("content-type", "application/cloudevents+json")));
        JsonNode body = contract.answer(structuredId, "PrivateAccessDisabled");
        assertThat(body.path("region").asText()).isEqualTo("ap-shanghai");
    }

    // --- helpers ------------------------------------------------------------------------------------------------

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}

package io.apigw.authorizer.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.enterprise.inject.Any;
import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.apigw.authorizer.delivery.Dispatchers;
import io.apigw.authorizer.testing.InMemoryChannels;
import io.apigw.authorizer.testing.Requests;
import io.apigw.authorizer.testing.Requests.Published;
import io.apigw.authorizer.testing.TargetCluster;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import io.smallrye.reactive.messaging.memory.InMemoryConnector;

/**
 * One cluster's flood (issue 27, G4): while its API server holds the first request, at most
 * {@link Dispatchers#QUEUED_PER_CLUSTER} more of its requests wait; each one beyond is answered at once,
 * {@code Failed/CONFLICT} (retryable) with its own requestId and nothing done, and other clusters are served.
 */
@QuarkusTest
@WithKubernetesTestServer
@QuarkusTestResource(value = InMemoryChannels.class, restrictToAnnotatedClass = true)
class FloodTest {

    @Inject
    @Any
    InMemoryConnector connector;

    Requests requests;
    ServerSocket silent;
    final List<Socket> held = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        requests = new Requests(connector);
        silent = new ServerSocket();
        silent.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread accept = new Thread(() -> {
            try {
                while (true) {
                    held.add(silent.accept()); // accepted, never answered
                }
            } catch (IOException e) {
                // closed by the test
            }
        }, "silent-api-server");
        accept.setDaemon(true);
        accept.start();
    }

    @AfterEach
    void tearDown() throws IOException {
        silent.close();
        for (Socket s : held) {
            s.close();
        }
    }

    private String check(String clusterId) {
        String requestId = "req-" + UUID.randomUUID();
        requests.sendBinary(clusterId, Requests.request(requestId, clusterId), "ClusterAuthorizationCheckRequested");
        return requestId;
    }

    @Test
    void requestsBeyondAClustersShareAreAnsweredAtOnceAndOtherClustersAreServed() {
        String stalled = TargetCluster.registerServer("https://127.0.0.1:" + silent.getLocalPort());
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < 1 + Dispatchers.QUEUED_PER_CLUSTER + 3; i++) {
            sent.add(check(stalled));
        }

        for (String beyond : sent.subList(1 + Dispatchers.QUEUED_PER_CLUSTER, sent.size())) {
            Published result = requests.awaitResult(beyond, Duration.ofSeconds(10));
            assertThat(result.header("ce_type")).isEqualTo("Failed");
            assertThat(result.body().get("code").asText()).isEqualTo("CONFLICT");
            assertThat(result.body().get("retryable").asBoolean()).isTrue();
            assertThat(result.body().get("attempts").asInt()).isZero();
            assertThat(result.body().get("message").asText()).contains("waiting already");
        }
        String other = TargetCluster.registerUnreachable();
        Published served = requests.awaitResult(check(other), Duration.ofSeconds(30));
        assertThat(served.header("ce_type")).isEqualTo("Failed");
        assertThat(served.body().get("code").asText()).isEqualTo("API_SERVER_UNREACHABLE");
        assertThat(requests.results()).as("the requests within the cluster's share wait for their turn")
                .noneMatch(p -> sent.subList(0, 1 + Dispatchers.QUEUED_PER_CLUSTER)
                        .contains(p.body().path("requestId").asText()) && "CONFLICT".equals(p.body().path("code")
                                .asText()));
    }
}

package io.apigw.authorizer.grant;

import static io.apigw.authorizer.testing.Requests.request;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import jakarta.enterprise.inject.Any;
import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.apigw.authorizer.testing.InMemoryChannels;
import io.apigw.authorizer.testing.Requests;
import io.apigw.authorizer.testing.Requests.Published;
import io.apigw.authorizer.testing.TargetCluster;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import io.smallrye.reactive.messaging.memory.InMemoryConnector;
import java.net.URI;

/**
 * TLS to a target API server is never switched off: a kubeconfig entry asking for it is refused before anything (the
 * admin credential above all) is sent, and an entry without a CA is still verified, against the JVM's trust store.
 */
@QuarkusTest
@WithKubernetesTestServer
@QuarkusTestResource(value = InMemoryChannels.class, restrictToAnnotatedClass = true)
class TlsAlwaysVerifiedTest {

    @Inject
    @Any
    InMemoryConnector connector;

    Requests requests;
    final List<KubernetesMockServer> servers = new ArrayList<>();

    @BeforeEach
    void setUp() {
        requests = new Requests(connector);
    }

    @AfterEach
    void tearDown() {
        servers.forEach(KubernetesMockServer::destroy);
    }

    @ParameterizedTest
    @CsvSource({ "ClusterAuthorizationRequested, true", "ClusterAuthorizationRequested, false",
            "ClusterAuthorizationCheckRequested, true", "ClusterDeauthorizationRequested, false" })
    void anEntryWithInsecureSkipTlsVerifyIsRefusedAndItsServerReceivesNothing(String type, boolean withCa)
            throws Exception {
        KubernetesMockServer tls = tlsServer();
        String clusterId = TargetCluster.registerInsecure(url(tls),
                withCa ? Files.readString(Path.of(tls.getSelfSignedCertificate().certificatePath())) : null);

        Published result = send(clusterId, type);

        // A deauthorize still removes the stored credential and reports the cluster's resources unreachable.
        boolean deauthorize = type.equals("ClusterDeauthorizationRequested");
        assertThat(result.header("ce_type")).as("%s", result.body()).isEqualTo(deauthorize ? "Deauthorized" : "Failed");
        if (deauthorize) {
            assertThat(result.body().path("complete").asBoolean(true)).isFalse();
        } else {
            assertThat(result.body().path("code").asText()).isEqualTo("CLUSTER_NOT_FOUND");
        }
        assertThat(result.body().path("retryable").asBoolean()).isFalse();
        assertThat(result.body().path("message").asText()).contains("insecure-skip-tls-verify");
        assertThat(tls.getRequestCount()).as("requests that reached the server").isZero();
    }

    @Test
    void anEntryWithoutACaIsVerifiedAgainstTheJvmTrustStoreNotTrustedBlindly() {
        KubernetesMockServer tls = tlsServer(); // self-signed: no CA of the JVM's trust store vouches for it
        String clusterId = TargetCluster.registerServer(url(tls));

        Published result = send(clusterId, "ClusterAuthorizationRequested");

        assertThat(result.body().path("code").asText()).as("%s", result.body()).isEqualTo("API_SERVER_UNREACHABLE");
        assertThat(result.body().path("message").asText()).contains("TLS");
        assertThat(tls.getRequestCount()).as("requests that reached the server").isZero();
    }

    /** The security review's hostname case (issue 26, G13), with the message a user reads. */
    @Test
    void aCertificateOfThePinnedCaForAnotherHostIsRefusedAsNotValidForTheHost() throws Exception {
        KubernetesMockServer tls = tlsServer();
        String pem = Files.readString(Path.of(tls.getSelfSignedCertificate().certificatePath()));
        URI url = URI.create(tls.url("/"));
        String otherHost = url.getHost().equals("localhost") ? "127.0.0.1" : "localhost";
        String clusterId = TargetCluster.registerServer("https://" + otherHost + ":" + url.getPort(), pem);

        Published result = send(clusterId, "ClusterAuthorizationRequested");

        assertThat(result.body().path("code").asText()).as("%s", result.body()).isEqualTo("API_SERVER_UNREACHABLE");
        assertThat(result.body().path("message").asText())
                .contains("its certificate is not valid for the endpoint's host name")
                .doesNotContain("not signed by the cluster's CA");
        assertThat(tls.getRequestCount()).as("requests that reached a server whose certificate names another host")
                .isZero();
    }

    private Published send(String clusterId, String type) {
        String requestId = "req-" + UUID.randomUUID();
        requests.sendBinary(clusterId, request(requestId, clusterId), type);
        return requests.awaitResult(requestId);
    }

    private KubernetesMockServer tlsServer() {
        KubernetesMockServer tls = new KubernetesMockServer(true);
        tls.init();
        servers.add(tls);
        return tls;
    }

    private static String url(KubernetesMockServer server) {
        return server.url("/").replaceAll("/$", "");
    }
}

package io.apigw.authorizer.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.directory.ClusterAccess;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.apigw.authorizer.testing.Configs;
import io.fabric8.kubernetes.api.model.NamespaceList;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.net.SelfSignedCertificate;

/**
 * Clients to target clusters are kept and reused, but never across credentials or CAs, never beyond the configured
 * number, and never closed under a request that still uses them.
 */
class ClusterClientsTest {

    private final Vertx vertx = Vertx.vertx();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final KubernetesMockServer server = new KubernetesMockServer(false);
    private ClusterClients clients;

    @AfterEach
    void tearDown() {
        if (clients != null) {
            clients.closeAll();
        }
        server.destroy();
        vertx.close();
    }

    private ClusterClients clients(Map<String, String> settings) {
        AuthorizerConfig config = Configs.authorizer(settings);
        clients = new ClusterClients(vertx, config, new KubernetesSerialization(), meters);
        return clients;
    }

    private ClusterAccess access(String clusterId, String token) {
        Config config = new ConfigBuilder(Config.empty()).withMasterUrl(server.url("/")).withOauthToken(token).build();
        return new ClusterAccess(clusterId, server.url("/"), "", config);
    }

    private double kept() {
        return meters.get("authorizer.kube.clients").gauge().value();
    }

    /** Whatever directory made the access (kubeconfig or TKE), a client that would skip TLS checks is never built. */
    @Test
    void anAccessThatWouldSkipTlsVerificationGetsNoClient() {
        server.init();
        ClusterClients clients = clients(Map.of());
        for (boolean trustAll : new boolean[] { true, false }) {
            ClusterAccess access = access("cls-a", "admin-a");
            access.clientConfig().setTrustCerts(trustAll);
            access.clientConfig().setDisableHostnameVerification(!trustAll);
            assertThatThrownBy(() -> clients.open(access)).isInstanceOfSatisfying(AuthorizationException.class, e -> {
                assertThat(e.code()).isEqualTo(FailureCode.CLUSTER_NOT_FOUND);
                assertThat(e.isTransient()).isFalse();
                assertThat(e.getMessage()).contains("TLS");
            });
        }
        assertThat(server.getRequestCount()).isZero();
        assertThat(kept()).isZero();
    }

    @Test
    void aClusterKeepsOneClientAcrossRequestsAndItStaysOpenBetweenThem() {
        server.init();
        server.expect().get().withPath("/api/v1/namespaces").andReturn(200, new NamespaceList()).always();
        ClusterClients clients = clients(Map.of());
        KubernetesClient first;
        try (ClusterClients.Lease lease = clients.open(access("cls-a", "admin-a"))) {
            first = lease.client();
            first.namespaces().list();
        }
        try (ClusterClients.Lease lease = clients.open(access("cls-a", "admin-a"))) {
            assertThat(lease.client()).isSameAs(first);
            assertThat(lease.client().getHttpClient().isClosed()).isFalse();
            lease.client().namespaces().list();
        }
        assertThat(kept()).isEqualTo(1.0);
    }

    @Test
    void anotherCredentialOrClusterGetsAnotherClient() {
        ClusterClients clients = clients(Map.of());
        try (ClusterClients.Lease a = clients.open(access("cls-a", "admin-a"));
                ClusterClients.Lease rotated = clients.open(access("cls-a", "admin-a-rotated"));
                ClusterClients.Lease b = clients.open(access("cls-b", "admin-a"))) {
            assertThat(rotated.client()).isNotSameAs(a.client());
            assertThat(rotated.client().getConfiguration().getOauthToken()).isEqualTo("admin-a-rotated");
            assertThat(b.client()).isNotSameAs(a.client()).isNotSameAs(rotated.client());
        }
        assertThat(kept()).isEqualTo(3.0);
    }

    @Test
    void theLeastRecentlyUsedBeyondTheBoundIsClosed() {
        ClusterClients clients = clients(Map.of("authorizer.kube.client-cache-size", "2"));
        KubernetesClient a = leaseAndReturn(clients, "cls-a");
        KubernetesClient b = leaseAndReturn(clients, "cls-b");
        leaseAndReturn(clients, "cls-a"); // b is now the least recently used
        KubernetesClient c = leaseAndReturn(clients, "cls-c");

        assertThat(b.getHttpClient().isClosed()).isTrue();
        assertThat(a.getHttpClient().isClosed()).isFalse();
        assertThat(c.getHttpClient().isClosed()).isFalse();
        assertThat(kept()).isEqualTo(2.0);
        assertThat(leaseAndReturn(clients, "cls-b")).as("b comes back as a new client").isNotSameAs(b);
    }

    @Test
    void aClientInUseIsClosedOnlyWhenItsRequestReturnsIt() {
        ClusterClients clients = clients(Map.of("authorizer.kube.client-cache-size", "1"));
        ClusterClients.Lease inUse = clients.open(access("cls-a", "admin-a"));
        KubernetesClient b = leaseAndReturn(clients, "cls-b"); // pushes cls-a out while it is leased

        assertThat(inUse.client().getHttpClient().isClosed()).isFalse();
        inUse.close();
        assertThat(inUse.client().getHttpClient().isClosed()).isTrue();
        assertThat(b.getHttpClient().isClosed()).isFalse();
        inUse.close(); // a second return changes nothing
        assertThat(b.getHttpClient().isClosed()).isFalse();
        assertThat(kept()).isEqualTo(1.0);
    }

    @Test
    void anIdleClientIsClosedAndForgottenEvenWithoutFurtherRequests() {
        ClusterClients clients = clients(Map.of("authorizer.kube.client-idle-timeout", "50ms"));
        KubernetesClient idle = leaseAndReturn(clients, "cls-a");

        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> idle.getHttpClient().isClosed());
        assertThat(kept()).isZero();
    }

    @Test
    void aCredentialMintedPerLookupServesOneAttemptAndIsNotKept() {
        ClusterClients clients = clients(Map.of());
        Config config = new ConfigBuilder(Config.empty()).withMasterUrl(server.url("/")).withOauthToken("minted")
                .build();
        ClusterClients.Lease lease = clients.open(new ClusterAccess("cls-a", server.url("/"), "", config, true));
        KubernetesClient once = lease.client();
        assertThat(kept()).isZero();

        lease.close();
        assertThat(once.getHttpClient().isClosed()).isTrue();
    }

    @Test
    void aClientCertificateRotatedInPlaceGetsANewClient(@TempDir Path dir) throws Exception {
        ClusterClients clients = clients(Map.of());
        SelfSignedCertificate first = SelfSignedCertificate.create("admin");
        SelfSignedCertificate second = SelfSignedCertificate.create("admin");
        Path cert = dir.resolve("admin.crt");
        Path key = dir.resolve("admin.key");
        Files.copy(Path.of(first.certificatePath()), cert);
        Files.copy(Path.of(first.privateKeyPath()), key);
        KubernetesClient before = leaseAndReturn(clients, withClientCertificate(cert, key));

        Files.copy(Path.of(second.certificatePath()), cert, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(Path.of(second.privateKeyPath()), key, StandardCopyOption.REPLACE_EXISTING);
        KubernetesClient after = leaseAndReturn(clients, withClientCertificate(cert, key));

        assertThat(after).isNotSameAs(before);
        assertThat(leaseAndReturn(clients, withClientCertificate(cert, key))).isSameAs(after);
    }

    @Test
    void onceStoppedNoClientIsHandedOutAndOneInUseClosesWhenReturned() {
        ClusterClients clients = clients(Map.of());
        ClusterClients.Lease inUse = clients.open(access("cls-a", "admin-a"));
        KubernetesClient idle = leaseAndReturn(clients, "cls-b");

        clients.closeAll();

        assertThat(idle.getHttpClient().isClosed()).isTrue();
        assertThat(inUse.client().getHttpClient().isClosed()).as("still in use").isFalse();
        assertThatThrownBy(() -> clients.open(access("cls-c", "admin-c"))).isInstanceOf(IllegalStateException.class);
        inUse.close();
        assertThat(inUse.client().getHttpClient().isClosed()).isTrue();
    }

    private ClusterAccess withClientCertificate(Path cert, Path key) {
        Config config = new ConfigBuilder(Config.empty()).withMasterUrl(server.url("/"))
                .withClientCertFile(cert.toString()).withClientKeyFile(key.toString()).build();
        return new ClusterAccess("cls-a", server.url("/"), "", config);
    }

    private KubernetesClient leaseAndReturn(ClusterClients clients, ClusterAccess access) {
        try (ClusterClients.Lease lease = clients.open(access)) {
            return lease.client();
        }
    }

    private KubernetesClient leaseAndReturn(ClusterClients clients, String clusterId) {
        try (ClusterClients.Lease lease = clients.open(access(clusterId, "admin-" + clusterId))) {
            return lease.client();
        }
    }
}

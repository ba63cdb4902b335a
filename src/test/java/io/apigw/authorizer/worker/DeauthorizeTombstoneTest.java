package io.apigw.authorizer.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.UUID;

import jakarta.enterprise.inject.Any;
import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.apigw.authorizer.credential.CredentialStore;
import io.apigw.authorizer.testing.InMemoryChannels;
import io.apigw.authorizer.testing.Requests;
import io.apigw.authorizer.testing.Requests.Published;
import io.apigw.authorizer.testing.TargetCluster;
import io.apigw.authorizer.testing.TargetCluster.TokenController;
import io.apigw.authorizer.marks.Marks;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.KubernetesServer;
import io.quarkus.test.kubernetes.client.KubernetesTestServer;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import io.smallrye.reactive.messaging.memory.InMemoryConnector;
import java.time.Duration;

/**
 * A repair never undoes a deauthorize (issue 26, G8): a deauthorize whose last step, deleting the stored credential,
 * fails (here: its Role lost {@code delete}) has already removed the reserved resources; a repair the sweep judged
 * before it must not put them back.
 */
@QuarkusTest
@WithKubernetesTestServer
@QuarkusTestResource(value = InMemoryChannels.class, restrictToAnnotatedClass = true)
class DeauthorizeTombstoneTest {

    @Inject
    @Any
    InMemoryConnector connector;

    @Inject
    KubernetesClient ownCluster;

    @Inject
    CredentialStore credentials;

    @KubernetesTestServer
    KubernetesServer ownClusterServer;

    TargetCluster cluster;

    @AfterEach
    void tearDown() {
        cluster.close();
    }

    @Test
    void aRepairJudgedBeforeAFailedDeauthorizeDoesNotPutTheResourcesBack() {
        Requests requests = new Requests(connector);
        cluster = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY);
        String authorize = "req-" + UUID.randomUUID();
        requests.sendBinary(cluster.clusterId, Requests.request(authorize, cluster.clusterId));
        assertThat(requests.awaitResult(authorize).header("ce_type")).isEqualTo("Authorized");
        String credential = "apigw-cluster-" + cluster.clusterId;
        String judged = ownCluster.secrets().inNamespace("apigw-system").withName(credential).get().getMetadata()
                .getResourceVersion();

        ownClusterServer.expect().delete().withPath("/api/v1/namespaces/apigw-system/secrets/" + credential)
                .andReturn(403, "{\"kind\":\"Status\",\"code\":403,\"reason\":\"Forbidden\"}").always();
        String deauthorize = "req-" + UUID.randomUUID();
        requests.sendBinary(cluster.clusterId, Requests.request(deauthorize, cluster.clusterId),
                "ClusterDeauthorizationRequested");
        Published failed = requests.awaitResult(deauthorize, Duration.ofSeconds(90));
        assertThat(failed.header("ce_type")).as("%s", failed.body()).isEqualTo("Failed");
        assertThat(cluster.client.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress").get())
                .as("the deauthorize removed the reserved resources before it failed").isNull();

        String repair = "req-" + UUID.randomUUID();
        requests.sendBinary(cluster.clusterId, "{\"requestId\":\"" + repair + "\",\"clusterId\":\""
                + cluster.clusterId + "\",\"region\":\"ap-guangzhou\",\"trigger\":\"repair\",\"ifCredentialVersion\":\""
                + judged + "\"}");
        Published result = requests.awaitResult(repair);

        assertThat(credentials.registry()).as("no sweep checks, repairs or moves a credential being deauthorized")
                .noneMatch(r -> r.clusterId().equals(cluster.clusterId));
        assertThat(result.header("ce_type")).as("%s", result.body()).isEqualTo("AuthorizationSkipped");
        assertThat(result.body().get("reason").asText()).isEqualTo("credential_deleted");
        assertThat(cluster.client.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress").get())
                .as("the repair put nothing back").isNull();
        assertThat(cluster.client.rbac().clusterRoles().withName("apigw-ingress-clusterrole").get()).isNull();

        String again = "req-" + UUID.randomUUID();
        requests.sendBinary(cluster.clusterId, "{\"requestId\":\"" + again + "\",\"clusterId\":\""
                + cluster.clusterId + "\",\"region\":\"ap-guangzhou\",\"trigger\":\"repair\",\"ifCredentialVersion\":\""
                + ownCluster.secrets().inNamespace("apigw-system").withName(credential).get().getMetadata()
                        .getResourceVersion() + "\"}");
        assertThat(requests.awaitResult(again).header("ce_type"))
                .as("a repair judged after the deauthorize began is skipped too").isEqualTo("AuthorizationSkipped");

        String console = "req-" + UUID.randomUUID();
        requests.sendBinary(cluster.clusterId, Requests.request(console, cluster.clusterId));
        assertThat(requests.awaitResult(console).header("ce_type")).isEqualTo("Authorized");
        assertThat(ownCluster.secrets().inNamespace("apigw-system").withName(credential).get().getMetadata()
                .getAnnotations()).as("the console's authorize clears the mark")
                .doesNotContainKey(Marks.DEAUTHORIZING);
    }
}

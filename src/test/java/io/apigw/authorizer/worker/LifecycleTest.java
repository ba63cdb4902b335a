package io.apigw.authorizer.worker;

import static io.apigw.authorizer.testing.Requests.request;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.UUID;
import java.util.stream.StreamSupport;

import jakarta.enterprise.inject.Any;
import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.apigw.authorizer.testing.InMemoryChannels;
import io.apigw.authorizer.testing.Requests;
import io.apigw.authorizer.testing.Requests.Published;
import io.apigw.authorizer.testing.TargetCluster;
import io.apigw.authorizer.testing.TargetCluster.TokenController;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import io.smallrye.reactive.messaging.memory.InMemoryConnector;

/** Contract section 8: the read-only check and deauthorization. */
@QuarkusTest
@WithKubernetesTestServer
@QuarkusTestResource(value = InMemoryChannels.class, restrictToAnnotatedClass = true)
class LifecycleTest {

    private static final String CHECK = "ClusterAuthorizationCheckRequested";
    private static final String DEAUTHORIZE = "ClusterDeauthorizationRequested";

    @Inject
    @Any
    InMemoryConnector connector;

    @Inject
    KubernetesClient ownCluster;

    Requests requests;
    TargetCluster cluster;

    @BeforeEach
    void setUp() {
        requests = new Requests(connector);
        cluster = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY);
    }

    @AfterEach
    void tearDown() {
        cluster.close();
    }

    private Published send(String clusterId, String type) {
        String requestId = "req-" + UUID.randomUUID();
        requests.sendBinary(clusterId, request(requestId, clusterId), type);
        return requests.awaitResult(requestId);
    }

    @Test
    void checkOfAnAuthorizedClusterIsAuthorizedAndWritesNothing() throws Exception {
        JsonNode authorized = send(cluster.clusterId, "ClusterAuthorizationRequested").body();
        cluster.takeRequests();

        Published check = send(cluster.clusterId, CHECK);

        assertThat(check.header("ce_type")).isEqualTo("Authorized");
        assertThat(check.body().get("alreadyAuthorized").asBoolean()).isTrue();
        assertThat(check.body().get("tokenSecret").asText()).isEqualTo(authorized.get("tokenSecret").asText());
        assertThat(check.body().get("credentialRef").asText()).isEqualTo(authorized.get("credentialRef").asText());
        assertThat(actions(check.body())).allMatch(a -> a.endsWith("=unchanged")).hasSize(4);
        assertThat(cluster.takeRequests()).as("requests of the check").isNotEmpty()
                .allMatch(r -> r.getMethod().equals("GET"));
    }

    @Test
    void checkOfAFreshClusterListsWhatIsMissingAndWritesNothing() throws Exception {
        Published check = send(cluster.clusterId, CHECK);

        assertThat(check.header("ce_type")).isEqualTo("NotAuthorized");
        assertThat(texts(check.body().get("missing"))).containsExactly("ServiceAccount/apigw-ingress",
                "ClusterRole/apigw-ingress-clusterrole", "ClusterRoleBinding/apigw-ingress-clusterrole-binding",
                "Secret/apigw-ingress-token-*");
        assertThat(texts(check.body().get("drifted"))).isEmpty();
        assertThat(check.body().get("credentialValid").asBoolean()).isFalse();
        assertThat(cluster.workerWrites(cluster.takeRequests())).isEmpty();
        assertThat(cluster.client.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress").get()).isNull();
    }

    @Test
    void checkReportsDriftAndALostCredential() {
        send(cluster.clusterId, "ClusterAuthorizationRequested");
        ClusterRole role = cluster.client.rbac().clusterRoles().withName("apigw-ingress-clusterrole").get();
        cluster.client.rbac().clusterRoles().resource(new ClusterRoleBuilder(role)
                .withRules(role.getRules().subList(0, 3)).build()).update();
        ownCluster.secrets().inNamespace("apigw-system").withName("apigw-cluster-" + cluster.clusterId).delete();

        Published check = send(cluster.clusterId, CHECK);

        assertThat(check.header("ce_type")).isEqualTo("NotAuthorized");
        assertThat(texts(check.body().get("missing"))).isEmpty();
        assertThat(texts(check.body().get("drifted"))).containsExactly("ClusterRole/apigw-ingress-clusterrole");
        assertThat(check.body().get("credentialValid").asBoolean()).isFalse();
        // A check changes nothing: the drift is still there.
        assertThat(cluster.client.rbac().clusterRoles().withName("apigw-ingress-clusterrole").get().getRules())
                .hasSize(3);
    }

    @Test
    void deauthorizeRemovesExactlyTheReservedResourcesAndTheCredentialAndIsIdempotent() {
        JsonNode authorized = send(cluster.clusterId, "ClusterAuthorizationRequested").body();
        String tokenSecret = authorized.get("tokenSecret").asText();
        cluster.client.secrets().inNamespace("kube-system").resource(new SecretBuilder().withNewMetadata()
                .withName("unrelated").withNamespace("kube-system").endMetadata().build()).create();
        cluster.client.serviceAccounts().inNamespace("kube-system").resource(new ServiceAccountBuilder()
                .withNewMetadata().withName("apigw-ingress-other").withNamespace("kube-system").endMetadata().build())
                .create();

        Published gone = send(cluster.clusterId, DEAUTHORIZE);

        assertThat(gone.header("ce_type")).isEqualTo("Deauthorized");
        assertThat(actions(gone.body())).containsExactlyInAnyOrder(
                "ClusterRoleBinding/apigw-ingress-clusterrole-binding=deleted",
                "ClusterRole/apigw-ingress-clusterrole=deleted",
                "Secret/" + tokenSecret + "=deleted",
                "ServiceAccount/apigw-ingress=deleted",
                "Secret/apigw-cluster-" + cluster.clusterId + "=deleted");
        assertThat(cluster.client.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress").get()).isNull();
        assertThat(cluster.client.rbac().clusterRoles().withName("apigw-ingress-clusterrole").get()).isNull();
        assertThat(cluster.client.secrets().inNamespace("kube-system").withName(tokenSecret).get()).isNull();
        assertThat(ownCluster.secrets().inNamespace("apigw-system").withName("apigw-cluster-" + cluster.clusterId)
                .get()).isNull();
        assertThat(cluster.client.secrets().inNamespace("kube-system").withName("unrelated").get()).isNotNull();
        assertThat(cluster.client.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress-other").get())
                .isNotNull();

        Published again = send(cluster.clusterId, DEAUTHORIZE);
        assertThat(actions(again.body())).hasSize(5).allMatch(a -> a.endsWith("=absent"));
    }

    @Test
    void deauthorizeOfAClusterWithoutPrivateAccessRemovesTheStoredCredentialAndSaysRetryCanRemoveTheRest() {
        send(cluster.clusterId, "ClusterAuthorizationRequested");
        TargetCluster.disablePrivateAccess(cluster.clusterId);

        Published gone = send(cluster.clusterId, DEAUTHORIZE);

        assertIncompleteDeauthorization(gone, true);
        assertThat(gone.body().get("message").asText()).contains("Enable private access, then retry");
        assertThat(cluster.client.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress").get())
                .as("nothing in the cluster could be touched").isNotNull();
    }

    @Test
    void deauthorizeOfAClusterThatIsGoneRemovesTheStoredCredentialAndSaysRetryWillNotHelp() {
        send(cluster.clusterId, "ClusterAuthorizationRequested");
        TargetCluster.forget(cluster.clusterId);

        assertIncompleteDeauthorization(send(cluster.clusterId, DEAUTHORIZE), false);
        assertThat(actions(send("cls-unknown", DEAUTHORIZE).body()))
                .contains("Secret/apigw-cluster-cls-unknown=absent");
    }

    private void assertIncompleteDeauthorization(Published gone, boolean retryable) {
        assertThat(gone.header("ce_type")).isEqualTo("Deauthorized");
        assertThat(gone.body().get("complete").asBoolean()).isFalse();
        assertThat(gone.body().get("retryable").asBoolean()).isEqualTo(retryable);
        assertThat(actions(gone.body())).containsExactlyInAnyOrder(
                "ServiceAccount/apigw-ingress=unreachable",
                "ClusterRole/apigw-ingress-clusterrole=unreachable",
                "ClusterRoleBinding/apigw-ingress-clusterrole-binding=unreachable",
                "Secret/apigw-ingress-token-*=unreachable",
                "Secret/apigw-cluster-" + cluster.clusterId + "=deleted");
        assertThat(ownCluster.secrets().inNamespace("apigw-system").withName("apigw-cluster-" + cluster.clusterId)
                .get()).as("the gateway no longer holds a credential for it").isNull();
    }

    private static List<String> texts(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).map(JsonNode::asText).toList();
    }

    private static List<String> actions(JsonNode body) {
        return StreamSupport.stream(body.get("resources").spliterator(), false)
                .map(r -> r.get("kind").asText() + "/" + r.get("name").asText() + "=" + r.get("action").asText())
                .toList();
    }
}

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
import io.apigw.authorizer.testing.TestPki;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import io.smallrye.reactive.messaging.memory.InMemoryConnector;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Base64;

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
    void checkSaysWhyTheStoredCredentialNoLongerFitsAndAuthorizeMakesItFollowTheDirectory() throws Exception {
        send(cluster.clusterId, "ClusterAuthorizationRequested");
        String newCa = Files.readString(TestPki.create("rotated-ca").caCertificate);
        TargetCluster.changeCa(cluster.clusterId, newCa);

        Published changedCa = send(cluster.clusterId, CHECK);
        assertThat(changedCa.header("ce_type")).as(changedCa.body().toString()).isEqualTo("NotAuthorized");
        assertThat(changedCa.body().get("credentialValid").asBoolean()).isFalse();
        assertThat(changedCa.body().get("credentialProblem").asText()).isEqualTo("ca_changed");
        assertThat(changedCa.body().get("credentialMessage").asText()).contains("authorize again");

        assertThat(send(cluster.clusterId, "ClusterAuthorizationRequested").header("ce_type")).isEqualTo("Authorized");
        assertThat(stored("ca.crt")).isEqualTo(newCa);
        assertThat(send(cluster.clusterId, CHECK).header("ce_type")).isEqualTo("Authorized");

        String moved = cluster.server.url("/").replaceAll("/$", "").replace("localhost", "127.0.0.1");
        TargetCluster.moveEndpoint(cluster.clusterId, moved);
        Published changedEndpoint = send(cluster.clusterId, CHECK);
        assertThat(changedEndpoint.body().get("credentialProblem").asText()).as(changedEndpoint.body().toString())
                .isEqualTo("endpoint_changed");
        assertThat(send(cluster.clusterId, "ClusterAuthorizationRequested").header("ce_type")).isEqualTo("Authorized");
        assertThat(stored("server")).isEqualTo(moved);
        assertThat(send(cluster.clusterId, CHECK).header("ce_type")).isEqualTo("Authorized");
    }

    @Test
    void aTokenTheServerRejectsIsReplacedFrom124ByAWorkerOwnedSecretAndNeverStored() {
        JsonNode first = send(cluster.clusterId, "ClusterAuthorizationRequested").body();
        String rejected = stored("token");
        cluster.rejectToken(rejected);

        Published check = send(cluster.clusterId, CHECK);
        assertThat(check.body().get("credentialProblem").asText()).as(check.body().toString()).isEqualTo("rejected");

        Published again = send(cluster.clusterId, "ClusterAuthorizationRequested");
        assertThat(again.header("ce_type")).as(again.body().toString()).isEqualTo("Authorized");
        assertThat(again.body().get("alreadyAuthorized").asBoolean()).isFalse();
        assertThat(again.body().get("tokenSecret").asText()).isNotEqualTo(first.get("tokenSecret").asText());
        assertThat(actions(again.body())).contains("Secret/" + again.body().get("tokenSecret").asText() + "=created");
        assertThat(stored("token")).isNotEqualTo(rejected);
        assertThat(tokenSecrets()).containsExactly(again.body().get("tokenSecret").asText());
        assertThat(send(cluster.clusterId, CHECK).header("ce_type")).isEqualTo("Authorized");
    }

    @Test
    void aListedLegacyTokenFrom124IsMigratedToAWorkerOwnedSecretAndRetiredAfterTheGrace() {
        // As a cluster authorized before 1.24 and upgraded since: the account lists its auto-created token.
        ServiceAccount sa = cluster.client.serviceAccounts().inNamespace("kube-system").resource(
                new ServiceAccountBuilder().withNewMetadata().withName("apigw-ingress").withNamespace("kube-system")
                        .endMetadata().addNewSecret().withName("apigw-ingress-token-lgcy1").endSecret().build())
                .create();
        cluster.client.secrets().inNamespace("kube-system").resource(new SecretBuilder().withNewMetadata()
                .withName("apigw-ingress-token-lgcy1").withNamespace("kube-system")
                .addToAnnotations("kubernetes.io/service-account.name", "apigw-ingress")
                .addToAnnotations("kubernetes.io/service-account.uid", sa.getMetadata().getUid()).endMetadata()
                .withType("kubernetes.io/service-account-token").build()).create();

        Published migrated = send(cluster.clusterId, "ClusterAuthorizationRequested");

        assertThat(migrated.header("ce_type")).as(migrated.body().toString()).isEqualTo("Authorized");
        String now = migrated.body().get("tokenSecret").asText();
        assertThat(now).isNotEqualTo("apigw-ingress-token-lgcy1");
        assertThat(cluster.client.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress").get()
                .getSecrets()).extracting(r -> r.getName()).doesNotContain(now);
        Secret credential = credentialSecret();
        assertThat(credential.getMetadata().getAnnotations())
                .containsEntry("apigw.tencent.com/token-secret", now)
                .containsEntry("apigw.tencent.com/revoke-token-secret", "apigw-ingress-token-lgcy1")
                .containsKey("apigw.tencent.com/revoke-after");
        assertThat(tokenSecrets()).as("the old token stays valid for the grace").contains("apigw-ingress-token-lgcy1");

        // A rotation with no grace retires the older token at once and the one before it too.
        String rotationId = "req-" + UUID.randomUUID();
        requests.sendBinary(cluster.clusterId, request(rotationId, cluster.clusterId).replace("}", ",\"grace\":\"PT0S\"}"),
                "ClusterCredentialRotationRequested");
        Published rotated = requests.awaitResult(rotationId);
        assertThat(rotated.header("ce_type")).as(rotated.body().toString()).isEqualTo("CredentialRotated");
        assertThat(rotated.body().get("previousTokenSecret").asText()).isEqualTo(now);
        assertThat(rotated.body().get("revoked").asBoolean()).isTrue();
        assertThat(tokenSecrets()).containsExactly(rotated.body().get("tokenSecret").asText());
        assertThat(credentialSecret().getMetadata().getUid()).as("changed in place")
                .isEqualTo(credential.getMetadata().getUid());
        assertThat(credentialSecret().getMetadata().getAnnotations()).doesNotContainKey(
                "apigw.tencent.com/revoke-token-secret");
    }

    private Secret credentialSecret() {
        return ownCluster.secrets().inNamespace("apigw-system").withName("apigw-cluster-" + cluster.clusterId).get();
    }

    private String stored(String key) {
        return new String(Base64.getDecoder().decode(credentialSecret().getData().get(key)),
                StandardCharsets.UTF_8);
    }

    private List<String> tokenSecrets() {
        return cluster.client.secrets().inNamespace("kube-system").list().getItems().stream()
                .map(s -> s.getMetadata().getName()).filter(n -> n.startsWith("apigw-ingress-token-")).toList();
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
        // Reads, and the reviews the stored token is tried with (they change nothing in the cluster).
        assertThat(cluster.takeRequests()).as("requests of the check").isNotEmpty()
                .allMatch(r -> r.getMethod().equals("GET")
                        || r.getPath().startsWith("/apis/authorization.k8s.io/v1/selfsubject"));
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

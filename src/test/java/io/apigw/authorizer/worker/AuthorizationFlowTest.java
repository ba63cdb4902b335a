package io.apigw.authorizer.worker;

import static io.apigw.authorizer.testing.Requests.request;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.UUID;

import jakarta.enterprise.inject.Any;
import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.apigw.authorizer.policy.Policy;
import io.apigw.authorizer.result.ResultPublisher;
import io.apigw.authorizer.testing.InMemoryChannels;
import io.apigw.authorizer.testing.LogCapture;
import io.apigw.authorizer.testing.Requests;
import io.apigw.authorizer.testing.Requests.Published;
import io.apigw.authorizer.testing.TargetCluster;
import io.apigw.authorizer.testing.TargetCluster.TokenController;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.SubjectBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import io.smallrye.reactive.messaging.memory.InMemoryConnector;
import io.apigw.authorizer.directory.KubeconfigDirectory;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.restassured.RestAssured;
import java.nio.file.Path;
import java.util.stream.StreamSupport;
import org.hamcrest.Matchers;

/**
 * The whole flow, record in to result out, against fabric8 mock API servers: one per target cluster and one as
 * the worker's own cluster (where credentials are stored).
 */
@QuarkusTest
@WithKubernetesTestServer
@QuarkusTestResource(value = InMemoryChannels.class, restrictToAnnotatedClass = true)
class AuthorizationFlowTest {

    @Inject
    @Any
    InMemoryConnector connector;

    /** The worker's own cluster. */
    @Inject
    KubernetesClient ownCluster;

    Requests requests;
    TargetCluster cluster;
    LogCapture logs = LogCapture.install();

    @BeforeEach
    void setUp() {
        requests = new Requests(connector);
    }

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private Published authorize(String clusterId) {
        String requestId = "req-" + UUID.randomUUID();
        requests.sendBinary(clusterId, request(requestId, clusterId));
        return requests.awaitResult(requestId);
    }

    @Test
    void freshClusterOn128GetsTheFourResourcesAndAStoredCredential() {
        cluster = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY);
        Published result = authorize(cluster.clusterId);

        JsonNode body = result.body();
        assertThat(result.header("ce_type")).isEqualTo("Authorized");
        assertThat(result.header("ce_subject")).isEqualTo(cluster.clusterId);
        assertThat(result.header("ce_source")).isEqualTo("/apigw/tke-authorizer");
        assertThat(result.header("ce_specversion")).isEqualTo("1.0");
        assertThat(result.header("ce_id")).isEqualTo(ResultPublisher.eventId(body.get("requestId").asText(), "Authorized"));
        assertThat(result.key()).isEqualTo(cluster.clusterId);
        assertThat(body.get("alreadyAuthorized").asBoolean()).isFalse();
        assertThat(body.get("attempts").asInt()).isEqualTo(1);
        assertThat(body.get("region").asText()).isEqualTo("ap-guangzhou");
        assertThat(body.get("kubernetesVersion").asText()).isEqualTo("v1.28.3");
        assertThat(body.get("completedAt").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z");
        assertThat(actions(body)).containsExactlyInAnyOrder("ServiceAccount/apigw-ingress=created",
                "ClusterRole/apigw-ingress-clusterrole=created",
                "ClusterRoleBinding/apigw-ingress-clusterrole-binding=created",
                "Secret/" + body.get("tokenSecret").asText() + "=created");
        assertThat(body.get("tokenSecret").asText()).matches("apigw-ingress-token-[a-z0-9]{5}");

        ClusterRole role = cluster.client.rbac().clusterRoles().withName("apigw-ingress-clusterrole").get();
        assertThat(role.getRules()).isEqualTo(Policy.V1.rules());
        ClusterRoleBinding binding = cluster.client.rbac().clusterRoleBindings()
                .withName("apigw-ingress-clusterrole-binding").get();
        assertThat(binding.getRoleRef().getName()).isEqualTo("apigw-ingress-clusterrole");
        assertThat(binding.getSubjects()).singleElement().satisfies(s -> {
            assertThat(s.getKind()).isEqualTo("ServiceAccount");
            assertThat(s.getName()).isEqualTo("apigw-ingress");
            assertThat(s.getNamespace()).isEqualTo("kube-system");
        });
        Secret token = cluster.client.secrets().inNamespace("kube-system").withName(body.get("tokenSecret").asText())
                .get();
        assertThat(token.getType()).isEqualTo("kubernetes.io/service-account-token");
        assertThat(token.getMetadata().getAnnotations()).containsEntry("kubernetes.io/service-account.name",
                "apigw-ingress");

        assertThat(body.get("credentialRef").asText()).isEqualTo("apigw-system/apigw-cluster-" + cluster.clusterId);
        Secret credential = ownCluster.secrets().inNamespace("apigw-system")
                .withName("apigw-cluster-" + cluster.clusterId).get();
        assertThat(decode(credential, "token")).isEqualTo(decode(token, "token"));
        assertThat(decode(credential, "server")).isEqualTo(cluster.server.url("/").replaceAll("/$", ""));
        assertThat(credential.getData()).containsKey("ca.crt");
    }

    @Test
    void clusterBefore124UsesTheAutoCreatedTokenSecretAndMintsNoOther() throws Exception {
        cluster = TargetCluster.start("v1.20.2", TokenController.AUTO_CREATE);
        JsonNode body = authorize(cluster.clusterId).body();

        assertThat(body.get("kubernetesVersion").asText()).isEqualTo("v1.20.2");
        ServiceAccount sa = cluster.client.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress").get();
        assertThat(body.get("tokenSecret").asText()).isEqualTo(sa.getSecrets().get(0).getName());
        assertThat(tokenSecrets()).hasSize(1);
        assertThat(cluster.workerWrites(cluster.takeRequests()))
                .noneMatch(r -> r.getMethod().equals("POST") && r.getPath().contains("/secrets"));

        JsonNode again = authorize(cluster.clusterId).body();
        assertThat(again.get("tokenSecret").asText()).isEqualTo(body.get("tokenSecret").asText());
        assertThat(tokenSecrets()).hasSize(1);
    }

    @Test
    void repeatIsAlreadyAuthorizedAndWritesNothing() throws Exception {
        cluster = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY);
        JsonNode first = authorize(cluster.clusterId).body();
        Secret credential = credential(cluster.clusterId);
        cluster.takeRequests();

        JsonNode second = authorize(cluster.clusterId).body();

        assertThat(second.get("alreadyAuthorized").asBoolean()).isTrue();
        assertThat(actions(second)).allMatch(a -> a.endsWith("=unchanged")).hasSize(4);
        assertThat(second.get("tokenSecret").asText()).isEqualTo(first.get("tokenSecret").asText());
        assertThat(cluster.workerWrites(cluster.takeRequests())).isEmpty();
        assertThat(credential(cluster.clusterId).getMetadata().getResourceVersion())
                .isEqualTo(credential.getMetadata().getResourceVersion());
    }

    @Test
    void aRotatedAdminCredentialIsUsedFromTheNextRequestOn() throws Exception {
        cluster = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY);
        authorize(cluster.clusterId);
        cluster.takeRequests();

        TargetCluster.rotateAdminToken(cluster.clusterId, "admin-" + cluster.clusterId + "-rotated");
        JsonNode again = authorize(cluster.clusterId).body();

        assertThat(again.get("alreadyAuthorized").asBoolean()).isTrue();
        List<String> used = cluster.takeRequests().stream().map(r -> r.getHeader("Authorization"))
                .filter(h -> h != null && h.startsWith("Bearer admin-")).toList();
        assertThat(used).isNotEmpty().allMatch(("Bearer admin-" + cluster.clusterId + "-rotated")::equals);
    }

    @Test
    void driftIsRepairedWithoutReplacingTheServiceAccount() {
        cluster = TargetCluster.start("v1.20.2", TokenController.AUTO_CREATE);
        authorize(cluster.clusterId);
        ServiceAccount before = cluster.client.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress")
                .get();

        // A rule removed from the role, and a binding to another role with an extra subject.
        ClusterRole role = cluster.client.rbac().clusterRoles().withName("apigw-ingress-clusterrole").get();
        cluster.client.rbac().clusterRoles().resource(new ClusterRoleBuilder(role)
                .withRules(role.getRules().subList(1, role.getRules().size())).build()).update();
        ClusterRoleBinding binding = cluster.client.rbac().clusterRoleBindings()
                .withName("apigw-ingress-clusterrole-binding").get();
        cluster.client.rbac().clusterRoleBindings().withName("apigw-ingress-clusterrole-binding").delete();
        cluster.client.rbac().clusterRoleBindings().resource(new ClusterRoleBindingBuilder(binding)
                .editMetadata().withResourceVersion(null).withUid(null).endMetadata()
                .editRoleRef().withName("cluster-admin").endRoleRef()
                .addToSubjects(new SubjectBuilder().withKind("ServiceAccount").withName("intruder")
                        .withNamespace("default").build())
                .build()).create();

        JsonNode body = authorize(cluster.clusterId).body();

        assertThat(body.get("alreadyAuthorized").asBoolean()).isFalse();
        assertThat(actions(body)).contains("ClusterRole/apigw-ingress-clusterrole=updated",
                "ClusterRoleBinding/apigw-ingress-clusterrole-binding=updated",
                "ServiceAccount/apigw-ingress=unchanged");
        assertThat(cluster.client.rbac().clusterRoles().withName("apigw-ingress-clusterrole").get().getRules())
                .isEqualTo(Policy.V1.rules());
        ClusterRoleBinding repaired = cluster.client.rbac().clusterRoleBindings()
                .withName("apigw-ingress-clusterrole-binding").get();
        assertThat(repaired.getRoleRef().getName()).isEqualTo("apigw-ingress-clusterrole");
        assertThat(repaired.getSubjects()).extracting(s -> s.getName()).containsExactly("apigw-ingress");
        ServiceAccount after = cluster.client.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress")
                .get();
        assertThat(after.getMetadata().getUid()).isEqualTo(before.getMetadata().getUid());
        assertThat(after.getSecrets()).isEqualTo(before.getSecrets());
        assertThat(tokenSecrets()).hasSize(1);
    }

    @Test
    void deletedBindingIsCreatedAgain() {
        cluster = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY);
        authorize(cluster.clusterId);
        cluster.client.rbac().clusterRoleBindings().withName("apigw-ingress-clusterrole-binding").delete();

        JsonNode body = authorize(cluster.clusterId).body();

        assertThat(actions(body)).contains("ClusterRoleBinding/apigw-ingress-clusterrole-binding=created",
                "ClusterRole/apigw-ingress-clusterrole=unchanged");
        assertThat(cluster.client.rbac().clusterRoleBindings().withName("apigw-ingress-clusterrole-binding").get())
                .isNotNull();
    }

    @Test
    void tokenNeverFilledIsTokenNotIssuedWithinTheTimeout() {
        cluster = TargetCluster.start("v1.28.3", TokenController.NONE);
        long started = System.nanoTime();
        Published result = authorize(cluster.clusterId);
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        assertThat(result.header("ce_type")).isEqualTo("Failed");
        assertThat(result.body().get("code").asText()).isEqualTo("TOKEN_NOT_ISSUED");
        assertThat(result.body().get("retryable").asBoolean()).isTrue();
        assertThat(result.body().get("message").asText()).contains("not filled").contains("token controller");
        // %test token timeout is 3s: the wait is bounded, not a hang.
        assertThat(took).isLessThan(Duration.ofSeconds(15));
    }

    @Test
    void unreachableApiServerIsRetriedThenApiServerUnreachable() {
        String clusterId = TargetCluster.registerUnreachable();
        Published result = authorize(clusterId);

        assertThat(result.body().get("code").asText()).isEqualTo("API_SERVER_UNREACHABLE");
        assertThat(result.body().get("retryable").asBoolean()).isTrue();
        assertThat(result.body().get("attempts").asInt()).isEqualTo(3);
    }

    @Test
    void credentialWithoutTheRightsIsPermissionDeniedAndNothingIsWritten() throws Exception {
        // May create the four kinds, but does not hold the rights the role grants (RBAC escalation check).
        cluster = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY, new SelfSubjectRulesReviewBuilder()
                .withNewStatus().withIncomplete(false)
                .addNewResourceRule().withVerbs("create", "get", "list", "watch", "update", "delete")
                .withApiGroups("", "rbac.authorization.k8s.io")
                .withResources("serviceaccounts", "secrets", "clusterroles", "clusterrolebindings")
                .endResourceRule().endStatus().build());

        Published result = authorize(cluster.clusterId);

        assertThat(result.body().get("code").asText()).isEqualTo("PERMISSION_DENIED");
        assertThat(result.body().get("retryable").asBoolean()).isTrue();
        assertThat(result.body().get("message").asText()).contains("nothing was changed");
        assertThat(cluster.workerWrites(cluster.takeRequests())).isEmpty();
    }

    @Test
    void writeForbiddenByTheServerIsPermissionDenied() {
        // The rights review cannot tell (as with webhook authorizers): the server's own refusal decides.
        cluster = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY, new SelfSubjectRulesReviewBuilder()
                .withNewStatus().withIncomplete(true).endStatus().build());
        cluster.server.expect().post().withPath("/apis/rbac.authorization.k8s.io/v1/clusterroles")
                .andReturn(403, new StatusBuilder().withCode(403)
                        .withReason("Forbidden").withMessage("clusterroles is forbidden: attempting to grant RBAC "
                                + "permissions not currently held")
                        .build())
                .always();

        Published result = authorize(cluster.clusterId);

        assertThat(result.body().get("code").asText()).isEqualTo("PERMISSION_DENIED");
        assertThat(result.body().get("attempts").asInt()).isEqualTo(1);
        assertThat(result.body().get("message").asText()).contains("attempting to grant RBAC permissions");
    }

    @Test
    void serverErrorsAreRetriedInsideTheWorker() {
        cluster = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY);
        cluster.server.expect().get().withPath("/api/v1/namespaces/kube-system/serviceaccounts/apigw-ingress")
                .andReturn(503, "unavailable").once();

        JsonNode body = authorize(cluster.clusterId).body();

        assertThat(body.get("alreadyAuthorized")).isNotNull();
        assertThat(body.get("attempts").asInt()).isEqualTo(2);
    }

    @Test
    void unknownClusterIsClusterNotFound() {
        Published result = authorize("cls-nosuch");

        assertThat(result.body().get("code").asText()).isEqualTo("CLUSTER_NOT_FOUND");
        assertThat(result.body().get("retryable").asBoolean()).isFalse();
    }

    @Test
    void clusterWithoutPrivateEndpointIsPrivateAccessDisabled() {
        String clusterId = TargetCluster.registerWithoutPrivateEndpoint();
        Published result = authorize(clusterId);

        assertThat(result.header("ce_type")).isEqualTo("PrivateAccessDisabled");
        assertThat(result.body().get("retryable").asBoolean()).isTrue();
        assertThat(result.body().get("message").asText()).contains("Enable it, then retry");
    }

    @Test
    void invalidRequestGetsFailedInvalidRequest() {
        String requestId = "req-" + UUID.randomUUID();
        requests.sendBinary("cls-x", "{\"requestId\":\"" + requestId + "\",\"clusterId\":\"cls-x\",\"region\":\"Guangzhou\"}");

        Published result = requests.awaitResult(requestId);

        assertThat(result.header("ce_type")).isEqualTo("Failed");
        assertThat(result.body().get("code").asText()).isEqualTo("INVALID_REQUEST");
        assertThat(result.body().get("retryable").asBoolean()).isFalse();
        assertThat(result.body().get("message").asText()).contains("region");
    }

    @Test
    void unparsableRecordIsDeadLetteredAndTheNextRecordIsStillProcessed() {
        byte[] garbage = new byte[] { (byte) 0xff, 0x00, '{', (byte) 0xfe };
        requests.send("cls-garbage", garbage, List.of(Requests.header("ce_specversion", "1.0")));
        String clusterId = TargetCluster.registerWithoutPrivateEndpoint();
        Published next = authorize(clusterId);

        assertThat(next.header("ce_type")).isEqualTo("PrivateAccessDisabled");
        Published dead = requests.deadLetters().stream().filter(d -> "cls-garbage".equals(d.key())).findFirst()
                .orElseThrow();
        assertThat(dead.header("dead-letter-reason")).contains("not a JSON document");
        assertThat(dead.header("ce_specversion")).isEqualTo("1.0");
    }

    @Test
    void noIssuedTokenAppearsInAnyEventOrLogLine() {
        cluster = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY);
        authorize(cluster.clusterId);
        authorize(cluster.clusterId);

        assertThat(TargetCluster.ISSUED_TOKENS).isNotEmpty();
        List<String> published = requests.results().stream().map(p -> p.body() + " " + p.headers()).toList();
        List<String> logLines = logs.lines();
        assertThat(logLines).isNotEmpty();
        for (String token : TargetCluster.ISSUED_TOKENS) {
            assertThat(published).noneMatch(e -> e.contains(token));
            assertThat(logLines).noneMatch(l -> l.contains(token));
        }
    }

    @Test
    void healthEndpointsReportTheCredentialStoreAndTheDirectory() {
        RestAssured.get("/q/health/ready").then()
                .body("checks.find { it.name == 'credential-store' }.status", Matchers.is("UP"))
                .body("checks.find { it.name == 'cluster-directory' }.status", Matchers.is("UP"));
        RestAssured.get("/q/health/live").then().statusCode(200);
        RestAssured.get("/q/health/started").then().statusCode(200);
    }

    @Test
    void metricsCountOutcomesAndTimeEachStep() {
        cluster = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY);
        authorize(cluster.clusterId);
        authorize("cls-nosuch");

        String metrics = RestAssured.get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(metrics)
                .containsPattern("authorizer_requests_total\\{[^}]*code=\"none\"[^}]*outcome=\"Authorized\"[^}]*type=\"authorize\"[^}]*} [1-9]")
                .containsPattern("authorizer_requests_total\\{[^}]*code=\"CLUSTER_NOT_FOUND\"[^}]*outcome=\"Failed\"[^}]*} [1-9]")
                .contains("authorizer_request_duration_seconds_bucket")
                .containsPattern("authorizer_step_duration_seconds_count\\{[^}]*step=\"grant\"[^}]*} [1-9]")
                .containsPattern("authorizer_step_duration_seconds_count\\{[^}]*step=\"publish\"[^}]*} [1-9]")
                .containsPattern("authorizer_token_wait_seconds_count\\{[^}]*issued=\"true\"[^}]*} [1-9]")
                .contains("authorizer_inflight")
                .containsPattern("(?m)^authorizer_kube_clients(\\{[^}]*})? [1-9]");
    }

    @Test
    void aMissingKubeconfigMakesTheDirectoryNotReady() {
        assertThat(new KubeconfigDirectory(Path.of("/nonexistent/kubeconfig"))
                .ready()).isFalse();
    }

    private List<Secret> tokenSecrets() {
        return cluster.client.secrets().inNamespace("kube-system").list().getItems().stream()
                .filter(s -> s.getMetadata().getName().startsWith("apigw-ingress-token-")).toList();
    }

    private Secret credential(String clusterId) {
        return ownCluster.secrets().inNamespace("apigw-system").withName("apigw-cluster-" + clusterId).get();
    }

    private static List<String> actions(JsonNode body) {
        return StreamSupport.stream(body.get("resources").spliterator(), false)
                .map(r -> r.get("kind").asText() + "/" + r.get("name").asText() + "=" + r.get("action").asText())
                .toList();
    }

    private static String decode(Secret s, String key) {
        return new String(Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.UTF_8);
    }

}

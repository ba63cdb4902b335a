package io.apigw.authorizer.grant;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.apigw.authorizer.testing.FreePort;
import io.apigw.authorizer.testing.KafkaBroker;
import io.apigw.authorizer.testing.KafkaClients;
import io.apigw.authorizer.testing.LocalKube;
import io.apigw.authorizer.testing.WorkerProcess;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.apigw.authorizer.testing.Requests;
import io.apigw.authorizer.marks.Marks;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.time.Instant;
import org.assertj.core.api.Assertions;

/**
 * The packaged worker against a real kube-apiserver (RBAC, admission, the real token controller) and a real broker.
 * The target cluster is also the worker's own cluster, where the credential Secret is kept.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RealKubeIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CLUSTER = "local-kube";
    private static final String LIMITED = "limited-admin";
    /** Everything in kube-system (a RoleBinding to cluster-admin), cluster-wide only reading and writing RBAC objects. */
    private static final String KUBE_SYSTEM_ADMIN = "kube-system-admin";

    static LocalKube kube;
    static KubernetesClient admin;
    static KafkaBroker broker;
    static KafkaClients kafka;
    static WorkerProcess worker;
    static Map<String, String> workerConfig;
    static String limitedToken;

    @BeforeAll
    static void start() throws Exception {
        kube = LocalKube.start();
        admin = kube.adminClient();
        admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("apigw-system").endMetadata()
                .build()).serverSideApply();
        broker = KafkaBroker.start(FreePort.closed(), 4);
        kafka = new KafkaClients(broker.bootstrapServers());

        Map<String, String> config = new HashMap<>();
        config.put("kafka.bootstrap.servers", broker.bootstrapServers());
        limitedToken = limitedAdminToken();
        config.put("authorizer.directory.kubeconfig.path", directory(limitedToken, kubeSystemAdminToken()).toString());
        config.put("quarkus.kubernetes-client.api-server-url", kube.server());
        config.put("quarkus.kubernetes-client.ca-cert-file", kube.caFile().toString());
        config.put("quarkus.kubernetes-client.token", kube.adminToken());
        config.put("authorizer.retry.initial-backoff", "200ms");
        config.put("authorizer.retry.max-backoff", "1s");
        config.put("authorizer.kube.connect-timeout", "2s");
        config.put("authorizer.kube.request-timeout", "5s");
        workerConfig = config;
        worker = WorkerProcess.start("realkube", config).awaitReady(Duration.ofSeconds(90));
    }

    @AfterAll
    static void stop() {
        if (worker != null) {
            worker.close();
        }
        if (kafka != null) {
            kafka.close();
        }
        if (broker != null) {
            broker.close();
        }
        if (admin != null) {
            admin.close();
        }
        if (kube != null) {
            kube.close();
        }
    }

    @Test
    @Order(1)
    void freshAuthorizationCreatesExactlyTheSeedObjectsAndUsesTheAutoCreatedToken() throws Exception {
        JsonNode result = authorize(CLUSTER);

        assertThat(result.get("type").asText()).as(result.toString()).isEqualTo("Authorized");
        assertThat(result.get("kubernetesVersion").asText()).startsWith("v1.20");
        assertThat(result.get("alreadyAuthorized").asBoolean()).isFalse();
        ClusterRole role = admin.rbac().clusterRoles().withName(ReservedResources.CLUSTER_ROLE).get();
        assertThat(role.getRules()).isEqualTo(seed(ClusterRole.class).getRules());
        ClusterRoleBinding binding = admin.rbac().clusterRoleBindings()
                .withName(ReservedResources.CLUSTER_ROLE_BINDING).get();
        ClusterRoleBinding seedBinding = seed(ClusterRoleBinding.class);
        assertThat(binding.getRoleRef()).isEqualTo(seedBinding.getRoleRef());
        assertThat(binding.getSubjects()).isEqualTo(seedBinding.getSubjects());
        ServiceAccount sa = admin.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress").get();
        assertThat(sa).isNotNull();
        // Before 1.24 the token controller creates the token Secret; the worker uses that one and makes no other.
        assertThat(result.get("tokenSecret").asText()).isEqualTo(sa.getSecrets().get(0).getName())
                .startsWith("apigw-ingress-token-");
        assertThat(tokenSecrets()).hasSize(1);
    }

    @Test
    @Order(2)
    void repeatIsAlreadyAuthorizedAndMintsNoSecondToken() throws Exception {
        String before = tokenSecrets().get(0).getMetadata().getName();
        JsonNode result = authorize(CLUSTER);

        assertThat(result.get("alreadyAuthorized").asBoolean()).as(result.toString()).isTrue();
        assertThat(result.get("tokenSecret").asText()).isEqualTo(before);
        assertThat(tokenSecrets()).extracting(s -> s.getMetadata().getName()).containsExactly(before);
    }

    @Test
    @Order(3)
    void storedCredentialAuthenticatesAndIsLimitedByTheRole() {
        Secret credential = admin.secrets().inNamespace("apigw-system").withName("apigw-cluster-" + CLUSTER).get();
        String token = decode(credential.getData().get("token"));
        assertThat(decode(credential.getData().get("server"))).isEqualTo(kube.server());
        Config asGateway = new ConfigBuilder(Config.empty()).withMasterUrl(decode(credential.getData().get("server")))
                .withCaCertData(credential.getData().get("ca.crt")).withOauthToken(token).build();
        try (KubernetesClient gateway = new KubernetesClientBuilder().withConfig(asGateway).build()) {
            assertThat(can(gateway, "list", "", "pods")).isTrue();
            assertThat(can(gateway, "watch", "", "services")).isTrue();
            assertThat(can(gateway, "update", "", "secrets")).isTrue();
            assertThat(can(gateway, "create", "rbac.authorization.k8s.io", "clusterrolebindings")).isFalse();
            assertThat(can(gateway, "delete", "", "pods")).isFalse();
            assertThat(can(gateway, "create", "", "serviceaccounts")).isFalse();
        }
    }

    @Test
    @Order(4)
    void driftIsRepaired() throws Exception {
        ClusterRole role = admin.rbac().clusterRoles().withName(ReservedResources.CLUSTER_ROLE).get();
        admin.rbac().clusterRoles().resource(new ClusterRoleBuilder(role)
                .withRules(role.getRules().subList(0, 2)).build()).update();
        rebindTo("view");

        JsonNode result = authorize(CLUSTER);

        assertThat(result.get("type").asText()).as(result.toString()).isEqualTo("Authorized");
        assertThat(admin.rbac().clusterRoles().withName(ReservedResources.CLUSTER_ROLE).get().getRules())
                .isEqualTo(seed(ClusterRole.class).getRules());
        assertThat(admin.rbac().clusterRoleBindings().withName(ReservedResources.CLUSTER_ROLE_BINDING).get()
                .getRoleRef().getName()).isEqualTo(ReservedResources.CLUSTER_ROLE);
        assertThat(tokenSecrets()).hasSize(1);
    }

    @Test
    @Order(5)
    void theRealTokenControllerFillsTheSecretTheWorkerCreatesOn124AndLater() {
        // Kubernetes 1.24+ cannot be built here; this proves the real controller accepts the worker's Secret.
        ServiceAccount sa = admin.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress").get();
        Secret mine = admin.secrets().inNamespace("kube-system").resource(TokenSecrets.workerSecret(sa)).create();
        try {
            Secret filled = admin.secrets().inNamespace("kube-system").withName(mine.getMetadata().getName())
                    .waitUntilCondition(s -> s != null && TokenSecrets.filled(s), 30, TimeUnit.SECONDS);
            assertThat(TokenSecrets.belongsTo(filled, sa)).isTrue();
        } finally {
            admin.secrets().inNamespace("kube-system").withName(mine.getMetadata().getName()).delete();
        }
    }

    @Test
    @Order(6)
    void checkIsReadOnlyAndNoticesARevokedToken() throws Exception {
        Map<String, String> before = resourceVersions();
        JsonNode ok = authorize(CLUSTER, "ClusterAuthorizationCheckRequested");
        assertThat(ok.get("type").asText()).as(ok.toString()).isEqualTo("Authorized");
        assertThat(ok.get("alreadyAuthorized").asBoolean()).isTrue();
        assertThat(resourceVersions()).as("a check changes nothing").isEqualTo(before);

        // A stored token the API server no longer accepts (rotated, or tampered with).
        Secret stored = admin.secrets().inNamespace("apigw-system").withName("apigw-cluster-" + CLUSTER).get();
        admin.secrets().inNamespace("apigw-system").resource(new SecretBuilder(stored)
                .addToData("token", Base64.getEncoder().encodeToString("not-a-token".getBytes())).build()).update();
        JsonNode revoked = authorize(CLUSTER, "ClusterAuthorizationCheckRequested");
        assertThat(revoked.get("type").asText()).as(revoked.toString()).isEqualTo("NotAuthorized");
        assertThat(revoked.get("credentialValid").asBoolean()).isFalse();

        JsonNode repaired = authorize(CLUSTER);
        assertThat(repaired.get("type").asText()).as(repaired.toString()).isEqualTo("Authorized");
        assertThat(authorize(CLUSTER, "ClusterAuthorizationCheckRequested").get("type").asText())
                .isEqualTo("Authorized");
    }

    @Test
    @Order(10)
    void aTokenTheApiServerRejectsIsReplacedAndTheStoredOneWorks() throws Exception {
        Secret before = tokenSecrets().get(0);
        admin.secrets().inNamespace("kube-system").resource(new SecretBuilder(before)
                .addToData("token", Base64.getEncoder().encodeToString("not-a-token".getBytes())).build()).update();

        assertReplaced(before, authorize(CLUSTER));
    }

    @Test
    @Order(11)
    void aTokenSecretLabelledInvalidByTheLegacyTokenCleanerIsReplaced() throws Exception {
        // 1.20 does not enforce the label (1.29+ rejects such a token): the worker acts on the label itself.
        Secret before = tokenSecrets().get(0);
        admin.secrets().inNamespace("kube-system").withName(before.getMetadata().getName()).edit(s ->
                new SecretBuilder(s).editMetadata()
                        .addToLabels("kubernetes.io/legacy-token-invalid-since", "2026-01-01").endMetadata().build());

        JsonNode result = authorize(CLUSTER);

        assertReplaced(before, result);
        assertThat(tokenSecrets().get(0).getMetadata().getLabels()).doesNotContainKey(
                "kubernetes.io/legacy-token-invalid-since");
    }

    @Test
    @Order(12)
    void aTokenOfAnotherAccountIsNeverStoredEvenThoughItAuthenticates() throws Exception {
        Secret before = tokenSecrets().get(0);
        admin.secrets().inNamespace("kube-system").resource(new SecretBuilder(before)
                .addToData("token", Base64.getEncoder().encodeToString(limitedToken.getBytes())).build()).update();

        assertReplaced(before, authorize(CLUSTER));
        assertThat(storedToken()).isNotEqualTo(limitedToken);
    }

    @Test
    @Order(13)
    void checkReportsATokenWithoutTheSeedsRightsAndAuthorizeRestoresThem() throws Exception {
        rebindTo("view");

        JsonNode check = authorize(CLUSTER, "ClusterAuthorizationCheckRequested");
        assertThat(check.get("type").asText()).as(check.toString()).isEqualTo("NotAuthorized");
        assertThat(check.get("drifted").toString()).contains("ClusterRoleBinding");
        assertThat(check.get("credentialValid").asBoolean()).isFalse();
        assertThat(check.get("credentialProblem").asText()).isEqualTo("lacks_rights");

        assertThat(authorize(CLUSTER).get("type").asText()).isEqualTo("Authorized");
        assertThat(authorize(CLUSTER, "ClusterAuthorizationCheckRequested").get("type").asText())
                .isEqualTo("Authorized");
    }

    @Test
    @Order(14)
    void rotationKeepsTheOldTokenValidForTheGraceThenRevokesIt() throws Exception {
        String oldToken = storedToken();
        String oldSecret = tokenSecrets().get(0).getMetadata().getName();
        String credentialUid = credential().getMetadata().getUid();

        JsonNode rotated = rotate(CLUSTER, "PT8S");

        assertThat(rotated.get("type").asText()).as(rotated.toString()).isEqualTo("CredentialRotated");
        assertThat(rotated.get("previousTokenSecret").asText()).isEqualTo(oldSecret);
        assertThat(rotated.get("tokenSecret").asText()).isNotEqualTo(oldSecret);
        assertThat(rotated.get("revoked").asBoolean()).isFalse();
        assertThat(credential().getMetadata().getUid()).as("the credential Secret changes in place")
                .isEqualTo(credentialUid);
        String newToken = storedToken();
        assertThat(newToken).isNotEqualTo(oldToken);
        assertThat(listsPods(oldToken)).as("the old token during the grace").isEqualTo(200);
        assertThat(listsPods(newToken)).isEqualTo(200);

        awaitRejected(oldToken, Duration.ofSeconds(40));
        assertThat(listsPods(newToken)).isEqualTo(200);
        assertThat(tokenSecrets()).extracting(t -> t.getMetadata().getName())
                .containsExactly(rotated.get("tokenSecret").asText());
    }

    @Test
    @Order(15)
    void aRevocationPendingWhenTheWorkerDiesIsCompletedByTheNextRequest() throws Exception {
        String oldToken = storedToken();
        String oldSecret = tokenSecrets().get(0).getMetadata().getName();
        JsonNode rotated = rotate(CLUSTER, "PT3S");
        assertThat(rotated.get("type").asText()).as(rotated.toString()).isEqualTo("CredentialRotated");

        worker.kill();
        Thread.sleep(Duration.between(Instant.now(),
                Instant.parse(rotated.get("revokeAfter").asText())).plusSeconds(3).toMillis());
        assertThat(admin.secrets().inNamespace("kube-system").withName(oldSecret).get())
                .as("no one revoked it while no worker ran").isNotNull();
        assertThat(listsPods(oldToken)).isEqualTo(200);

        worker = WorkerProcess.start("realkube-restarted", workerConfig).awaitReady(Duration.ofSeconds(90));
        assertThat(authorize(CLUSTER, "ClusterAuthorizationCheckRequested").get("type").asText())
                .isEqualTo("Authorized");
        assertThat(admin.secrets().inNamespace("kube-system").withName(oldSecret).get()).isNull();
        awaitRejected(oldToken, Duration.ofSeconds(20));
        assertThat(tokenSecrets()).extracting(t -> t.getMetadata().getName())
                .containsExactly(rotated.get("tokenSecret").asText());
        assertThat(listsPods(storedToken())).isEqualTo(200);
    }

    /**
     * Issue 26, G6: an authorize that renews the token (older than {@code rotation.max-age}) while a rotation's grace
     * runs first revokes the token that rotation promised to revoke, instead of overwriting its record: that token
     * stops working, and the renewal's own pending revocation is of the rotation's token.
     */
    @Test
    @Order(16)
    void aRenewalDuringARotationsGraceRevokesTheTokenThatRotationRetires() throws Exception {
        worker.close();
        Map<String, String> renewing = new HashMap<>(workerConfig);
        renewing.put("authorizer.rotation.max-age", "PT4S");
        worker = WorkerProcess.start("realkube-renewing", renewing).awaitReady(Duration.ofSeconds(90));
        try {
            String first = storedToken();
            JsonNode rotated = rotate(CLUSTER, "PT10M");
            assertThat(rotated.get("type").asText()).as(rotated.toString()).isEqualTo("CredentialRotated");
            String rotatedToken = storedToken();
            Thread.sleep(5_000); // the rotation's token is now older than max-age

            JsonNode renewed = authorize(CLUSTER);

            assertThat(renewed.get("type").asText()).as(renewed.toString()).isEqualTo("Authorized");
            assertThat(renewed.get("tokenSecret").asText()).isNotEqualTo(rotated.get("tokenSecret").asText());
            awaitRejected(first, Duration.ofSeconds(20));
            assertThat(credential().getMetadata().getAnnotations())
                    .as("the renewal's pending revocation is of the rotation's token")
                    .containsEntry(Marks.REVOKE_TOKEN_SECRET,
                            rotated.get("tokenSecret").asText());
            assertThat(listsPods(rotatedToken)).as("the rotation's token during the renewal's grace").isEqualTo(200);
            assertThat(listsPods(storedToken())).isEqualTo(200);
        } finally {
            worker.close();
            worker = WorkerProcess.start("realkube-after-renewal", workerConfig).awaitReady(Duration.ofSeconds(90));
        }
    }

    /** Authorized with a new token Secret in place of {@code before}, the only one, whose token is stored and works. */
    private static void assertReplaced(Secret before, JsonNode result) {
        assertThat(result.get("type").asText()).as(result.toString()).isEqualTo("Authorized");
        assertThat(result.get("alreadyAuthorized").asBoolean()).isFalse();
        String now = result.get("tokenSecret").asText();
        assertThat(now).isNotEqualTo(before.getMetadata().getName());
        assertThat(result.get("resources").toString()).contains("\"name\":\"" + now + "\",\"action\":\"created\"");
        List<Secret> tokens = tokenSecrets();
        assertThat(tokens).extracting(t -> t.getMetadata().getName()).containsExactly(now);
        assertThat(decode(tokens.get(0).getData().get("token"))).isEqualTo(storedToken());
        assertThat(listsPods(storedToken())).isEqualTo(200);
    }

    private static Secret credential() {
        return admin.secrets().inNamespace("apigw-system").withName("apigw-cluster-" + CLUSTER).get();
    }

    private static String storedToken() {
        return decode(credential().getData().get("token"));
    }

    /** The HTTP status of listing pods in every namespace with this token, as the gateway does. */
    private static int listsPods(String token) {
        Config asGateway = new ConfigBuilder(Config.empty()).withMasterUrl(kube.server())
                .withCaCertData(credential().getData().get("ca.crt")).withOauthToken(token).build();
        try (KubernetesClient gateway = new KubernetesClientBuilder().withConfig(asGateway).build()) {
            gateway.pods().inAnyNamespace().list(new ListOptionsBuilder()
                    .withLimit(1L).build());
            return 200;
        } catch (KubernetesClientException e) {
            return e.getCode();
        }
    }

    private static void awaitRejected(String token, Duration within) throws InterruptedException {
        long until = System.nanoTime() + within.toNanos();
        while (listsPods(token) != 401 && System.nanoTime() < until) {
            Thread.sleep(250);
        }
        assertThat(listsPods(token)).as("the old token is rejected").isEqualTo(401);
    }

    private static JsonNode rotate(String clusterId, String grace) throws Exception {
        String id = "it-" + UUID.randomUUID();
        kafka.send(KafkaBroker.REQUESTS, clusterId, ("{\"requestId\":\"" + id + "\",\"clusterId\":\"" + clusterId
                + "\",\"grace\":\"" + grace + "\"}").getBytes(StandardCharsets.UTF_8),
                List.of(Requests.header("ce_specversion", "1.0"),
                        Requests.header("ce_type", "ClusterCredentialRotationRequested"),
                        Requests.header("ce_id", "evt-" + id),
                        Requests.header("ce_source", "/test")));
        return result(id);
    }

    @Test
    @Order(20)
    void deauthorizeRemovesTheGrantAndTheTokenStopsWorking() throws Exception {
        Secret credential = admin.secrets().inNamespace("apigw-system").withName("apigw-cluster-" + CLUSTER).get();
        JsonNode gone = authorize(CLUSTER, "ClusterDeauthorizationRequested");

        assertThat(gone.get("type").asText()).as(gone.toString()).isEqualTo("Deauthorized");
        assertThat(admin.rbac().clusterRoles().withName(ReservedResources.CLUSTER_ROLE).get()).isNull();
        assertThat(admin.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress").get()).isNull();
        assertThat(admin.secrets().inNamespace("apigw-system").withName("apigw-cluster-" + CLUSTER).get()).isNull();
        assertThat(admin.serviceAccounts().inNamespace("kube-system").withName(LIMITED).get()).isNotNull();
        Config asGateway = new ConfigBuilder(Config.empty()).withMasterUrl(kube.server())
                .withCaCertData(credential.getData().get("ca.crt"))
                .withOauthToken(decode(credential.getData().get("token"))).build();
        try (KubernetesClient gateway = new KubernetesClientBuilder().withConfig(asGateway).build()) {
            // The rights are gone at once (403); the token itself may still authenticate until the API server's
            // service account lookup catches up (401).
            Assertions.assertThatThrownBy(() -> gateway.pods().inNamespace("default").list())
                    .isInstanceOfSatisfying(KubernetesClientException.class,
                            e -> assertThat(e.getCode()).isIn(401, 403));
        }
        JsonNode again = authorize(CLUSTER, "ClusterDeauthorizationRequested");
        assertThat(again.get("resources").findValuesAsText("action")).containsOnly("absent");
    }

    @Test
    @Order(21)
    void adminWithoutTheRightsToGrantThemIsDeniedAndNothingIsWritten() throws Exception {
        deleteReservedResources();

        JsonNode result = authorize(LIMITED);

        assertThat(result.get("type").asText()).as(result.toString()).isEqualTo("Failed");
        assertThat(result.get("code").asText()).isEqualTo("PERMISSION_DENIED");
        assertThat(admin.rbac().clusterRoles().withName(ReservedResources.CLUSTER_ROLE).get()).isNull();
        assertThat(admin.rbac().clusterRoleBindings().withName(ReservedResources.CLUSTER_ROLE_BINDING).get()).isNull();
        assertThat(admin.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress").get()).isNull();
    }

    @Test
    @Order(21)
    void adminOnlyInKubeSystemIsDeniedAndNothingIsWritten() throws Exception {
        // RBAC judges the ClusterRole and its binding by cluster-wide grants only: kube-system's RoleBinding to
        // cluster-admin does not count, so the preflight must not let the ServiceAccount be made first.
        deleteReservedResources();

        JsonNode result = authorize(KUBE_SYSTEM_ADMIN);

        assertThat(result.get("type").asText()).as(result.toString()).isEqualTo("Failed");
        assertThat(result.get("code").asText()).isEqualTo("PERMISSION_DENIED");
        assertThat(result.get("message").asText()).contains("nothing was changed");
        assertThat(admin.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress").get()).isNull();
        assertThat(admin.rbac().clusterRoles().withName(ReservedResources.CLUSTER_ROLE).get()).isNull();
        assertThat(admin.rbac().clusterRoleBindings().withName(ReservedResources.CLUSTER_ROLE_BINDING).get()).isNull();
        assertThat(tokenSecrets()).isEmpty();
    }

    @Test
    @Order(22)
    void apiServerDownIsUnreachableAfterRetriesAndARetryWorksOnceItIsBack() throws Exception {
        kube.stopApiServer();
        JsonNode down;
        try {
            down = authorize(CLUSTER);
        } finally {
            kube.startApiServer();
        }
        assertThat(down.get("code").asText()).as(down.toString()).isEqualTo("API_SERVER_UNREACHABLE");
        assertThat(down.get("retryable").asBoolean()).isTrue();
        assertThat(down.get("attempts").asInt()).isEqualTo(3);

        JsonNode retried = authorize(CLUSTER);
        assertThat(retried.get("type").asText()).as(retried.toString()).isEqualTo("Authorized");
        assertThat(tokenSecrets()).hasSize(1);
    }

    private static Map<String, String> resourceVersions() {
        return Map.of("sa", admin.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress").get()
                .getMetadata().getResourceVersion(),
                "role", admin.rbac().clusterRoles().withName(ReservedResources.CLUSTER_ROLE).get().getMetadata()
                        .getResourceVersion(),
                "binding", admin.rbac().clusterRoleBindings().withName(ReservedResources.CLUSTER_ROLE_BINDING).get()
                        .getMetadata().getResourceVersion(),
                "credential", admin.secrets().inNamespace("apigw-system").withName("apigw-cluster-" + CLUSTER).get()
                        .getMetadata().getResourceVersion());
    }

    private static JsonNode authorize(String clusterId) throws Exception {
        return authorize(clusterId, "ClusterAuthorizationRequested");
    }

    private static JsonNode authorize(String clusterId, String type) throws Exception {
        String id = "it-" + UUID.randomUUID();
        kafka.sendRequest(KafkaBroker.REQUESTS, id, clusterId, type);
        return result(id);
    }

    private static JsonNode result(String id) throws Exception {
        List<ConsumerRecord<byte[], byte[]>> read = kafka.readUntil(KafkaBroker.RESULTS,
                rs -> rs.stream().anyMatch(r -> KafkaClients.text(r.value()).contains(id)), Duration.ofSeconds(120));
        ConsumerRecord<byte[], byte[]> r = read.stream().filter(x -> KafkaClients.text(x.value()).contains(id))
                .findFirst().orElseThrow(() -> new AssertionError("no result for " + id + "\n" + worker.log()));
        ObjectNode body = (ObjectNode) JSON.readTree(r.value());
        body.put("type", KafkaClients.header(r, "ce_type"));
        return body;
    }

    private static List<Secret> tokenSecrets() {
        return admin.secrets().inNamespace("kube-system").list().getItems().stream()
                .filter(s -> s.getMetadata().getName().startsWith(ReservedResources.TOKEN_SECRET_PREFIX)).toList();
    }

    private static boolean can(KubernetesClient as, String verb, String group, String resource) {
        SelfSubjectAccessReview review = as.authorization().v1().selfSubjectAccessReview()
                .create(new SelfSubjectAccessReviewBuilder().withNewSpec().withNewResourceAttributes()
                        .withVerb(verb).withGroup(group).withResource(resource).withNamespace("default")
                        .endResourceAttributes().endSpec().build());
        return review.getStatus().getAllowed();
    }

    private static <T extends HasMetadata> T seed(Class<T> kind) {
        try (InputStream in = RealKubeIT.class.getResourceAsStream("/seed/apigw-ingress.yaml")) {
            return admin.load(in).items().stream().filter(kind::isInstance).map(kind::cast).findFirst().orElseThrow();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteReservedResources() throws InterruptedException {
        admin.rbac().clusterRoleBindings().withName(ReservedResources.CLUSTER_ROLE_BINDING).delete();
        admin.rbac().clusterRoles().withName(ReservedResources.CLUSTER_ROLE).delete();
        admin.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress").delete();
        for (int i = 0; i < 100 && (admin.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress")
                .get() != null || !tokenSecrets().isEmpty()); i++) {
            Thread.sleep(100);
        }
    }

    /** The reserved binding made again with another roleRef (roleRef is immutable), as a user might. */
    private static void rebindTo(String clusterRole) throws InterruptedException {
        admin.rbac().clusterRoleBindings().withName(ReservedResources.CLUSTER_ROLE_BINDING).delete();
        awaitBindingGone();
        admin.rbac().clusterRoleBindings().resource(new ClusterRoleBindingBuilder()
                .withNewMetadata().withName(ReservedResources.CLUSTER_ROLE_BINDING).endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", clusterRole)
                .addNewSubject().withKind("ServiceAccount").withName("apigw-ingress").withNamespace("kube-system")
                .endSubject().build()).create();
    }

    private static void awaitBindingGone() throws InterruptedException {
        for (int i = 0; i < 50 && admin.rbac().clusterRoleBindings().withName(ReservedResources.CLUSTER_ROLE_BINDING)
                .get() != null; i++) {
            Thread.sleep(100);
        }
    }

    /** A ServiceAccount that may create the four kinds but does not hold the rights the seed role grants. */
    private static String limitedAdminToken() throws InterruptedException {
        admin.rbac().clusterRoles().resource(new ClusterRoleBuilder().withNewMetadata().withName(LIMITED).endMetadata()
                .addNewRule().withApiGroups("", "rbac.authorization.k8s.io")
                .withResources("serviceaccounts", "secrets", "clusterroles", "clusterrolebindings")
                .withVerbs("get", "list", "watch", "create", "update", "patch", "delete").endRule().build())
                .serverSideApply();
        admin.serviceAccounts().inNamespace("kube-system").resource(new ServiceAccountBuilder().withNewMetadata()
                .withName(LIMITED).withNamespace("kube-system").endMetadata().build()).serverSideApply();
        admin.rbac().clusterRoleBindings().resource(new ClusterRoleBindingBuilder().withNewMetadata()
                .withName(LIMITED).endMetadata().withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", LIMITED)
                .addNewSubject().withKind("ServiceAccount").withName(LIMITED).withNamespace("kube-system").endSubject()
                .build()).serverSideApply();
        return tokenOf(LIMITED);
    }

    private static String kubeSystemAdminToken() throws InterruptedException {
        String writer = KUBE_SYSTEM_ADMIN + "-rbac";
        admin.rbac().clusterRoles().resource(new ClusterRoleBuilder().withNewMetadata().withName(writer).endMetadata()
                .addNewRule().withApiGroups("rbac.authorization.k8s.io")
                .withResources("clusterroles", "clusterrolebindings")
                .withVerbs("get", "list", "watch", "create", "update", "patch", "delete").endRule().build())
                .serverSideApply();
        admin.serviceAccounts().inNamespace("kube-system").resource(new ServiceAccountBuilder().withNewMetadata()
                .withName(KUBE_SYSTEM_ADMIN).withNamespace("kube-system").endMetadata().build()).serverSideApply();
        admin.rbac().clusterRoleBindings().resource(new ClusterRoleBindingBuilder().withNewMetadata()
                .withName(writer).endMetadata().withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", writer)
                .addNewSubject().withKind("ServiceAccount").withName(KUBE_SYSTEM_ADMIN).withNamespace("kube-system")
                .endSubject().build()).serverSideApply();
        admin.rbac().roleBindings().inNamespace("kube-system").resource(new RoleBindingBuilder().withNewMetadata()
                .withName(KUBE_SYSTEM_ADMIN).withNamespace("kube-system").endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", "cluster-admin")
                .addNewSubject().withKind("ServiceAccount").withName(KUBE_SYSTEM_ADMIN).withNamespace("kube-system")
                .endSubject().build()).serverSideApply();
        return tokenOf(KUBE_SYSTEM_ADMIN);
    }

    /** The token the (pre-1.24) token controller issued for a kube-system ServiceAccount. */
    private static String tokenOf(String serviceAccount) throws InterruptedException {
        for (int i = 0; i < 300; i++) {
            ServiceAccount sa = admin.serviceAccounts().inNamespace("kube-system").withName(serviceAccount).get();
            if (sa.getSecrets() != null && !sa.getSecrets().isEmpty()) {
                Secret s = admin.secrets().inNamespace("kube-system").withName(sa.getSecrets().get(0).getName()).get();
                if (s != null && s.getData() != null && s.getData().containsKey("token")) {
                    return decode(s.getData().get("token"));
                }
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("no token for " + serviceAccount);
    }

    /** The worker's cluster directory: the admin context and one with the limited credential. */
    private static Path directory(String limitedToken, String kubeSystemAdminToken) throws Exception {
        Path file = Files.createTempFile("directory", ".kubeconfig");
        Files.writeString(file, """
                apiVersion: v1
                kind: Config
                clusters:
                - name: local
                  cluster:
                    server: %s
                    certificate-authority: %s
                users:
                - name: admin
                  user:
                    token: %s
                - name: limited
                  user:
                    token: %s
                - name: kube-system-admin
                  user:
                    token: %s
                contexts:
                - name: %s
                  context: {cluster: local, user: admin}
                - name: %s
                  context: {cluster: local, user: limited}
                - name: %s
                  context: {cluster: local, user: kube-system-admin}
                """.formatted(kube.server(), kube.caFile(), kube.adminToken(), limitedToken, kubeSystemAdminToken,
                CLUSTER, LIMITED, KUBE_SYSTEM_ADMIN));
        return file;
    }

    private static String decode(String b64) {
        return new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8);
    }
}

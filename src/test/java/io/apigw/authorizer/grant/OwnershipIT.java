package io.apigw.authorizer.grant;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

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

import io.apigw.authorizer.credential.CredentialStore;
import io.apigw.authorizer.sweep.SweepHarness;
import io.apigw.authorizer.testing.FreePort;
import io.apigw.authorizer.testing.KafkaBroker;
import io.apigw.authorizer.testing.KafkaClients;
import io.apigw.authorizer.testing.LocalKube;
import io.apigw.authorizer.testing.Requests;
import io.apigw.authorizer.testing.WorkerProcess;
import io.apigw.authorizer.marks.Marks;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.StandardCopyOption;
import java.util.Base64;

/**
 * Who a cluster's reserved resources belong to, and which cluster a credential is of, on real parts: two real
 * kube-apiservers, a real broker and two packaged gateway instances ({@code gw-a} on policy v2 and {@code gw-b} on v1:
 * each its own topics, consumer group and credential namespace, as two deployments are). Instance A's directory is a kubeconfig
 * file the test rewrites, so that one cluster id can lead to another control plane.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OwnershipIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SHARED = "cls-shared";
    private static final String USERS = "cls-users";
    private static final String SWAPPED = "cls-swapped";

    /** One gateway instance as deployed: its topics and the namespace where it keeps its credentials. */
    private record Instance(String id, String requests, String results, String namespace, WorkerProcess worker) {
    }

    static LocalKube kubeA;
    static LocalKube kubeB;
    static KubernetesClient adminA;
    static KubernetesClient adminB;
    static KafkaBroker broker;
    static KafkaClients kafka;
    static Path directoryA;
    static Instance gwA;
    static Instance gwB;

    @BeforeAll
    static void start() throws Exception {
        List<LocalKube> kubes = SweepHarness.startKubes(2);
        kubeA = kubes.get(0);
        kubeB = kubes.get(1);
        adminA = kubeA.adminClient();
        adminB = kubeB.adminClient();
        broker = KafkaBroker.start(FreePort.closed(), 4);
        broker.createTopics("b.requests", "b.results", "b.requests.dlq", 4);
        kafka = new KafkaClients(broker.bootstrapServers());
        directoryA = Files.createTempFile("directory-a", ".kubeconfig");
        writeDirectory(directoryA, Map.of(SHARED, kubeA, USERS, kubeB, SWAPPED, kubeA));
        Path directoryB = Files.createTempFile("directory-b", ".kubeconfig");
        writeDirectory(directoryB, Map.of(SHARED, kubeA));

        Map<String, String> a = config("gw-a", "apigw-a", directoryA);
        a.put("authorizer.policy.version", "2");
        Map<String, String> b = config("gw-b", "apigw-b", directoryB);
        b.put("mp.messaging.incoming.authorization-requests.topic", "b.requests");
        b.put("mp.messaging.incoming.authorization-requests.group.id", "gw-b");
        b.put("mp.messaging.outgoing.authorization-results.topic", "b.results");
        b.put("mp.messaging.outgoing.authorization-dead-letters.topic", "b.requests.dlq");
        b.put("mp.messaging.outgoing.repair-requests.topic", "b.requests");
        b.put("mp.messaging.incoming.sweep-requests.group.id", "gw-b-sweeps");
        WorkerProcess workerA = WorkerProcess.start("gw-a", a);
        WorkerProcess workerB = WorkerProcess.start("gw-b", b);
        gwA = new Instance("gw-a", KafkaBroker.REQUESTS, KafkaBroker.RESULTS, "apigw-a",
                workerA.awaitReady(Duration.ofSeconds(90)));
        gwB = new Instance("gw-b", "b.requests", "b.results", "apigw-b", workerB.awaitReady(Duration.ofSeconds(90)));
    }

    @AfterAll
    static void stop() {
        SweepHarness.closeAll(gwA == null ? null : gwA.worker(), gwB == null ? null : gwB.worker(), kafka, broker,
                adminA, adminB, kubeA, kubeB);
    }

    /**
     * A (policy v2) authorizes and rotates with a short grace; B (policy v1) joins during that grace. B stores the
     * rotation's token, not the one A revokes when the grace ends (issue 26, G2), and leaves the shared v2 ClusterRole
     * as it is while A relies on it (G3); then the instances share the cluster as before.
     */
    @Test
    @Order(1)
    void twoInstancesShareAClusterAndTheFirstToDeauthorizeLeavesTheOthersAccessWorking() throws Exception {
        assertThat(ask(gwA, SHARED, "ClusterAuthorizationRequested").get("type").asText()).isEqualTo("Authorized");
        String first = credential(gwA, SHARED).getMetadata().getAnnotations()
                .get(Marks.TOKEN_SECRET);
        JsonNode rotated = ask(gwA, SHARED, "ClusterCredentialRotationRequested", Map.of("grace", "PT8S"));
        assertThat(rotated.get("type").asText()).as(rotated.toString()).isEqualTo("CredentialRotated");
        Instant revokeAfter = Instant.parse(rotated.get("revokeAfter").asText());
        JsonNode joined = ask(gwB, SHARED, "ClusterAuthorizationRequested");
        assertThat(joined.get("type").asText()).as(joined.toString()).isEqualTo("Authorized");
        assertThat(action(joined, "ServiceAccount")).as("B marks the account it now relies on too").isEqualTo("updated");
        assertThat(owners(adminA)).isEqualTo("gw-a,gw-b");
        assertThat(joined.get("tokenSecret").asText()).as("B stores the rotation's token, not the one being revoked")
                .isEqualTo(rotated.get("tokenSecret").asText()).isNotEqualTo(first);
        assertThat(action(joined, "ClusterRole")).as("B (v1) leaves A's v2 ClusterRole as it is").isEqualTo("unchanged");
        assertThat(adminA.rbac().clusterRoles().withName(ReservedResources.CLUSTER_ROLE).get().getMetadata()
                .getAnnotations()).containsEntry(Marks.POLICY_VERSION, "2");
        assertThat(gwB.worker().log()).contains("is kept at the policy version other gateway instances rely on");
        assertThat(adminA.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress").get().getMetadata()
                .getAnnotations()).containsEntry(Marks.OWNER_POLICIES, "gw-a=2,gw-b=1");
        JsonNode bChecks = ask(gwB, SHARED, "ClusterAuthorizationCheckRequested");
        assertThat(bChecks.get("type").asText()).as("a role that grants more is not drift: " + bChecks)
                .isEqualTo("Authorized");

        while (Instant.now().isBefore(revokeAfter.plusSeconds(1))) {
            Thread.sleep(200);
        }
        ask(gwA, SHARED, "ClusterAuthorizationCheckRequested"); // the due revocation, if the timer has not run it
        assertThat(adminA.secrets().inNamespace("kube-system").withName(first).get()).as("A revoked its old token")
                .isNull();
        JsonNode bAfterRevocation = ask(gwB, SHARED, "ClusterAuthorizationCheckRequested");
        assertThat(bAfterRevocation.get("type").asText()).as("B's stored token outlives A's revocation: "
                + bAfterRevocation).isEqualTo("Authorized");

        JsonNode rotation = ask(gwB, SHARED, "ClusterCredentialRotationRequested");
        assertThat(rotation.get("type").asText()).as(rotation.toString()).isEqualTo("Failed");
        assertThat(rotation.get("code").asText()).isEqualTo("CONFLICT");
        assertThat(rotation.get("message").asText()).contains("shared with gw-a", "nothing was rotated");

        JsonNode left = ask(gwA, SHARED, "ClusterDeauthorizationRequested");
        assertThat(left.get("type").asText()).as(left.toString()).isEqualTo("Deauthorized");
        assertThat(left.get("complete").asBoolean()).isFalse();
        assertThat(left.get("retryable").asBoolean()).isFalse();
        assertThat(left.get("sharedWith")).containsExactly(JSON.valueToTree("gw-b"));
        assertThat(left.get("message").asText()).contains("gw-b also rely on them");
        for (String kind : List.of("ServiceAccount", "ClusterRole", "ClusterRoleBinding")) {
            assertThat(action(left, kind)).as(kind).isEqualTo("kept");
        }
        assertThat(credential(gwA, SHARED)).as("A's own access is gone").isNull();
        assertThat(owners(adminA)).isEqualTo("gw-b");

        // A relied on v2; with A gone, nobody does: B's check finds the role above what it needs, and B's authorize
        // (a sweep's repair, with repair on) lowers it to v1, B's own.
        JsonNode aboveNeeds = ask(gwB, SHARED, "ClusterAuthorizationCheckRequested");
        assertThat(aboveNeeds.get("type").asText()).as(aboveNeeds.toString()).isEqualTo("NotAuthorized");
        assertThat(aboveNeeds.get("drifted").toString()).contains(ReservedResources.CLUSTER_ROLE);
        JsonNode lowered = ask(gwB, SHARED, "ClusterAuthorizationRequested");
        assertThat(action(lowered, "ClusterRole")).as(lowered.toString()).isEqualTo("updated");
        assertThat(adminA.rbac().clusterRoles().withName(ReservedResources.CLUSTER_ROLE).get().getMetadata()
                .getAnnotations()).containsEntry(Marks.POLICY_VERSION, "1");
        JsonNode stillThere = ask(gwB, SHARED, "ClusterAuthorizationCheckRequested");
        assertThat(stillThere.get("type").asText()).as("B's stored token still works: " + stillThere)
                .isEqualTo("Authorized");
        try (KubernetesClient asGateway = gatewayClient(gwB, SHARED)) {
            assertThat(asGateway.services().inAnyNamespace().list().getItems()).as("with the seed's rights")
                    .isNotEmpty();
        }

        JsonNode last = ask(gwB, SHARED, "ClusterDeauthorizationRequested");
        assertThat(last.get("complete").asBoolean()).as(last.toString()).isTrue();
        assertThat(action(last, "ServiceAccount")).isEqualTo("deleted");
        assertThat(adminA.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress").get()).isNull();
        assertThat(adminA.rbac().clusterRoles().withName(ReservedResources.CLUSTER_ROLE).get()).isNull();
    }

    @Test
    @Order(2)
    void aServiceAccountThatWasThereBeforeAnyGatewayIsKeptOnDeauthorize() throws Exception {
        adminB.serviceAccounts().inNamespace("kube-system").resource(new ServiceAccountBuilder().withNewMetadata()
                .withNamespace("kube-system").withName("apigw-ingress").endMetadata().build()).create();

        JsonNode authorized = ask(gwA, USERS, "ClusterAuthorizationRequested");
        assertThat(authorized.get("type").asText()).as(authorized.toString()).isEqualTo("Authorized");
        assertThat(owners(adminB)).isEqualTo("gw-a," + Owners.PRE_EXISTING);

        JsonNode left = ask(gwA, USERS, "ClusterDeauthorizationRequested");
        assertThat(left.get("sharedWith")).as(left.toString()).containsExactly(JSON.valueToTree(Owners.PRE_EXISTING));
        assertThat(left.get("message").asText()).contains("was there before any API gateway authorized the cluster");
        ServiceAccount kept = adminB.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress").get();
        assertThat(kept).as("the user's own account stays").isNotNull();
        assertThat(kept.getMetadata().getAnnotations()).containsEntry(Marks.OWNERS, Owners.PRE_EXISTING);

        // Leave control plane B as a cluster no gateway has touched, for the next test.
        adminB.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress").delete();
        adminB.rbac().clusterRoleBindings().withName(ReservedResources.CLUSTER_ROLE_BINDING).delete();
        adminB.rbac().clusterRoles().withName(ReservedResources.CLUSTER_ROLE).delete();
    }

    @Test
    @Order(3)
    void anotherClusterBehindTheSameIdIsNeverTakenForTheAuthorizedOne() throws Exception {
        assertThat(ask(gwA, SWAPPED, "ClusterAuthorizationRequested").get("type").asText()).isEqualTo("Authorized");
        String uidA = kubeSystemUid(adminA);
        String uidB = kubeSystemUid(adminB);
        assertThat(credential(gwA, SWAPPED).getMetadata().getAnnotations())
                .containsEntry(Marks.CLUSTER_UID, uidA);

        // The id now leads to another control plane (deleted and re-created, or an endpoint moved).
        writeDirectory(directoryA, Map.of(SHARED, kubeA, USERS, kubeB, SWAPPED, kubeB));

        JsonNode checked = ask(gwA, SWAPPED, "ClusterAuthorizationCheckRequested");
        assertThat(checked.get("type").asText()).as(checked.toString()).isEqualTo("NotAuthorized");
        assertThat(checked.get("credentialProblem").asText()).isEqualTo("cluster_replaced");
        assertThat(checked.get("credentialMessage").asText()).contains(uidA, uidB, "authorize again");

        String version = credential(gwA, SWAPPED).getMetadata().getResourceVersion();
        JsonNode repair = ask(gwA, SWAPPED, "ClusterAuthorizationRequested",
                Map.of("ifCredentialVersion", version, "trigger", "repair"));
        assertThat(repair.get("type").asText()).as(repair.toString()).isEqualTo("Failed");
        assertThat(repair.get("code").asText()).isEqualTo("CONFLICT");
        JsonNode rotation = ask(gwA, SWAPPED, "ClusterCredentialRotationRequested");
        assertThat(rotation.get("code").asText()).as(rotation.toString()).isEqualTo("CONFLICT");
        assertThat(adminB.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress").get())
                .as("nothing written in the other cluster").isNull();

        JsonNode reestablished = ask(gwA, SWAPPED, "ClusterAuthorizationRequested");
        assertThat(reestablished.get("type").asText()).as(reestablished.toString()).isEqualTo("Authorized");
        assertThat(credential(gwA, SWAPPED).getMetadata().getAnnotations())
                .containsEntry(Marks.CLUSTER_UID, uidB);
        assertThat(ask(gwA, SWAPPED, "ClusterAuthorizationCheckRequested").get("type").asText())
                .isEqualTo("Authorized");
        assertThat(gwA.worker().log()).contains("is not the one authorized", "authorizing the cluster that answers now");
    }

    private static Map<String, String> config(String instanceId, String namespace, Path directory) {
        adminA.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata()
                .build()).serverSideApply();
        Map<String, String> config = new HashMap<>();
        config.put("kafka.bootstrap.servers", broker.bootstrapServers());
        config.put("authorizer.instance-id", instanceId);
        config.put("authorizer.credentials.namespace", namespace);
        config.put("authorizer.directory.kubeconfig.path", directory.toString());
        config.put("quarkus.kubernetes-client.api-server-url", kubeA.server());
        config.put("quarkus.kubernetes-client.ca-cert-file", kubeA.caFile().toString());
        config.put("quarkus.kubernetes-client.token", kubeA.adminToken());
        config.put("authorizer.retry.initial-backoff", "200ms");
        config.put("authorizer.retry.max-backoff", "1s");
        config.put("authorizer.request.deadline", "20s");
        config.put("authorizer.sweep.interval", "0s");
        return config;
    }

    /** A kubeconfig directory: each cluster id a context with the admin of that control plane. */
    private static void writeDirectory(Path file, Map<String, LocalKube> clusters) throws Exception {
        StringBuilder s = new StringBuilder("apiVersion: v1\nkind: Config\nclusters:\n");
        StringBuilder users = new StringBuilder("users:\n");
        StringBuilder contexts = new StringBuilder("contexts:\n");
        for (Map.Entry<String, LocalKube> c : clusters.entrySet()) {
            String id = c.getKey();
            s.append("- name: ").append(id).append("\n  cluster:\n    server: ").append(c.getValue().server())
                    .append("\n    certificate-authority: ").append(c.getValue().caFile()).append('\n');
            users.append("- name: ").append(id).append("\n  user:\n    token: ").append(c.getValue().adminToken())
                    .append('\n');
            contexts.append("- name: ").append(id).append("\n  context: {cluster: ").append(id).append(", user: ")
                    .append(id).append("}\n");
        }
        Path next = Files.createTempFile(file.getParent(), "directory", ".tmp");
        Files.writeString(next, s.append(users).append(contexts).toString());
        Files.move(next, file, StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
    }

    private static JsonNode ask(Instance to, String clusterId, String type) throws Exception {
        return ask(to, clusterId, type, Map.of());
    }

    private static JsonNode ask(Instance to, String clusterId, String type, Map<String, String> extra)
            throws Exception {
        String id = "it-" + UUID.randomUUID();
        ObjectNode data = (ObjectNode) JSON.readTree(Requests.request(id, clusterId));
        data.put("appId", "1250000000");
        extra.forEach(data::put);
        kafka.send(to.requests(), clusterId, JSON.writeValueAsBytes(data), List.of(
                Requests.header("ce_specversion", "1.0"), Requests.header("ce_type", type),
                Requests.header("ce_id", "evt-" + id), Requests.header("ce_source", "/test")));
        List<ConsumerRecord<byte[], byte[]>> read = kafka.readUntil(to.results(),
                rs -> rs.stream().anyMatch(r -> KafkaClients.text(r.value()).contains(id)), Duration.ofSeconds(60));
        ConsumerRecord<byte[], byte[]> r = read.stream().filter(x -> KafkaClients.text(x.value()).contains(id))
                .findFirst().orElseThrow(() -> new AssertionError("no result for " + id + "\n" + to.worker().log()));
        ObjectNode body = (ObjectNode) JSON.readTree(r.value());
        body.put("type", KafkaClients.header(r, "ce_type"));
        return body;
    }

    private static String action(JsonNode result, String kind) {
        for (JsonNode r : result.get("resources")) {
            if (r.get("kind").asText().equals(kind)) {
                return r.get("action").asText();
            }
        }
        return null;
    }

    private static String owners(KubernetesClient admin) {
        return admin.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress").get().getMetadata()
                .getAnnotations().get(Marks.OWNERS);
    }

    private static String kubeSystemUid(KubernetesClient admin) {
        return admin.namespaces().withName("kube-system").get().getMetadata().getUid();
    }

    private static Secret credential(Instance of, String clusterId) {
        return adminA.secrets().inNamespace(of.namespace()).withName(CredentialStore.NAME_PREFIX + clusterId).get();
    }

    /** A client exactly as the gateway uses the stored credential: its endpoint, its CA, its token. */
    private static KubernetesClient gatewayClient(Instance of, String clusterId) {
        Secret s = credential(of, clusterId);
        Base64.Decoder d = Base64.getDecoder();
        return new KubernetesClientBuilder().withConfig(
                new ConfigBuilder()
                        .withMasterUrl(new String(d.decode(s.getData().get("server")),
                                StandardCharsets.UTF_8))
                        .withCaCertData(s.getData().get("ca.crt"))
                        .withOauthToken(new String(d.decode(s.getData().get("token")),
                                StandardCharsets.UTF_8))
                        .build()).build();
    }
}

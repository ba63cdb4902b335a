package io.apigw.authorizer.sweep;

import static io.apigw.authorizer.sweep.SweepHarness.LEASE;
import static io.apigw.authorizer.sweep.SweepHarness.NAMESPACE;
import static io.apigw.authorizer.sweep.SweepHarness.cluster;
import static io.apigw.authorizer.sweep.SweepHarness.context;
import static io.apigw.authorizer.sweep.SweepHarness.credential;
import static io.apigw.authorizer.sweep.SweepHarness.gatewayClient;
import static io.apigw.authorizer.sweep.SweepHarness.gauge;
import static io.apigw.authorizer.sweep.SweepHarness.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import com.fasterxml.jackson.databind.JsonNode;

import io.apigw.authorizer.policy.Policy;
import io.apigw.authorizer.grant.ReservedResources;
import io.apigw.authorizer.testing.FreePort;
import io.apigw.authorizer.testing.KafkaBroker;
import io.apigw.authorizer.testing.KafkaClients;
import io.apigw.authorizer.testing.LocalKube;
import io.apigw.authorizer.testing.WorkerProcess;
import io.apigw.authorizer.marks.Marks;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.ArrayList;

/**
 * A policy rollout on real parts: three real kube-apiservers, a real broker, the worker as a process with the
 * shipped Role. Clusters authorized under v1 keep v1 after the worker is configured for v2 and while the rollout is
 * paused; once resumed, the sweep moves them in waves of one, in cluster-id order, and stops when a wave fails (an
 * admin credential that may not grant v2's rules); after the cause is fixed, resuming finishes the rollout.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RolloutIT {

    private static final Duration INTERVAL = Duration.ofSeconds(20);
    private static final Duration WAVE_TIMEOUT = Duration.ofSeconds(10);
    private static final String A = "cls-a-moves";
    private static final String B = "cls-b-limited-admin";
    private static final String C = "cls-c-waits";
    private static final String LIMITED = "limited-admin";

    static LocalKube own;
    static LocalKube kubeB;
    static LocalKube kubeC;
    static KubernetesClient ownAdmin;
    static KubernetesClient adminB;
    static KubernetesClient adminC;
    static KafkaBroker broker;
    static KafkaClients kafka;
    static Path directory;
    static Map<String, String> config;
    static WorkerProcess worker;

    @BeforeAll
    static void start() throws Exception {
        List<LocalKube> kubes = SweepHarness.startKubes(3);
        own = kubes.get(0);
        kubeB = kubes.get(1);
        kubeC = kubes.get(2);
        ownAdmin = own.adminClient();
        adminB = kubeB.adminClient();
        adminC = kubeC.adminClient();
        broker = KafkaBroker.start(FreePort.closed(), 4);
        kafka = new KafkaClients(broker.bootstrapServers());
        String limitedToken = limitedAdmin(adminB);
        directory = Files.createTempFile("rollout-directory", ".kubeconfig");
        SweepHarness.writeAtomically(directory, "apiVersion: v1\nkind: Config\nclusters:\n" + cluster("a", own)
                + cluster("b", kubeB) + cluster("c", kubeC) + "users:\n" + user("a", own.adminToken())
                + user("b", limitedToken) + user("c", kubeC.adminToken()) + "contexts:\n" + context(A, "a", "a")
                + context(B, "b", "b") + context(C, "c", "c"));

        config = SweepHarness.workerConfig(broker.bootstrapServers(), own, ownAdmin, INTERVAL);
        config.put("authorizer.directory.kubeconfig.path", directory.toString());
        config.put("authorizer.rollout.wave-size", "1");
        config.put("authorizer.rollout.failure-threshold", "0.5");
        config.put("authorizer.rollout.wave-timeout", WAVE_TIMEOUT.toSeconds() + "s");
        worker = WorkerProcess.start("rollout-v1", config).awaitReady(Duration.ofSeconds(90));
    }

    @AfterAll
    static void stop() {
        SweepHarness.closeAll(worker, kafka, broker, adminB, adminC, ownAdmin, own, kubeB, kubeC);
    }

    @Test
    @Order(1)
    void clustersAuthorizedUnderVersionOneRecordIt() throws Exception {
        for (String cluster : List.of(A, B, C)) {
            JsonNode r = console(cluster, "ClusterAuthorizationRequested");
            assertThat(r.get("type").asText()).as(r.toString()).isEqualTo("Authorized");
            assertThat(r.get("policyVersion").asInt()).isEqualTo(1);
            assertThat(credential(ownAdmin, cluster).getMetadata().getLabels())
                    .containsEntry(Marks.POLICY_VERSION, "1");
        }
        for (KubernetesClient admin : List.of(ownAdmin, adminB, adminC)) {
            assertThat(role(admin).getMetadata().getAnnotations())
                    .containsEntry(Marks.POLICY_VERSION, "1");
            assertThat(role(admin).getRules()).isEqualTo(Policy.V1.rules());
        }
    }

    @Test
    @Order(2)
    void configuredForVersionTwoButPausedNoClusterChanges() throws Exception {
        await("the v1 worker's sweeper made its Lease", Duration.ofSeconds(30), () -> lease() != null);
        // The operator pauses the rollout before the new configuration is rolled out.
        annotateLease("\"operator: before the upgrade\"");
        worker.terminate(Duration.ofSeconds(60));
        config.put("authorizer.policy.version", "2");
        worker = WorkerProcess.start("rollout-v2", config).awaitReady(Duration.ofSeconds(90));

        await("a sweep finds the rollout paused", INTERVAL.multipliedBy(4),
                () -> gauge(metrics(), "authorizer_rollout_paused") == 1
                        && gauge(metrics(), "authorizer_policy_clusters{version=\"1\"") == 3);
        JsonNode again = console(C, "ClusterAuthorizationRequested");
        assertThat(again.get("type").asText()).as(again.toString()).isEqualTo("Authorized");
        assertThat(again.get("policyVersion").asInt()).as("the console's authorize keeps the cluster's version")
                .isEqualTo(1);
        assertThat(again.get("alreadyAuthorized").asBoolean()).isTrue();
        assertThat(role(adminC).getRules()).isEqualTo(Policy.V1.rules());
        assertThat(console(A, "ClusterAuthorizationCheckRequested").get("type").asText()).isEqualTo("Authorized");
        assertThat(role(ownAdmin).getRules()).isEqualTo(Policy.V1.rules());
    }

    @Test
    @Order(3)
    void resumedTheRolloutMovesOneWaveAtATimeAndPausesWhenAWaveFails() throws Exception {
        Instant resumed = Instant.now();
        resume();

        await("the rollout paused itself", INTERVAL.multipliedBy(4).plus(WAVE_TIMEOUT),
                () -> pausedBecause() != null);
        String why = pausedBecause();
        assertThat(why).contains("1 of 1 clusters").contains("policy v2").contains(B);

        JsonNode movedA = rolloutResult(A, resumed);
        assertThat(movedA.get("type").asText()).as(movedA.toString()).isEqualTo("Authorized");
        assertThat(movedA.get("policyVersion").asInt()).isEqualTo(2);
        JsonNode failedB = rolloutResult(B, resumed);
        assertThat(failedB.get("type").asText()).as(failedB.toString()).isEqualTo("Failed");
        assertThat(failedB.get("code").asText()).isEqualTo("PERMISSION_DENIED");
        assertThat(Instant.parse(failedB.get("completedAt").asText()))
                .as("the second wave starts once the first has settled")
                .isAfter(Instant.parse(movedA.get("completedAt").asText()));
        assertThat(SweepHarness.results(kafka, r -> r.path("trigger").asText().equals("rollout")
                && r.path("clusterId").asText().equals(C), Duration.ofSeconds(1)))
                .as("no wave after the failed one").isEmpty();

        assertThat(role(ownAdmin).getRules()).isEqualTo(Policy.V2.rules());
        assertThat(role(ownAdmin).getMetadata().getAnnotations())
                .containsEntry(Marks.POLICY_VERSION, "2");
        try (KubernetesClient asGateway = gatewayClient(ownAdmin, A)) {
            assertThat(asGateway.network().v1().ingresses().inAnyNamespace().list().getItems())
                    .as("the gateway may list networking.k8s.io Ingresses now").isNotNull();
        }
        assertThat(role(adminB).getRules()).as("the failed cluster is unchanged").isEqualTo(Policy.V1.rules());
        assertThat(role(adminC).getRules()).isEqualTo(Policy.V1.rules());
        String metrics = metrics();
        assertThat(gauge(metrics, "authorizer_rollout_clusters_total{outcome=\"moved\"")).isEqualTo(1);
        assertThat(gauge(metrics, "authorizer_rollout_clusters_total{outcome=\"failed\"")).isEqualTo(1);
        assertThat(gauge(metrics, "authorizer_rollout_paused")).isEqualTo(1);
        await("the tally shows one cluster on v2", Duration.ofSeconds(10),
                () -> gauge(metrics(), "authorizer_policy_clusters{version=\"2\"") == 1);
    }

    @Test
    @Order(4)
    void withTheCauseFixedResumingFinishesTheRollout() throws Exception {
        // The cluster's admin may now grant what v2 grants.
        adminB.rbac().clusterRoles().withName(LIMITED).edit(r -> new ClusterRoleBuilder(r)
                .withRules(limitedRules(Policy.V2)).build());
        Instant resumed = Instant.now();
        resume();

        for (String cluster : List.of(B, C)) {
            JsonNode moved = rolloutResult(cluster, resumed);
            assertThat(moved.get("type").asText()).as(moved.toString()).isEqualTo("Authorized");
            assertThat(moved.get("policyVersion").asInt()).isEqualTo(2);
        }
        assertThat(role(adminB).getRules()).isEqualTo(Policy.V2.rules());
        assertThat(role(adminC).getRules()).isEqualTo(Policy.V2.rules());
        await("every cluster on v2", INTERVAL.multipliedBy(3),
                () -> gauge(metrics(), "authorizer_policy_clusters{version=\"2\"") == 3
                        && gauge(metrics(), "authorizer_policy_clusters{version=\"1\"") == 0);
        assertThat(gauge(metrics(), "authorizer_rollout_paused")).isZero();
    }

    // ---------------------------------------------------------------------------------------------------------

    /**
     * A ServiceAccount whose ClusterRole holds what authorizing under v1 needs, with explicit verbs (no {@code *},
     * which would include {@code escalate} and {@code bind}); returns its token.
     */
    private static String limitedAdmin(KubernetesClient admin) throws Exception {
        admin.serviceAccounts().inNamespace("default").resource(new ServiceAccountBuilder().withNewMetadata()
                .withName(LIMITED).endMetadata().build()).create();
        admin.rbac().clusterRoles().resource(new ClusterRoleBuilder().withNewMetadata().withName(LIMITED)
                .endMetadata().withRules(limitedRules(Policy.V1)).build()).create();
        admin.rbac().clusterRoleBindings().resource(new ClusterRoleBindingBuilder().withNewMetadata()
                .withName(LIMITED).endMetadata().withNewRoleRef().withApiGroup(ReservedResources.RBAC_GROUP)
                .withKind("ClusterRole").withName(LIMITED).endRoleRef().addNewSubject().withKind("ServiceAccount")
                .withName(LIMITED).withNamespace("default").endSubject().build()).create();
        return SweepHarness.serviceAccountToken(admin, "default", LIMITED);
    }

    private static List<PolicyRule> limitedRules(Policy grantable) {
        List<String> manage = List.of("get", "list", "watch", "create", "update", "patch", "delete");
        List<PolicyRule> rules = new ArrayList<>(grantable.rules());
        rules.add(new PolicyRuleBuilder().withApiGroups(ReservedResources.RBAC_GROUP)
                .withResources("clusterroles", "clusterrolebindings").withVerbs(manage).build());
        rules.add(new PolicyRuleBuilder().withApiGroups("").withResources("serviceaccounts").withVerbs(manage)
                .build());
        return rules;
    }

    private static void resume() {
        annotateLease("null");
    }

    /** As {@code kubectl annotate lease}: a merge patch, which the elector's renewals never conflict with. */
    private static void annotateLease(String jsonValue) {
        ownAdmin.leases().inNamespace(NAMESPACE).withName(LEASE).patch(PatchContext.of(PatchType.JSON_MERGE),
                "{\"metadata\":{\"annotations\":{\"" + Marks.ROLLOUT_PAUSED + "\":" + jsonValue + "}}}");
    }

    private static ClusterRole role(KubernetesClient admin) {
        return admin.rbac().clusterRoles().withName(ReservedResources.CLUSTER_ROLE).get();
    }

    private static Lease lease() {
        return ownAdmin.leases().inNamespace(NAMESPACE).withName(LEASE).get();
    }

    private static String pausedBecause() {
        Map<String, String> annotations = lease().getMetadata().getAnnotations();
        return annotations == null ? null : annotations.get(Marks.ROLLOUT_PAUSED);
    }

    private static String metrics() {
        return worker.get("/q/metrics").body();
    }

    private static JsonNode console(String clusterId, String type) throws Exception {
        return SweepHarness.request(kafka, worker, clusterId, type, Map.of());
    }

    /** The cluster's first rollout result completed after {@code since}. */
    private static JsonNode rolloutResult(String clusterId, Instant since) throws Exception {
        return SweepHarness.firstResult(kafka, worker, "rollout", clusterId, since, INTERVAL.multipliedBy(3));
    }

    private static void await(String what, Duration within, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + within + ": " + what + "\n" + worker.log());
            }
            Thread.sleep(500);
        }
    }
}

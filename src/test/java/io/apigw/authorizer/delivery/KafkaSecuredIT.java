package io.apigw.authorizer.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import io.apigw.authorizer.testing.FreePort;
import io.apigw.authorizer.testing.KafkaBroker;
import io.apigw.authorizer.testing.KafkaClients;
import io.apigw.authorizer.testing.TargetCluster;
import io.apigw.authorizer.testing.TargetCluster.TokenController;
import io.apigw.authorizer.testing.TestPki;
import io.apigw.authorizer.testing.WorkerProcess;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;

/**
 * The packaged worker on a secured broker, configured as the prod overlay configures it: SASL_SSL with SCRAM-SHA-512,
 * the broker's CA as a PEM trust store, the credential in environment variables only. The broker enforces ACLs
 * (KRaft's StandardAuthorizer) and grants the worker's user exactly the ACLs of {@code k8s/overlays/prod/kafkauser.yaml}.
 */
class KafkaSecuredIT {

    private static final Path KAFKA_USER = Path.of("k8s/overlays/prod/kafkauser.yaml");
    private static final ObjectMapper JSON = new ObjectMapper();

    static TestPki pki;
    static KafkaBroker broker;
    static KubernetesMockServer ownCluster;
    static String user;
    static final String PASSWORD = "scram-" + UUID.randomUUID();
    static final String STRANGER = "stranger";
    static final String STRANGER_PASSWORD = "scram-" + UUID.randomUUID();

    final List<WorkerProcess> workers = new ArrayList<>();

    @BeforeAll
    static void startInfrastructure() throws IOException {
        pki = TestPki.create("apigw-test-kafka-ca");
        broker = KafkaBroker.startSecured(FreePort.closed(), FreePort.closed(), pki, 4);
        JsonNode kafkaUser = new YAMLMapper().readTree(KAFKA_USER.toFile());
        user = kafkaUser.at("/metadata/name").asText();
        broker.addScramUser(user, PASSWORD);
        broker.addScramUser(STRANGER, STRANGER_PASSWORD);
        broker.allow(acls(user, kafkaUser));
        ownCluster = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new KubernetesCrudDispatcher(), false);
        ownCluster.init();
    }

    @AfterAll
    static void stopInfrastructure() {
        if (ownCluster != null) {
            ownCluster.destroy();
        }
        if (broker != null) {
            broker.close();
        }
    }

    @AfterEach
    void stopWorkers() {
        workers.forEach(WorkerProcess::close);
    }

    /** The KafkaUser's {@code spec.authorization.acls} as the User Operator would create them for {@code user}. */
    static List<AclBinding> acls(String user, JsonNode kafkaUser) {
        List<AclBinding> acls = new ArrayList<>();
        for (JsonNode acl : kafkaUser.at("/spec/authorization/acls")) {
            JsonNode r = acl.path("resource");
            ResourcePattern pattern = new ResourcePattern(ResourceType.fromString(r.path("type").asText()),
                    r.path("name").asText(), r.path("patternType").asText("literal").equals("prefix")
                            ? PatternType.PREFIXED : PatternType.LITERAL);
            for (JsonNode op : acl.path("operations")) {
                // Strimzi spells operations in camel case (DescribeConfigs), Kafka's enum in upper snake case.
                AclOperation operation = AclOperation.valueOf(
                        op.asText().replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT));
                acls.add(new AclBinding(pattern, new AccessControlEntry("User:" + user, acl.path("host").asText("*"),
                        operation, AclPermissionType.ALLOW)));
            }
        }
        assertThat(acls).as("ACLs in %s", KAFKA_USER).isNotEmpty();
        return acls;
    }

    /** The worker as the prod overlay runs it: every Kafka security setting from the environment. */
    private WorkerProcess worker(String name, String user, String password, Path trusted) {
        Map<String, String> config = new HashMap<>();
        config.put("authorizer.directory.kubeconfig.path", TargetCluster.kubeconfig().toString());
        config.put("quarkus.kubernetes-client.api-server-url", ownCluster.url("/"));
        config.put("quarkus.kubernetes-client.token", "own-cluster-token");
        config.put("authorizer.concurrency", "4");
        config.put("authorizer.token.timeout", "10s");
        Map<String, String> env = new HashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", broker.securedBootstrapServers());
        env.put("KAFKA_SECURITY_PROTOCOL", "SASL_SSL");
        env.put("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512");
        env.put("KAFKA_SASL_JAAS_CONFIG", jaas(user, password));
        env.put("KAFKA_SSL_TRUSTSTORE_TYPE", "PEM");
        env.put("KAFKA_SSL_TRUSTSTORE_LOCATION", trusted.toString());
        WorkerProcess w = WorkerProcess.start(name, config, env, List.of());
        workers.add(w);
        return w;
    }

    /** What Strimzi puts under {@code sasl.jaas.config} in the KafkaUser's Secret. */
    private static String jaas(String user, String password) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user
                + "\" password=\"" + password + "\";";
    }

    @Test
    void theWorkerAuthenticatesOverTlsAndItsAclsAreEnoughToAuthorizeAndDeadLetter() {
        WorkerProcess w = worker("granted", user, PASSWORD, pki.caCertificate).awaitReady(Duration.ofSeconds(60));
        String requestId = "sec-" + UUID.randomUUID();
        List<ConsumerRecord<byte[], byte[]>> results;
        List<ConsumerRecord<byte[], byte[]>> deadLetters;
        // The console's side uses the super user's PLAINTEXT listener: only the worker is held to its ACLs.
        try (KafkaClients kafka = new KafkaClients(broker.bootstrapServers());
                TargetCluster cluster = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY)) {
            kafka.sendRequest(requestId, cluster.clusterId);
            kafka.send(KafkaBroker.REQUESTS, "poison", "not json".getBytes(StandardCharsets.UTF_8), List.of());
            results = kafka.readUntil(KafkaBroker.RESULTS, rs -> rs.stream().anyMatch(r -> requestId.equals(requestId(r))),
                    Duration.ofSeconds(60));
            deadLetters = kafka.readUntil(KafkaBroker.DEAD_LETTERS, rs -> !rs.isEmpty(), Duration.ofSeconds(30));
        }

        assertNoCredentialIn(w.log());
        assertThat(results).filteredOn(r -> requestId.equals(requestId(r))).singleElement()
                .satisfies(r -> assertThat(KafkaClients.header(r, "ce_type")).isEqualTo("Authorized"));
        assertThat(deadLetters).as("the record that is not JSON, on the dead-letter topic").hasSize(1);
        assertThat(check(w.get("/q/health/ready").body(), "kafka-access").path("status").asText()).isEqualTo("UP");
    }

    @Test
    void aBrokerCertificateOfAnotherCaIsRefused() {
        TestPki other = TestPki.create("another-ca");
        WorkerProcess w = worker("other-ca", user, PASSWORD, other.caCertificate);
        Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> w.log().contains("SSL handshake failed") && w.log().contains("Listening on"));

        assertNoCredentialIn(w.log());
        assertThat(w.log()).contains("PKIX path building failed");
        assertThat(w.get("/q/health/ready").status()).isEqualTo(503);
        assertThat(w.isAlive()).isTrue();
    }

    @Test
    void aPrincipalWithoutTheAclsIsRefusedAndNotReadyButKeepsRunning() {
        WorkerProcess w = worker("stranger", STRANGER, STRANGER_PASSWORD, pki.caCertificate);
        Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> w.log().contains("Not authorized to access"));
        // The consumer retries with a growing pause; a few rounds later the worker must still be up and unready.
        sleep(Duration.ofSeconds(15));

        WorkerProcess.Answer ready = w.get("/q/health/ready");
        assertNoCredentialIn(w.log());
        assertThat(w.isAlive()).as("the worker keeps running (no crash loop)").isTrue();
        assertThat(w.get("/q/health/live").status()).as("liveness: the kubelet must not restart it").isEqualTo(200);
        assertThat(ready.status()).isEqualTo(503);
        JsonNode access = check(ready.body(), "kafka-access");
        assertThat(access.path("status").asText()).isEqualTo("DOWN");
        assertThat(access.at("/data/missing").asText()).contains(
                "READ on topic " + KafkaBroker.REQUESTS, "READ on group apigw-tke-authorizer",
                "WRITE on topic " + KafkaBroker.RESULTS, "WRITE on topic " + KafkaBroker.DEAD_LETTERS);
        assertThat(w.log()).containsOnlyOnce("Kafka access: the principal lacks")
                .contains("grant the ACLs of k8s/overlays/prod/kafkauser.yaml");
    }

    private static JsonNode check(String health, String name) {
        try {
            for (JsonNode c : JSON.readTree(health).path("checks")) {
                if (name.equals(c.path("name").asText())) {
                    return c;
                }
            }
        } catch (IOException e) {
            throw new AssertionError("health is not JSON: " + health, e);
        }
        throw new AssertionError("no check " + name + " in " + health);
    }

    /** Checked first, and without quoting the log: a failing assertion must not print what it looks for. */
    private static void assertNoCredentialIn(String log) {
        for (String secret : List.of(PASSWORD, STRANGER_PASSWORD, "password=\"")) {
            assertThat(log.contains(secret)).as("a SCRAM credential in the worker's output").isFalse();
        }
    }

    private static String requestId(ConsumerRecord<byte[], byte[]> r) {
        try {
            return JSON.readTree(r.value()).path("requestId").asText();
        } catch (IOException e) {
            return "";
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

package io.apigw.authorizer.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.apigw.authorizer.config.AuthorizerConfig;
import java.time.Duration;
import java.util.Locale;
import java.util.TreeMap;

/**
 * Renders k8s/base and every overlay under k8s/overlays with {@code kubectl kustomize} and checks the result against
 * the application itself: its config keys (AuthorizerConfig, application.properties), its topics and consumer group,
 * its health endpoints and port, and the image's user.
 */
class KustomizeOverlaysTest {

    private static final String REQUESTS_CHANNEL = "mp.messaging.incoming.authorization-requests.";
    private static final String DLQ_TOPIC_KEY = "mp.messaging.outgoing.authorization-dead-letters.topic";

    /** quarkus.* keys set by the manifests, each checked against the Quarkus 3.33.2 config model of its extension. */
    private static final Set<String> VERIFIED_QUARKUS_KEYS = Set.of(
            "quarkus.log.console.json"); // io.quarkus:quarkus-logging-json (boolean, default true)

    /** Variables that are not application config: read by the Tencent Cloud SDK or by the image's run-java.sh. */
    private static final Set<String> NON_CONFIG_ENV = Set.of(
            "TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "JAVA_MAX_MEM_RATIO", "JAVA_OPTS_APPEND");

    private static final Set<String> REQUIRED_KINDS = Set.of("Namespace", "ServiceAccount", "Role", "RoleBinding",
            "ConfigMap", "Deployment", "PodDisruptionBudget", "NetworkPolicy", "KafkaTopic", "ScaledObject",
            "PodMonitor", "PrometheusRule");

    /** Where the worker runs, with its own Secrets and config (issue 26, G7). */
    private static final String WORKER_NAMESPACE = "apigw-worker";
    /** Where the gateway reads the credential Secrets `apigw-cluster-<id>` (the contract): only the Role is here. */
    private static final String CREDENTIALS_NAMESPACE = "apigw-system";
    private static final Set<String> CLUSTER_SCOPED = Set.of("Namespace", "ClusterRole", "ClusterRoleBinding");
    /** Strimzi's kinds, which live in the namespace its operators watch (the Kafka cluster's). */
    private static final Set<String> KAFKA_KINDS = Set.of("KafkaTopic", "KafkaUser");

    /** Exactly the verbs CredentialStore uses on Secrets: no watch, no patch (issue 26, G13). */
    private static final Set<String> ROLE_VERBS = Set.of("get", "list", "create", "update", "delete");

    /** Expected per named overlay: replicas of each KafkaTopic and KEDA minReplicaCount. */
    private static final Map<String, int[]> OVERLAY_EXPECTATIONS = Map.of(
            "k8s/overlays/dev", new int[] { 1, 1 },
            "k8s/overlays/prod", new int[] { 3, 2 });

    private static final Pattern PLACEHOLDER = Pattern.compile("(?i).*(replace[_-]?me|placeholder|changeme|example).*");
    /** Tencent Cloud SecretId shape (AKID + 32 alphanumerics) and a long secret-key-like run. */
    private static final Pattern REAL_LOOKING_KEY = Pattern.compile("AKID[0-9A-Za-z]{32}");

    @BeforeAll
    static void kubectlPresent() {
        assumeTrue(Kustomize.kubectl().isPresent(),
                "kubectl not found at /usr/bin/kubectl or on the PATH: the k8s manifests were not rendered");
    }

    static Stream<String> kustomizations() {
        List<String> dirs = new ArrayList<>();
        dirs.add("k8s/base");
        Kustomize.overlays().forEach(o -> dirs.add("k8s/overlays/" + o));
        return dirs.stream();
    }

    @Test
    void devAndProdOverlaysExist() {
        assertThat(Kustomize.overlays()).contains("dev", "prod");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kustomizations")
    void rendersEveryRequiredKindAndNothingClusterWide(String dir) {
        Kustomize.Rendered r = Kustomize.render(dir);
        Set<String> kinds = r.docs().stream().map(d -> d.path("kind").asText()).collect(Collectors.toSet());
        assertThat(kinds).containsAll(REQUIRED_KINDS).doesNotContain("ClusterRole", "ClusterRoleBinding");
        assertThat(r.ofKind("KafkaTopic")).hasSize(4);
        // The worker's namespace and the credential namespace (issue 26, G7), both under the restricted standard.
        assertThat(r.ofKind("Namespace").stream().map(n -> n.at("/metadata/name").asText()))
                .containsExactlyInAnyOrder(WORKER_NAMESPACE, CREDENTIALS_NAMESPACE);
        for (JsonNode ns : r.ofKind("Namespace")) {
            assertThat(ns.at("/metadata/labels/pod-security.kubernetes.io~1enforce").asText())
                    .as("Pod Security of %s", ns.at("/metadata/name").asText()).isEqualTo("restricted");
        }
        for (JsonNode doc : r.docs()) {
            assertThat(doc.path("apiVersion").asText()).as("apiVersion of %s", doc.path("kind")).isNotEmpty();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kustomizations")
    void deploymentIsHardened(String dir) {
        Kustomize.Rendered r = Kustomize.render(dir);
        JsonNode deployment = r.one("Deployment");
        JsonNode pod = deployment.at("/spec/template/spec");
        JsonNode container = container(deployment);

        assertThat(deployment.at("/spec/replicas").isMissingNode())
                .as("spec.replicas must be left to the KEDA ScaledObject").isTrue();
        assertThat(pod.at("/securityContext/runAsNonRoot").asBoolean()).isTrue();
        assertThat(pod.at("/securityContext/runAsUser").asInt()).isEqualTo(185);
        assertThat(pod.at("/securityContext/seccompProfile/type").asText()).isEqualTo("RuntimeDefault");
        assertThat(pod.at("/terminationGracePeriodSeconds").asInt()).isGreaterThanOrEqualTo(60);
        // The worker's own drain (authorizer.shutdown-grace) must end before the kubelet's SIGKILL, with time left
        // to commit offsets and close Kafka.
        AppConfigKeys.authorizerLeaves().stream().filter(k -> k.name().equals("authorizer.shutdown-grace"))
                .findFirst().ifPresent(k -> {
                    String configured = containerEnv(r).getOrDefault(AppConfigKeys.envName(k.name()), k.defaultValue());
                    assertThat(configured).as("authorizer.shutdown-grace").isNotNull();
                    assertThat(AppConfigKeys.duration(configured).plusSeconds(10))
                            .as("authorizer.shutdown-grace + 10 s vs terminationGracePeriodSeconds")
                            .isLessThanOrEqualTo(Duration.ofSeconds(pod.at("/terminationGracePeriodSeconds").asInt()));
                });

        JsonNode sc = container.path("securityContext");
        assertThat(sc.path("allowPrivilegeEscalation").isBoolean() && !sc.path("allowPrivilegeEscalation").asBoolean())
                .as("allowPrivilegeEscalation: false").isTrue();
        assertThat(sc.path("readOnlyRootFilesystem").asBoolean()).isTrue();
        assertThat(texts(sc.at("/capabilities/drop"))).contains("ALL");
        assertThat(sc.at("/capabilities/add").isMissingNode() || sc.at("/capabilities/add").isEmpty()).isTrue();
        assertThat(sc.path("privileged").asBoolean(false)).isFalse();
        if (sc.has("runAsUser")) {
            assertThat(sc.path("runAsUser").asInt()).isNotZero();
        }

        // The read-only root needs a writable /tmp from an emptyDir.
        String tmpVolume = StreamSupport.stream(container.path("volumeMounts").spliterator(), false)
                .filter(m -> m.path("mountPath").asText().equals("/tmp")).map(m -> m.path("name").asText())
                .findFirst().orElseThrow(() -> new AssertionError("no volume mounted at /tmp"));
        assertThat(StreamSupport.stream(pod.path("volumes").spliterator(), false)
                .anyMatch(v -> v.path("name").asText().equals(tmpVolume) && v.has("emptyDir"))).isTrue();

        // Sized for a JVM worker.
        long limit = bytes(container.at("/resources/limits/memory").asText());
        long request = bytes(container.at("/resources/requests/memory").asText());
        assertThat(limit).isBetween(256L << 20, 1L << 30);
        assertThat(request).isPositive().isLessThanOrEqualTo(limit);
        assertThat(container.at("/resources/requests/cpu").asText()).isNotEmpty();

        assertThat(container.path("image").asText()).isNotEmpty().doesNotEndWith(":latest");

        // Runs as the ServiceAccount that the RoleBinding grants.
        assertThat(pod.path("serviceAccountName").asText())
                .isEqualTo(r.one("ServiceAccount").at("/metadata/name").asText());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kustomizations")
    void probesHitTheHealthEndpointsOnTheHttpPort(String dir) {
        JsonNode container = container(Kustomize.render(dir).one("Deployment"));
        int httpPort = Integer.parseInt(AppConfigKeys.applicationProperties().getProperty("quarkus.http.port", "8080"));
        Map<String, String> expected = Map.of(
                "startupProbe", "/q/health/started",
                "livenessProbe", "/q/health/live",
                "readinessProbe", "/q/health/ready");
        expected.forEach((probe, path) -> {
            JsonNode get = container.path(probe).path("httpGet");
            assertThat(get.path("path").asText()).as(probe).isEqualTo(path);
            assertThat(resolvePort(container, get.path("port"))).as(probe + " port").isEqualTo(httpPort);
        });
        assertThat(texts(container.path("ports"), "containerPort")).contains(String.valueOf(httpPort));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kustomizations")
    void rbacIsOneNamespacedRoleOnSecretsOnly(String dir) {
        Kustomize.Rendered r = Kustomize.render(dir);
        JsonNode role = r.one("Role");
        JsonNode binding = r.one("RoleBinding");
        JsonNode sa = r.one("ServiceAccount");
        JsonNode deployment = r.one("Deployment");

        for (JsonNode rule : role.path("rules")) {
            assertThat(rule.has("nonResourceURLs")).isFalse();
            if (texts(rule.path("apiGroups")).equals(List.of("coordination.k8s.io"))) {
                // The sweeper's Lease: create (RBAC cannot name it), else only that one Lease.
                assertThat(texts(rule.path("resources"))).containsExactly("leases");
                if (!texts(rule.path("verbs")).equals(List.of("create"))) {
                    assertThat(texts(rule.path("resourceNames"))).containsExactly(AppConfigKeys.authorizerLeaves()
                            .stream().filter(k -> k.name().equals("authorizer.sweep.lease.name")).findFirst()
                            .orElseThrow().defaultValue());
                    assertThat(texts(rule.path("verbs"))).containsExactlyInAnyOrder("get", "update", "patch");
                }
                continue;
            }
            assertThat(texts(rule.path("apiGroups"))).containsExactly("");
            assertThat(texts(rule.path("resources"))).containsExactly("secrets");
            assertThat(texts(rule.path("verbs"))).containsExactlyInAnyOrderElementsOf(ROLE_VERBS);
        }
        assertThat(role.path("rules")).isNotEmpty();

        // The Role is where the credential Secrets are written; the worker and its ServiceAccount are elsewhere.
        String credentials = credentialsNamespace(r);
        assertThat(credentials).as("the gateway reads the credentials in %s (contract)", CREDENTIALS_NAMESPACE)
                .isEqualTo(CREDENTIALS_NAMESPACE).isEqualTo(AppConfigKeys.authorizerLeaves().stream()
                        .filter(k -> k.name().equals("authorizer.credentials.namespace")).findFirst().orElseThrow()
                        .defaultValue());
        assertThat(role.at("/metadata/namespace").asText()).isEqualTo(credentials);
        assertThat(binding.at("/metadata/namespace").asText()).isEqualTo(credentials);
        assertThat(sa.at("/metadata/namespace").asText()).isEqualTo(deployment.at("/metadata/namespace").asText())
                .isEqualTo(WORKER_NAMESPACE).isNotEqualTo(credentials);
        assertThat(binding.at("/roleRef/kind").asText()).isEqualTo("Role");
        assertThat(binding.at("/roleRef/name").asText()).isEqualTo(role.at("/metadata/name").asText());
        assertThat(binding.path("subjects")).hasSize(1);
        JsonNode subject = binding.path("subjects").get(0);
        assertThat(subject.path("kind").asText()).isEqualTo("ServiceAccount");
        assertThat(subject.path("name").asText()).isEqualTo(sa.at("/metadata/name").asText());
        assertThat(subject.path("namespace").asText()).as("the RoleBinding's subject is the worker's ServiceAccount")
                .isEqualTo(sa.at("/metadata/namespace").asText());
    }

    /**
     * Issue 26, G7: whoever holds the worker's ServiceAccount token reads the credential Secrets, but not the worker's
     * own cloud key or Kafka credentials: no binding gives it any right in its own namespace, and Secrets only in the
     * credential namespace.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("kustomizations")
    void theServiceAccountHasNoRightsWhereTheWorkersOwnSecretsAre(String dir) {
        Kustomize.Rendered r = Kustomize.render(dir);
        JsonNode sa = r.one("ServiceAccount");
        String own = sa.at("/metadata/namespace").asText();
        Map<String, Set<String>> grants = grantsTo(r, own, sa.at("/metadata/name").asText());

        assertThat(grants).as("namespaces where a binding grants the ServiceAccount anything (* = cluster-wide)")
                .doesNotContainKeys(own, "*");
        Set<String> secretNamespaces = grants.entrySet().stream()
                .filter(g -> g.getValue().contains("secrets") || g.getValue().contains("*")).map(Map.Entry::getKey)
                .collect(Collectors.toSet());
        assertThat(secretNamespaces).as("namespaces where the ServiceAccount may touch Secrets")
                .containsExactly(credentialsNamespace(r));

        // The Deployment runs as it, in its namespace; that namespace is not the credential namespace.
        JsonNode deployment = r.one("Deployment");
        assertThat(deployment.at("/spec/template/spec/serviceAccountName").asText())
                .isEqualTo(sa.at("/metadata/name").asText());
        assertThat(deployment.at("/metadata/namespace").asText()).isEqualTo(own).isNotEqualTo(credentialsNamespace(r));
    }

    /**
     * A pod can only use ConfigMaps, Secrets and a ServiceAccount of its own namespace: everything the Deployment
     * refers to is there (rendered, or documented in secret.example.yaml for out-of-band creation), the TKE key and
     * the Kafka Secrets included, and so out of the credential Role's reach (issue 26, G7).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("kustomizations")
    void everythingTheDeploymentRefersToIsInItsNamespace(String dir) {
        Kustomize.Rendered r = Kustomize.render(dir);
        JsonNode deployment = r.one("Deployment");
        String namespace = deployment.at("/metadata/namespace").asText();
        assertThat(namespace).isEqualTo(WORKER_NAMESPACE).isNotEqualTo(credentialsNamespace(r));
        JsonNode pod = deployment.at("/spec/template/spec");
        JsonNode container = container(deployment);

        Set<String> configMaps = new TreeSet<>();
        Set<String> secrets = new TreeSet<>();
        Map<String, String> secretOfEnv = new LinkedHashMap<>();
        for (JsonNode from : container.path("envFrom")) {
            addIfPresent(configMaps, from.at("/configMapRef/name"));
            addIfPresent(secrets, from.at("/secretRef/name"));
        }
        for (JsonNode e : container.path("env")) {
            addIfPresent(configMaps, e.at("/valueFrom/configMapKeyRef/name"));
            addIfPresent(secrets, e.at("/valueFrom/secretKeyRef/name"));
            if (e.at("/valueFrom/secretKeyRef/name").isTextual()) {
                secretOfEnv.put(e.path("name").asText(), e.at("/valueFrom/secretKeyRef/name").asText());
            }
        }
        for (JsonNode v : pod.path("volumes")) {
            addIfPresent(configMaps, v.at("/configMap/name"));
            addIfPresent(secrets, v.at("/secret/secretName"));
            for (JsonNode source : v.at("/projected/sources")) {
                addIfPresent(configMaps, source.at("/configMap/name"));
                addIfPresent(secrets, source.at("/secret/name"));
            }
        }
        // KEDA's TriggerAuthentication reads Secrets of its own namespace, which must be the Deployment's.
        for (JsonNode auth : r.ofKind("TriggerAuthentication")) {
            assertThat(auth.at("/metadata/namespace").asText()).isEqualTo(namespace);
            auth.at("/spec/secretTargetRef").forEach(t -> secrets.add(t.path("name").asText()));
        }

        assertThat(secretOfEnv).containsKeys("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY");
        if (r.ofKind("KafkaUser").size() > 0) {
            assertThat(secretOfEnv).containsKey("KAFKA_SASL_JAAS_CONFIG");
            assertThat(secrets).hasSizeGreaterThanOrEqualTo(3);
        }
        for (String name : configMaps) {
            List<JsonNode> found = r.ofKind("ConfigMap").stream()
                    .filter(c -> c.at("/metadata/name").asText().equals(name)).toList();
            assertThat(found).as("ConfigMap %s", name).hasSize(1);
            assertThat(found.get(0).at("/metadata/namespace").asText()).as("namespace of ConfigMap %s", name)
                    .isEqualTo(namespace);
        }
        Map<String, JsonNode> examples = secretExamples();
        for (String name : secrets) {
            JsonNode secret = r.ofKind("Secret").stream().filter(x -> x.at("/metadata/name").asText().equals(name))
                    .findFirst().orElse(examples.get(name));
            assertThat(secret).as("Secret %s is neither rendered nor in secret.example.yaml", name).isNotNull();
            assertThat(secret.at("/metadata/namespace").asText()).as("namespace of Secret %s", name)
                    .isEqualTo(namespace);
        }
        List<JsonNode> accounts = r.ofKind("ServiceAccount").stream()
                .filter(a -> a.at("/metadata/name").asText().equals(pod.path("serviceAccountName").asText())).toList();
        assertThat(accounts).hasSize(1);
        assertThat(accounts.get(0).at("/metadata/namespace").asText()).isEqualTo(namespace);
    }

    /**
     * The credential namespace keeps only the Role and its binding (and, at run time, the credential Secrets and the
     * sweeper's Lease); everything else of the worker is in the worker's namespace, Strimzi's kinds in Kafka's.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("kustomizations")
    void theCredentialNamespaceHoldsOnlyTheRoleAndItsBinding(String dir) {
        Kustomize.Rendered r = Kustomize.render(dir);
        String worker = r.one("Deployment").at("/metadata/namespace").asText();
        assertThat(worker).isNotEqualTo(credentialsNamespace(r));
        String kafka = r.ofKind("KafkaTopic").get(0).at("/metadata/namespace").asText();
        for (JsonNode doc : r.docs()) {
            String kind = doc.path("kind").asText();
            String where = doc.at("/metadata/namespace").asText();
            String what = kind + " " + doc.at("/metadata/name").asText();
            if (CLUSTER_SCOPED.contains(kind)) {
                assertThat(where).as(what).isEmpty();
            } else if (KAFKA_KINDS.contains(kind)) {
                assertThat(where).as(what).isEqualTo(kafka);
            } else if (kind.equals("Role") || kind.equals("RoleBinding")) {
                assertThat(where).as(what).isEqualTo(credentialsNamespace(r));
            } else {
                assertThat(where).as(what).isEqualTo(worker);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kustomizations")
    void everyEnvVarMapsToAKeyTheApplicationKnows(String dir) {
        Map<String, String> env = containerEnv(Kustomize.render(dir));
        Set<String> authorizerEnv = AppConfigKeys.authorizerKeys().stream().map(AppConfigKeys::envName)
                .collect(Collectors.toSet());
        Set<String> otherKnown = new HashSet<>();
        AppConfigKeys.propertyKeys().forEach(k -> otherKnown.add(AppConfigKeys.envName(k)));
        otherKnown.addAll(AppConfigKeys.expandedEnvNames());
        VERIFIED_QUARKUS_KEYS.forEach(k -> otherKnown.add(AppConfigKeys.envName(k)));
        otherKnown.addAll(NON_CONFIG_ENV);

        for (String name : env.keySet()) {
            if (name.startsWith("AUTHORIZER_")) {
                assertThat(AppConfigKeys.isAuthorizerEnv(name)).as("%s must map to a key of AuthorizerConfig (%s)",
                        name, authorizerEnv).isTrue();
            } else if (name.startsWith("KAFKA_")) {
                // Quarkus hands KAFKA_X_Y to every channel as kafka.x.y: it must mean the same to consumer and producer.
                String key = name.substring("KAFKA_".length()).toLowerCase(Locale.ROOT).replace('_', '.');
                assertThat(ConsumerConfig.configNames()).as("%s: consumer key %s", name, key).contains(key);
                assertThat(ProducerConfig.configNames()).as("%s: producer key %s", name, key).contains(key);
            } else {
                assertThat(otherKnown).as("%s must map to a known config key", name).contains(name);
            }
        }

        assertThat(env).containsKeys("KAFKA_BOOTSTRAP_SERVERS", "AUTHORIZER_DIRECTORY_TYPE",
                "AUTHORIZER_CREDENTIALS_NAMESPACE", "TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY");
        assertThat(env.get("AUTHORIZER_DIRECTORY_TYPE")).isEqualTo("tke")
                .isIn(Arrays.stream(AuthorizerConfig.DirectoryType.values()).map(Enum::name).toList());
        if (env.containsKey("AUTHORIZER_CONCURRENCY")) {
            assertThat(Integer.parseInt(env.get("AUTHORIZER_CONCURRENCY"))).isPositive();
        }
        if (env.containsKey("QUARKUS_LOG_CONSOLE_JSON_ENABLED")) {
            assertThat(env.get("QUARKUS_LOG_CONSOLE_JSON_ENABLED")).isIn("true", "false");
        }
    }

    @Test
    void mapperKnowsTheDocumentedKeys() {
        // Guards the reflection above: if it found nothing, every AUTHORIZER_* check would fail for the wrong reason.
        assertThat(AppConfigKeys.authorizerKeys()).contains("authorizer.concurrency", "authorizer.directory.type",
                "authorizer.credentials.namespace", "authorizer.kube.connect-timeout");
        assertThat(AppConfigKeys.envName("authorizer.kube.connect-timeout")).isEqualTo("AUTHORIZER_KUBE_CONNECT_TIMEOUT");
        assertThat(AppConfigKeys.isAuthorizerEnv("AUTHORIZER_CONCURENCY")).isFalse();
        assertThat(AppConfigKeys.duration("45s")).hasSeconds(45);
        assertThat(AppConfigKeys.duration("500ms")).hasMillis(500);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kustomizations")
    void kafkaTopicsAreTheApplicationsTopics(String dir) {
        Kustomize.Rendered r = Kustomize.render(dir);
        Properties props = AppConfigKeys.applicationProperties();
        Set<String> appTopics = props.stringPropertyNames().stream()
                .filter(k -> k.matches("mp\\.messaging\\.(incoming|outgoing)\\.[^.]+\\.topic"))
                .map(props::getProperty).collect(Collectors.toCollection(TreeSet::new));
        assertThat(appTopics).hasSize(4);

        Map<String, JsonNode> topics = topics(r);
        assertThat(topics.keySet()).containsExactlyInAnyOrderElementsOf(appTopics);

        int[] expected = OVERLAY_EXPECTATIONS.get(dir);
        for (JsonNode t : topics.values()) {
            assertThat(t.path("apiVersion").asText()).isEqualTo("kafka.strimzi.io/v1beta2");
            assertThat(t.at("/metadata/labels/strimzi.io~1cluster").asText()).isNotEmpty();
            int replicas = t.at("/spec/replicas").asInt();
            int minIsr = t.at("/spec/config/min.insync.replicas").asInt(1);
            assertThat(t.at("/spec/partitions").asInt()).isPositive();
            if (expected != null) {
                assertThat(replicas).as("replicas of %s", t.at("/metadata/name")).isEqualTo(expected[0]);
            }
            assertThat(minIsr).isBetween(1, replicas);
            if (replicas > 1) {
                assertThat(minIsr).as("min.insync.replicas must tolerate one broker down").isLessThan(replicas)
                        .isGreaterThanOrEqualTo(2);
            }
        }
        long requestsRetention = topics.get(props.getProperty(REQUESTS_CHANNEL + "topic"))
                .at("/spec/config/retention.ms").asLong();
        long dlqRetention = topics.get(props.getProperty(DLQ_TOPIC_KEY)).at("/spec/config/retention.ms").asLong();
        assertThat(dlqRetention).isGreaterThan(requestsRetention);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kustomizations")
    void scaledObjectFollowsTheConsumerGroupOnTheRequestsTopic(String dir) {
        Kustomize.Rendered r = Kustomize.render(dir);
        Properties props = AppConfigKeys.applicationProperties();
        JsonNode so = r.one("ScaledObject");
        JsonNode deployment = r.one("Deployment");

        assertThat(so.path("apiVersion").asText()).isEqualTo("keda.sh/v1alpha1");
        assertThat(so.at("/metadata/namespace").asText()).isEqualTo(deployment.at("/metadata/namespace").asText());
        assertThat(so.at("/spec/scaleTargetRef/kind").asText("Deployment")).isEqualTo("Deployment");
        assertThat(so.at("/spec/scaleTargetRef/name").asText()).isEqualTo(deployment.at("/metadata/name").asText());

        List<JsonNode> kafka = StreamSupport.stream(so.at("/spec/triggers").spliterator(), false)
                .filter(t -> t.path("type").asText().equals("kafka")).toList();
        assertThat(kafka).hasSize(1);
        JsonNode md = kafka.get(0).path("metadata");
        String requestsTopic = props.getProperty(REQUESTS_CHANNEL + "topic");
        assertThat(md.path("consumerGroup").asText()).isEqualTo(props.getProperty(REQUESTS_CHANNEL + "group.id"));
        assertThat(md.path("topic").asText()).isEqualTo(requestsTopic);
        assertThat(md.path("bootstrapServers").asText()).isEqualTo(containerEnv(r).get("KAFKA_BOOTSTRAP_SERVERS"));
        assertThat(md.path("offsetResetPolicy").asText())
                .isEqualTo(props.getProperty(REQUESTS_CHANNEL + "auto.offset.reset"));

        int partitions = topics(r).get(requestsTopic).at("/spec/partitions").asInt();
        int min = so.at("/spec/minReplicaCount").asInt();
        assertThat(so.at("/spec/maxReplicaCount").asInt()).as("max replicas = partitions of %s", requestsTopic)
                .isEqualTo(partitions);
        assertThat(min).isBetween(1, partitions);
        int[] expected = OVERLAY_EXPECTATIONS.get(dir);
        if (expected != null) {
            assertThat(min).isEqualTo(expected[1]);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kustomizations")
    void networkPolicyAdmitsMonitoringAndAllowsOnlyTheNeededEgress(String dir) {
        Kustomize.Rendered r = Kustomize.render(dir);
        JsonNode np = r.one("NetworkPolicy");
        JsonNode deployment = r.one("Deployment");
        assertThat(np.at("/metadata/namespace").asText()).isEqualTo(deployment.at("/metadata/namespace").asText());
        assertSelects(np.at("/spec/podSelector/matchLabels"), deployment.at("/spec/template/metadata/labels"));
        assertThat(texts(np.at("/spec/policyTypes"))).contains("Ingress", "Egress");

        // Ingress: 8080 from the monitoring namespace, nothing else.
        assertThat(np.at("/spec/ingress")).isNotEmpty();
        for (JsonNode rule : np.at("/spec/ingress")) {
            assertThat(texts(rule.path("ports"), "port")).containsOnly("8080");
            assertThat(rule.path("from")).isNotEmpty();
            for (JsonNode peer : rule.path("from")) {
                assertThat(peer.has("ipBlock")).isFalse();
                assertThat(peer.at("/namespaceSelector/matchLabels/kubernetes.io~1metadata.name").asText())
                        .isEqualTo("monitoring");
            }
        }

        // Egress: DNS, Kafka (to the Strimzi cluster of the topics), 443 and 6443.
        Set<String> egressPorts = new TreeSet<>();
        for (JsonNode rule : np.at("/spec/egress")) {
            for (JsonNode p : rule.path("ports")) {
                egressPorts.add(p.path("protocol").asText("TCP") + "/" + p.path("port").asText());
            }
        }
        assertThat(egressPorts).contains("UDP/53", "TCP/9092", "TCP/9093", "TCP/443", "TCP/6443");

        JsonNode anyTopic = r.ofKind("KafkaTopic").get(0);
        String kafkaNamespace = anyTopic.at("/metadata/namespace").asText();
        String kafkaCluster = anyTopic.at("/metadata/labels/strimzi.io~1cluster").asText();
        JsonNode kafkaRule = StreamSupport.stream(np.at("/spec/egress").spliterator(), false)
                .filter(rule -> texts(rule.path("ports"), "port").contains("9092")).findFirst()
                .orElseThrow(() -> new AssertionError("no egress rule for Kafka"));
        assertThat(kafkaRule.path("to")).isNotEmpty();
        for (JsonNode peer : kafkaRule.path("to")) {
            assertThat(peer.at("/namespaceSelector/matchLabels/kubernetes.io~1metadata.name").asText())
                    .isEqualTo(kafkaNamespace);
            assertThat(peer.at("/podSelector/matchLabels/strimzi.io~1cluster").asText()).isEqualTo(kafkaCluster);
        }

        // The broker address the worker uses is in that namespace, on a port the policy allows.
        for (String server : containerEnv(r).get("KAFKA_BOOTSTRAP_SERVERS").split(",")) {
            String host = server.substring(0, server.lastIndexOf(':'));
            String port = server.substring(server.lastIndexOf(':') + 1);
            assertThat(egressPorts).contains("TCP/" + port);
            if (host.contains(".svc")) {
                assertThat(host.split("\\.")[1]).as("namespace of %s", host).isEqualTo(kafkaNamespace);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kustomizations")
    void podDisruptionBudgetCoversTheWorkerAndNeverBlocksADrain(String dir) {
        Kustomize.Rendered r = Kustomize.render(dir);
        JsonNode pdb = r.one("PodDisruptionBudget");
        assertSelects(pdb.at("/spec/selector/matchLabels"), r.one("Deployment").at("/spec/template/metadata/labels"));
        if (pdb.at("/spec/minAvailable").isMissingNode()) {
            assertThat(pdb.at("/spec/maxUnavailable").asInt()).isPositive();
        } else {
            assertThat(pdb.at("/spec/minAvailable").asInt())
                    .isLessThan(r.one("ScaledObject").at("/spec/minReplicaCount").asInt());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kustomizations")
    void noSecretCarriesRealLookingValues(String dir) {
        Kustomize.Rendered r = Kustomize.render(dir);
        assertThat(REAL_LOOKING_KEY.matcher(r.text()).find()).as("a Tencent Cloud SecretId in the manifests").isFalse();
        for (JsonNode secret : r.ofKind("Secret")) {
            secretValues(secret).forEach((key, value) -> assertThat(value)
                    .as("%s/%s must be an obvious placeholder", secret.at("/metadata/name").asText(), key)
                    .matches(PLACEHOLDER));
        }

        // Every Secret the pod uses (secretKeyRef, secret volume) is rendered here or documented for out-of-band
        // creation, with the key it uses.
        Map<String, JsonNode> examples = secretExamples();
        JsonNode deployment = r.one("Deployment");
        List<String[]> refs = new ArrayList<>();
        for (JsonNode e : container(deployment).path("env")) {
            JsonNode ref = e.at("/valueFrom/secretKeyRef");
            if (!ref.isMissingNode()) {
                refs.add(new String[] { ref.path("name").asText(), ref.path("key").asText() });
            }
        }
        for (JsonNode v : deployment.at("/spec/template/spec/volumes")) {
            for (JsonNode item : v.at("/secret/items")) {
                refs.add(new String[] { v.at("/secret/secretName").asText(), item.path("key").asText() });
            }
        }
        for (String[] ref : refs) {
            JsonNode secret = r.ofKind("Secret").stream().filter(x -> x.at("/metadata/name").asText().equals(ref[0]))
                    .findFirst().orElse(examples.get(ref[0]));
            assertThat(secret).as("Secret %s is neither rendered nor in secret.example.yaml", ref[0]).isNotNull();
            assertThat(secretValues(secret)).as("keys of Secret %s", ref[0]).containsKey(ref[1]);
        }
    }

    @Test
    void secretExampleIsPlaceholdersAndNotPartOfAnyKustomization() throws IOException {
        for (JsonNode example : secretExamples().values()) {
            assertThat(example.path("kind").asText()).isEqualTo("Secret");
            secretValues(example).values().forEach(v -> assertThat(v).matches(PLACEHOLDER));
        }
        try (Stream<Path> files = Files.walk(Repo.root().resolve("k8s"))) {
            for (Path k : files.filter(p -> p.getFileName().toString().equals("kustomization.yaml")).toList()) {
                String text = Files.readString(k).lines().filter(l -> !l.strip().startsWith("#"))
                        .collect(Collectors.joining("\n"));
                assertThat(text).as(k.toString()).doesNotContain("secret.example");
            }
        }
    }

    @Test
    void prodShipsNoSecretAndLogsJson() {
        Kustomize.Rendered prod = Kustomize.render("k8s/overlays/prod");
        assertThat(prod.ofKind("Secret")).isEmpty();
        assertThat(containerEnv(prod)).containsEntry("QUARKUS_LOG_CONSOLE_JSON_ENABLED", "true");
    }

    @Test
    void devGeneratesOnlyPlaceholderCredentials() {
        Kustomize.Rendered dev = Kustomize.render("k8s/overlays/dev");
        assertThat(dev.ofKind("Secret")).hasSize(1);
        assertThat(secretValues(dev.one("Secret")).values()).allMatch(v -> PLACEHOLDER.matcher(v).matches());
    }

    @Test
    void imageMatchesTheDeployment() throws IOException {
        DockerfileInstructions jvm = DockerfileInstructions.read(Repo.root().resolve("src/main/docker/Dockerfile.jvm"));
        for (String dir : kustomizations().toList()) {
            JsonNode deployment = Kustomize.render(dir).one("Deployment");
            JsonNode container = container(deployment);
            String user = DockerfileInstructions.userPart(jvm.last("USER").orElseThrow()).strip();
            assertThat(deployment.at("/spec/template/spec/securityContext/runAsUser").asText()).as(dir).isEqualTo(user);
            for (String port : texts(container.path("ports"), "containerPort")) {
                assertThat(jvm.all("EXPOSE")).as(dir).anyMatch(e -> Arrays.asList(e.split("\\s+")).contains(port));
            }
        }
    }

    @Test
    void prodTalksToKafkaOverTlsWithScramAsItsKafkaUser() {
        Kustomize.Rendered prod = Kustomize.render("k8s/overlays/prod");
        Map<String, String> env = containerEnv(prod);
        assertThat(env).containsEntry("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
                .containsEntry("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512").containsEntry("KAFKA_SSL_TRUSTSTORE_TYPE", "PEM");
        assertThat(env.get("KAFKA_BOOTSTRAP_SERVERS")).endsWith(":9093");

        // The login line comes from the KafkaUser's Secret, never as a literal or from the ConfigMap.
        JsonNode deployment = prod.one("Deployment");
        JsonNode jaas = StreamSupport.stream(container(deployment).path("env").spliterator(), false)
                .filter(e -> e.path("name").asText().equals("KAFKA_SASL_JAAS_CONFIG")).findFirst().orElseThrow();
        assertThat(jaas.has("value")).isFalse();
        String userSecret = jaas.at("/valueFrom/secretKeyRef/name").asText();
        assertThat(jaas.at("/valueFrom/secretKeyRef/key").asText()).isEqualTo("sasl.jaas.config");
        for (JsonNode cm : prod.ofKind("ConfigMap")) {
            cm.path("data").fields().forEachRemaining(f -> assertThat(f.getKey() + "=" + f.getValue().asText())
                    .as("ConfigMap %s", cm.at("/metadata/name").asText()).doesNotContainIgnoringCase("password")
                    .doesNotContainIgnoringCase("jaas"));
        }

        // The trust store is the CA file of a Secret volume, mounted read-only.
        String truststore = env.get("KAFKA_SSL_TRUSTSTORE_LOCATION");
        JsonNode mount = StreamSupport.stream(container(deployment).path("volumeMounts").spliterator(), false)
                .filter(m -> truststore.startsWith(m.path("mountPath").asText() + "/")).findFirst()
                .orElseThrow(() -> new AssertionError("nothing mounted at " + truststore));
        assertThat(mount.path("readOnly").asBoolean()).isTrue();
        JsonNode volume = StreamSupport.stream(deployment.at("/spec/template/spec/volumes").spliterator(), false)
                .filter(v -> v.path("name").asText().equals(mount.path("name").asText())).findFirst().orElseThrow();
        String caSecret = volume.at("/secret/secretName").asText();
        assertThat(caSecret).isNotEmpty();
        assertThat(StreamSupport.stream(volume.at("/secret/items").spliterator(), false)
                .map(i -> mount.path("mountPath").asText() + "/" + i.path("path").asText())).contains(truststore);

        // KEDA's lag scaler: the same user and CA, the same mechanism in KEDA's spelling, over TLS.
        JsonNode trigger = prod.one("ScaledObject").at("/spec/triggers/0");
        assertThat(trigger.at("/metadata/sasl").asText()).isEqualTo("scram_sha512");
        assertThat(trigger.at("/metadata/tls").asText()).isEqualTo("enable");
        JsonNode auth = prod.one("TriggerAuthentication");
        assertThat(trigger.at("/authenticationRef/name").asText()).isEqualTo(auth.at("/metadata/name").asText());
        assertThat(auth.at("/metadata/namespace").asText()).isEqualTo(deployment.at("/metadata/namespace").asText());
        Map<String, String> params = new LinkedHashMap<>();
        auth.at("/spec/secretTargetRef").forEach(t -> params.put(t.path("parameter").asText(),
                t.path("name").asText() + "/" + t.path("key").asText()));
        assertThat(params).containsOnly(Map.entry("username", userSecret + "/username"),
                Map.entry("password", userSecret + "/password"), Map.entry("ca", caSecret + "/ca.crt"));
        assertThat(secretExamples()).containsKeys(userSecret, caSecret);
    }

    @Test
    void theKafkaUserHasExactlyTheAclsTheWorkerNeeds() {
        Kustomize.Rendered prod = Kustomize.render("k8s/overlays/prod");
        Properties props = AppConfigKeys.applicationProperties();
        JsonNode user = prod.one("KafkaUser");
        JsonNode anyTopic = prod.ofKind("KafkaTopic").get(0);
        assertThat(user.at("/metadata/namespace").asText()).isEqualTo(anyTopic.at("/metadata/namespace").asText());
        assertThat(user.at("/metadata/labels/strimzi.io~1cluster").asText())
                .isEqualTo(anyTopic.at("/metadata/labels/strimzi.io~1cluster").asText());
        assertThat(user.at("/spec/authentication/type").asText()).isEqualTo("scram-sha-512");
        assertThat(user.at("/spec/authorization/type").asText()).isEqualTo("simple");

        Map<String, Set<String>> acls = new TreeMap<>();
        for (JsonNode acl : user.at("/spec/authorization/acls")) {
            assertThat(acl.at("/resource/patternType").asText("literal")).isEqualTo("literal");
            assertThat(acl.path("type").asText("allow")).isEqualTo("allow");
            acls.put(acl.at("/resource/type").asText() + ":" + acl.at("/resource/name").asText(),
                    new TreeSet<>(texts(acl.path("operations"))));
        }
        String sweeps = "mp.messaging.incoming.sweep-requests.";
        assertThat(props.getProperty("mp.messaging.outgoing.sweep-checks.topic")).isEqualTo(props.getProperty(sweeps
                + "topic"));
        assertThat(props.getProperty("mp.messaging.outgoing.repair-requests.topic"))
                .isEqualTo(props.getProperty(REQUESTS_CHANNEL + "topic"));
        assertThat(acls).containsOnly(
                Map.entry("topic:" + props.getProperty(REQUESTS_CHANNEL + "topic"), Set.of("Describe", "Read", "Write")),
                Map.entry("group:" + props.getProperty(REQUESTS_CHANNEL + "group.id"), Set.of("Describe", "Read")),
                Map.entry("topic:" + props.getProperty(sweeps + "topic"), Set.of("Describe", "Read", "Write")),
                Map.entry("group:" + props.getProperty(sweeps + "group.id"), Set.of("Describe", "Read")),
                Map.entry("topic:" + props.getProperty("mp.messaging.outgoing.authorization-results.topic"),
                        Set.of("Describe", "Write")),
                Map.entry("topic:" + props.getProperty(DLQ_TOPIC_KEY), Set.of("Describe", "Write")));
    }

    @Test
    void devStaysOnPlaintext() {
        Kustomize.Rendered dev = Kustomize.render("k8s/overlays/dev");
        assertThat(containerEnv(dev)).doesNotContainKeys("KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_JAAS_CONFIG");
        assertThat(dev.ofKind("KafkaUser")).isEmpty();
        assertThat(dev.one("ScaledObject").at("/spec/triggers/0/authenticationRef").isMissingNode()).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kustomizations")
    void prometheusScrapesEveryWorkerAndGetsItsRulesAndDashboard(String dir) throws IOException {
        Kustomize.Rendered r = Kustomize.render(dir);
        JsonNode deployment = r.one("Deployment");
        JsonNode monitor = r.one("PodMonitor");
        assertThat(monitor.at("/metadata/namespace").asText()).isEqualTo(deployment.at("/metadata/namespace").asText());
        assertSelects(monitor.at("/spec/selector/matchLabels"), deployment.at("/spec/template/metadata/labels"));
        JsonNode endpoint = monitor.at("/spec/podMetricsEndpoints/0");
        assertThat(endpoint.path("path").asText()).isEqualTo("/q/metrics");
        int port = resolvePort(container(deployment), endpoint.path("port"));
        assertThat(StreamSupport.stream(r.one("NetworkPolicy").at("/spec/ingress").spliterator(), false)
                .flatMap(i -> StreamSupport.stream(i.path("ports").spliterator(), false))
                .map(p -> p.path("port").asInt())).as("the NetworkPolicy admits the scrape").contains(port);

        assertThat(r.one("PrometheusRule").at("/spec/groups/0/rules")).isNotEmpty();
        // Prometheus names the PodMonitor's job <namespace>/<name>: AuthorizerAbsent and its unit tests watch that job.
        String job = "job=\"" + monitor.at("/metadata/namespace").asText() + "/" + monitor.at("/metadata/name").asText()
                + "\"";
        assertThat(StreamSupport.stream(r.one("PrometheusRule").at("/spec/groups/0/rules").spliterator(), false)
                .filter(a -> a.path("alert").asText().equals("AuthorizerAbsent")).findFirst().orElseThrow()
                .path("expr").asText()).contains(job);
        assertThat(Files.readString(Repo.root().resolve(Monitoring.RULE_TESTS))).contains(job)
                .doesNotContain("job=\"" + credentialsNamespace(r) + "/");
        JsonNode dashboard = r.ofKind("ConfigMap").stream()
                .filter(c -> "1".equals(c.at("/metadata/labels/grafana_dashboard").asText())).findFirst()
                .orElseThrow(() -> new AssertionError("no ConfigMap labelled grafana_dashboard=1"));
        String json = dashboard.path("data").fields().next().getValue().asText();
        assertThat(new ObjectMapper().readTree(json).path("panels")).isNotEmpty();
    }

    // ------------------------------------------------------------------------------------------------------------

    private static JsonNode container(JsonNode deployment) {
        JsonNode containers = deployment.at("/spec/template/spec/containers");
        assertThat(containers).as("containers").hasSize(1);
        return containers.get(0);
    }

    /** The container's environment: ConfigMaps/Secrets from envFrom (if rendered), then env (literal or a ref). */
    private static Map<String, String> containerEnv(Kustomize.Rendered r) {
        JsonNode container = container(r.one("Deployment"));
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode from : container.path("envFrom")) {
            String cm = from.at("/configMapRef/name").asText(null);
            if (cm != null) {
                JsonNode map = r.ofKind("ConfigMap").stream().filter(c -> c.at("/metadata/name").asText().equals(cm))
                        .findFirst().orElseThrow(() -> new AssertionError("envFrom ConfigMap " + cm + " not rendered"));
                map.path("data").fields().forEachRemaining(f -> env.put(f.getKey(), f.getValue().asText()));
            }
            assertThat(from.has("secretRef")).as("envFrom secretRef hides which keys are set").isFalse();
        }
        for (JsonNode e : container.path("env")) {
            env.put(e.path("name").asText(), e.has("value") ? e.path("value").asText() : "<from " + e.path("valueFrom") + ">");
        }
        return env;
    }

    /** The namespace of the credential Secrets: AUTHORIZER_CREDENTIALS_NAMESPACE, else the application's default. */
    private static String credentialsNamespace(Kustomize.Rendered r) {
        String configured = containerEnv(r).get("AUTHORIZER_CREDENTIALS_NAMESPACE");
        return configured != null ? configured : AppConfigKeys.authorizerLeaves().stream()
                .filter(k -> k.name().equals("authorizer.credentials.namespace")).findFirst().orElseThrow()
                .defaultValue();
    }

    /**
     * What the rendered bindings grant a ServiceAccount: namespace ({@code *} for a ClusterRoleBinding) to the
     * resources of the rules it gets there. Subjects that include it are counted: the account itself, the groups of
     * all service accounts or of its namespace, and all authenticated users. A ClusterRole that is not rendered here
     * counts as granting everything ({@code *}).
     */
    private static Map<String, Set<String>> grantsTo(Kustomize.Rendered r, String namespace, String name) {
        Set<String> groups = Set.of("system:serviceaccounts", "system:serviceaccounts:" + namespace,
                "system:authenticated");
        Map<String, Set<String>> grants = new TreeMap<>();
        for (JsonNode binding : Stream.concat(r.ofKind("RoleBinding").stream(), r.ofKind("ClusterRoleBinding").stream())
                .toList()) {
            boolean cluster = binding.path("kind").asText().equals("ClusterRoleBinding");
            String where = cluster ? "*" : binding.at("/metadata/namespace").asText();
            boolean applies = StreamSupport.stream(binding.path("subjects").spliterator(), false).anyMatch(s ->
                    s.path("kind").asText().equals("ServiceAccount") && s.path("name").asText().equals(name)
                            && s.path("namespace").asText(where).equals(namespace)
                    || s.path("kind").asText().equals("Group") && groups.contains(s.path("name").asText()));
            if (!applies) {
                continue;
            }
            String roleKind = binding.at("/roleRef/kind").asText();
            String roleName = binding.at("/roleRef/name").asText();
            List<JsonNode> roles = r.ofKind(roleKind).stream()
                    .filter(x -> x.at("/metadata/name").asText().equals(roleName) && (roleKind.equals("ClusterRole")
                            || x.at("/metadata/namespace").asText().equals(where)))
                    .toList();
            Set<String> resources = grants.computeIfAbsent(where, k -> new TreeSet<>());
            if (roles.isEmpty()) {
                resources.add("*");
            }
            for (JsonNode role : roles) {
                for (JsonNode rule : role.path("rules")) {
                    resources.addAll(texts(rule.path("resources")));
                }
            }
        }
        return grants;
    }

    private static void addIfPresent(Set<String> names, JsonNode name) {
        if (name.isTextual() && !name.asText().isEmpty()) {
            names.add(name.asText());
        }
    }

    private static Map<String, JsonNode> topics(Kustomize.Rendered r) {
        Map<String, JsonNode> topics = new LinkedHashMap<>();
        for (JsonNode t : r.ofKind("KafkaTopic")) {
            topics.put(t.at("/spec/topicName").asText(t.at("/metadata/name").asText()), t);
        }
        return topics;
    }

    private static int resolvePort(JsonNode container, JsonNode port) {
        if (port.isInt()) {
            return port.asInt();
        }
        return StreamSupport.stream(container.path("ports").spliterator(), false)
                .filter(p -> p.path("name").asText().equals(port.asText())).map(p -> p.path("containerPort").asInt())
                .findFirst().orElseThrow(() -> new AssertionError("no container port named " + port.asText()));
    }

    private static void assertSelects(JsonNode selector, JsonNode podLabels) {
        assertThat(selector).isNotEmpty();
        selector.fields().forEachRemaining(f -> assertThat(podLabels.path(f.getKey()).asText())
                .as("pod label %s", f.getKey()).isEqualTo(f.getValue().asText()));
    }

    private static Map<String, String> secretValues(JsonNode secret) {
        Map<String, String> values = new LinkedHashMap<>();
        secret.path("data").fields().forEachRemaining(f -> values.put(f.getKey(),
                new String(Base64.getDecoder().decode(f.getValue().asText()), StandardCharsets.UTF_8)));
        secret.path("stringData").fields().forEachRemaining(f -> values.put(f.getKey(), f.getValue().asText()));
        return values;
    }

    /** The Secrets documented in k8s/base/secret.example.yaml, by name. */
    private static Map<String, JsonNode> secretExamples() {
        try {
            Map<String, JsonNode> byName = new LinkedHashMap<>();
            for (JsonNode doc : Kustomize.parse(Files.readString(Repo.root().resolve("k8s/base/secret.example.yaml")))) {
                byName.put(doc.at("/metadata/name").asText(), doc);
            }
            assertThat(byName).isNotEmpty();
            return byName;
        } catch (IOException e) {
            return fail("k8s/base/secret.example.yaml", e);
        }
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static List<String> texts(JsonNode array, String field) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.path(field).asText()));
        return out;
    }

    /** Kubernetes memory quantities as used here (Ki/Mi/Gi or plain bytes). */
    private static long bytes(String quantity) {
        assertThat(quantity).as("memory quantity").isNotEmpty();
        Map<String, Long> units = Map.of("Ki", 1L << 10, "Mi", 1L << 20, "Gi", 1L << 30);
        for (var u : units.entrySet()) {
            if (quantity.endsWith(u.getKey())) {
                return Long.parseLong(quantity.substring(0, quantity.length() - 2)) * u.getValue();
            }
        }
        return Long.parseLong(quantity);
    }
}

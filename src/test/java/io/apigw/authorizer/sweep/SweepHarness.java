package io.apigw.authorizer.sweep;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.apigw.authorizer.credential.CredentialStore;
import io.apigw.authorizer.testing.KafkaBroker;
import io.apigw.authorizer.testing.KafkaClients;
import io.apigw.authorizer.testing.LocalKube;
import io.apigw.authorizer.testing.Requests;
import io.apigw.authorizer.testing.WorkerProcess;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.time.Instant;
import java.util.HashMap;
import java.util.concurrent.CompletableFuture;

/**
 * What the real-parts tests of sweeps share (here and in directory/tke): the worker's own cluster as deployed, a
 * directory, results, metrics.
 */
public final class SweepHarness {

    public static final ObjectMapper JSON = new ObjectMapper();
    public static final String NAMESPACE = "apigw-system";
    /** Where the worker itself runs (issue 26, G7): its ServiceAccount has no rights there. */
    public static final String WORKER_NAMESPACE = "apigw-worker";
    public static final String LEASE = "apigw-tke-authorizer-sweeper";

    private SweepHarness() {
    }

    /** Closes each, in order, whatever the others do (null: never started). */
    public static void closeAll(AutoCloseable... all) {
        for (AutoCloseable c : all) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // the next one still closes
            }
        }
    }

    /** Control planes started at once (each takes seconds); the first is the worker's own cluster. */
    public static List<LocalKube> startKubes(int count) {
        List<CompletableFuture<LocalKube>> starting = new ArrayList<>();
        for (int i = 1; i < count; i++) {
            starting.add(CompletableFuture.supplyAsync(LocalKube::start));
        }
        List<LocalKube> kubes = new ArrayList<>(List.of(LocalKube.start()));
        starting.forEach(k -> kubes.add(k.join()));
        return kubes;
    }

    /**
     * The worker on these parts, as the sweep tests run it (each adds its directory): its own cluster as deployed
     * (its ServiceAccount with exactly the Role of k8s/base/rbac.yaml), repair on, short retries and a short Lease.
     */
    public static Map<String, String> workerConfig(String bootstrapServers, LocalKube own, KubernetesClient ownAdmin,
            Duration interval) throws Exception {
        Map<String, String> config = new HashMap<>();
        config.put("kafka.bootstrap.servers", bootstrapServers);
        config.put("quarkus.kubernetes-client.api-server-url", own.server());
        config.put("quarkus.kubernetes-client.ca-cert-file", own.caFile().toString());
        config.put("quarkus.kubernetes-client.token", workerToken(ownAdmin));
        config.put("authorizer.retry.initial-backoff", "200ms");
        config.put("authorizer.request.deadline", "20s");
        config.put("authorizer.sweep.interval", interval.toSeconds() + "s");
        config.put("authorizer.sweep.rate", "5");
        config.put("authorizer.sweep.repair", "true");
        config.put("authorizer.sweep.lease.duration", "6s");
        config.put("authorizer.sweep.lease.renew-deadline", "4s");
        config.put("authorizer.sweep.lease.retry-period", "1s");
        return config;
    }

    /**
     * Makes the credential namespace and the worker's own, applies the shipped ServiceAccount and Role and returns the
     * account's token: the worker's own cluster as deployed.
     */
    public static String workerToken(KubernetesClient ownAdmin) throws Exception {
        for (String namespace : List.of(NAMESPACE, WORKER_NAMESPACE)) {
            ownAdmin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata()
                    .build()).serverSideApply();
        }
        for (String manifest : List.of("k8s/base/serviceaccount.yaml", "k8s/base/rbac.yaml")) {
            try (var in = Files.newInputStream(Path.of(manifest))) {
                ownAdmin.load(in).serverSideApply();
            }
        }
        return serviceAccountToken(ownAdmin, WORKER_NAMESPACE, "apigw-tke-authorizer");
    }

    /** The token the token controller issued to a ServiceAccount (before 1.24: its listed Secret). */
    public static String serviceAccountToken(KubernetesClient admin, String namespace, String name)
            throws Exception {
        for (int i = 0; i < 100; i++) {
            var sa = admin.serviceAccounts().inNamespace(namespace).withName(name).get();
            if (sa != null && !sa.getSecrets().isEmpty()) {
                Secret token = admin.secrets().inNamespace(namespace).withName(sa.getSecrets().get(0).getName()).get();
                if (token != null && token.getData() != null && token.getData().get("token") != null) {
                    return new String(Base64.getDecoder().decode(token.getData().get("token")), StandardCharsets.UTF_8);
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no token for ServiceAccount " + namespace + "/" + name);
    }

    public static String cluster(String name, LocalKube kube) {
        return "- name: " + name + "\n  cluster:\n    server: " + kube.server() + "\n    certificate-authority: "
                + kube.caFile() + "\n";
    }

    public static String user(String name, String token) {
        return "- name: " + name + "\n  user:\n    token: " + token + "\n";
    }

    public static String context(String name, String cluster, String user) {
        return "- name: " + name + "\n  context: {cluster: " + cluster + ", user: " + user + "}\n";
    }

    /** Replaces the directory file at once, as a mounted ConfigMap changes: the worker never reads half of it. */
    public static void writeAtomically(Path file, String content) throws Exception {
        Path next = Files.createTempFile(file.getParent(), "directory", ".tmp");
        Files.writeString(next, content);
        Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    public static Secret credential(KubernetesClient ownAdmin, String clusterId) {
        return ownAdmin.secrets().inNamespace(NAMESPACE).withName(CredentialStore.NAME_PREFIX + clusterId).get();
    }

    /** A client exactly as the gateway uses the stored credential: its endpoint, its CA, its token. */
    public static KubernetesClient gatewayClient(KubernetesClient ownAdmin, String clusterId) {
        Secret s = credential(ownAdmin, clusterId);
        Base64.Decoder d = Base64.getDecoder();
        return new KubernetesClientBuilder().withConfig(new ConfigBuilder()
                .withMasterUrl(new String(d.decode(s.getData().get("server")), StandardCharsets.UTF_8))
                .withCaCertData(s.getData().get("ca.crt"))
                .withOauthToken(new String(d.decode(s.getData().get("token")), StandardCharsets.UTF_8))
                .build()).build();
    }

    /** The value of the first series starting with {@code series} (name and the first labels), or -1. */
    public static long gauge(String metrics, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + "[^ ]* ([0-9.eE+-]+)$").matcher(metrics);
        return m.find() ? (long) Double.parseDouble(m.group(1)) : -1;
    }

    public static Optional<WorkerProcess> leader(List<WorkerProcess> workers) {
        return workers.stream().filter(w -> gauge(w.get("/q/metrics").body(), "authorizer_sweep_leader") == 1)
                .findFirst();
    }

    public static WorkerProcess awaitLeader(List<WorkerProcess> workers, Duration within)
            throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<WorkerProcess> leader = leader(workers);
            if (leader.isPresent()) {
                return leader.get();
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no sweeper among " + workers.size() + " workers");
    }

    /** The results on the topic now (read for {@code within}) that {@code wanted} picks, with their type. */
    public static List<JsonNode> results(KafkaClients kafka, Predicate<JsonNode> wanted, Duration within)
            throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : kafka.readUntil(KafkaBroker.RESULTS, rs -> false, within)) {
            ObjectNode body = (ObjectNode) JSON.readTree(r.value());
            body.put("type", KafkaClients.header(r, "ce_type"));
            if (wanted.test(body)) {
                out.add(body);
            }
        }
        return out;
    }

    /**
     * The cluster's first result of {@code trigger} completed after {@code since}, within {@code within}; the worker's
     * log if none comes.
     */
    public static JsonNode firstResult(KafkaClients kafka, WorkerProcess logOf, String trigger, String clusterId,
            Instant since, Duration within) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            List<JsonNode> found = results(kafka, r -> r.path("trigger").asText().equals(trigger)
                    && r.path("clusterId").asText().equals(clusterId)
                    && Instant.parse(r.path("completedAt").asText()).isAfter(since), Duration.ofSeconds(2));
            if (!found.isEmpty()) {
                return found.get(0);
            }
        }
        throw new AssertionError("no " + trigger + " result for " + clusterId + "\n" + logOf.log());
    }

    /** A console request (with extra fields) and its result; the worker's log if none comes. */
    public static JsonNode request(KafkaClients kafka, WorkerProcess logOf, String clusterId, String type,
            Map<String, String> extra) throws Exception {
        String id = "it-" + UUID.randomUUID();
        ObjectNode data = (ObjectNode) JSON.readTree(Requests.request(id, clusterId));
        extra.forEach(data::put);
        kafka.send(KafkaBroker.REQUESTS, clusterId, JSON.writeValueAsBytes(data), List.of(
                Requests.header("ce_specversion", "1.0"), Requests.header("ce_type", type),
                Requests.header("ce_id", "evt-" + id), Requests.header("ce_source", "/test")));
        List<ConsumerRecord<byte[], byte[]>> read = kafka.readUntil(KafkaBroker.RESULTS,
                rs -> rs.stream().anyMatch(r -> KafkaClients.text(r.value()).contains(id)), Duration.ofSeconds(60));
        ConsumerRecord<byte[], byte[]> r = read.stream().filter(x -> KafkaClients.text(x.value()).contains(id))
                .findFirst().orElseThrow(() -> new AssertionError("no result for " + id + "\n" + logOf.log()));
        ObjectNode body = (ObjectNode) JSON.readTree(r.value());
        body.put("type", KafkaClients.header(r, "ce_type"));
        return body;
    }
}

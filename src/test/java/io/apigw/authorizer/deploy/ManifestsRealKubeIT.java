package io.apigw.authorizer.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import io.apigw.authorizer.testing.LocalKube;

/**
 * The manifests against a real API server: every built-in kind of each overlay passes server-side validation and
 * admission, and the worker's own RBAC grants nothing beyond the Secrets (and the sweeper's Lease) of the credential
 * namespace; in its own namespace, where its cloud key and Kafka credentials are, it may do nothing (issue 26, G7).
 */
class ManifestsRealKubeIT {

    private static final String WORKER = "system:serviceaccount:apigw-worker:apigw-tke-authorizer";
    /**
     * Kinds of other operators (Strimzi, KEDA, Prometheus Operator), and policy/v1 which Kubernetes 1.20 does not serve
     * yet (1.21+). KustomizeOverlaysTest checks them against the application instead.
     */
    private static final List<String> NOT_BUILT_IN_HERE = List.of("KafkaTopic", "KafkaUser", "ScaledObject",
            "TriggerAuthentication", "PodMonitor", "PrometheusRule", "PodDisruptionBudget");

    static LocalKube kube;

    @BeforeAll
    static void start() throws Exception {
        kube = LocalKube.start();
        // The namespace and the worker's identity and RBAC, for real; the rest is only dry-run.
        kubectl(List.of("apply", "-f", "-"), builtIn(render("k8s/base"), List.of("Namespace", "ServiceAccount",
                "Role", "RoleBinding")));
    }

    @AfterAll
    static void stop() {
        if (kube != null) {
            kube.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = { "k8s/overlays/dev", "k8s/overlays/prod" })
    void everyBuiltInKindOfTheOverlayPassesServerSideDryRun(String overlay) throws Exception {
        String docs = builtIn(render(overlay), null);
        String out = kubectl(List.of("apply", "--dry-run=server", "-f", "-"), docs);
        assertThat(out).contains("deployment.apps/apigw-tke-authorizer").contains("(server dry run)");
    }

    @ParameterizedTest
    @CsvSource({
            "create, secrets, apigw-system, yes",
            "update, secrets, apigw-system, yes",
            "delete, secrets, apigw-system, yes",
            "get, secrets, kube-system, no",
            "list, secrets, default, no",
            "create, clusterroles, '', no",
            "create, clusterrolebindings, '', no",
            "list, pods, apigw-system, no",
            "create, serviceaccounts, kube-system, no",
            "get, configmaps, apigw-system, no",
            "create, leases.coordination.k8s.io, apigw-system, yes",
            "get, leases.coordination.k8s.io/apigw-tke-authorizer-sweeper, apigw-system, yes",
            "patch, leases.coordination.k8s.io/apigw-tke-authorizer-sweeper, apigw-system, yes",
            "update, leases.coordination.k8s.io/apigw-tke-authorizer-sweeper, apigw-system, yes",
            "patch, leases.coordination.k8s.io/kube-controller-manager, apigw-system, no",
            "create, leases.coordination.k8s.io, kube-system, no",
            // Issue 26, G7: the credential namespace yes, the worker's own namespace (its keys) not at all.
            "get, secrets, apigw-system, yes",
            "list, secrets, apigw-system, yes",
            "get, secrets, apigw-worker, no",
            "list, secrets, apigw-worker, no",
            "get, secrets/apigw-tke-authorizer-tencentcloud, apigw-worker, no",
            "get, secrets/apigw-tke-authorizer-kafka-user, apigw-worker, no",
            "get, configmaps, apigw-worker, no",
            "list, pods, apigw-worker, no",
            "create, leases.coordination.k8s.io, apigw-worker, no" })
    void theWorkersOwnRbacGrantsOnlyTheCredentialNamespacesSecrets(String verb, String resource, String namespace,
            String expected) throws Exception {
        List<String> args = new ArrayList<>(List.of("auth", "can-i", verb, resource, "--as=" + WORKER));
        args.add(namespace.isEmpty() ? "--all-namespaces" : "--namespace=" + namespace);
        assertThat(kubectlAnswer(args)).isEqualTo(expected);
    }

    @Test
    void theWorkerMayNotDoAnythingClusterWide() throws Exception {
        assertThat(kubectlAnswer(List.of("auth", "can-i", "*", "*", "--all-namespaces", "--as=" + WORKER)))
                .isEqualTo("no");
    }

    /** Issue 26, G7: nothing at all in the worker's own namespace, whose Secrets hold its cloud key and Kafka login. */
    @Test
    void theWorkerMayDoNothingInItsOwnNamespace() throws Exception {
        assertThat(kubectlAnswer(List.of("auth", "can-i", "*", "*", "--namespace=apigw-worker", "--as=" + WORKER)))
                .isEqualTo("no");
        for (String verb : List.of("get", "list", "watch", "create", "update", "patch", "delete")) {
            assertThat(kubectlAnswer(List.of("auth", "can-i", verb, "secrets", "--namespace=apigw-worker",
                    "--as=" + WORKER))).as("%s secrets in apigw-worker", verb).isEqualTo("no");
        }
    }

    private static String render(String dir) throws Exception {
        return run(List.of("kubectl", "kustomize", dir), null, true);
    }

    /** Keeps the documents of built-in kinds (or only the listed ones). */
    private static String builtIn(String rendered, List<String> only) {
        StringBuilder out = new StringBuilder();
        for (String doc : rendered.split("(?m)^---\\s*$")) {
            String kind = doc.lines().filter(l -> l.startsWith("kind: ")).map(l -> l.substring(6).trim()).findFirst()
                    .orElse("");
            if (!kind.isEmpty() && !NOT_BUILT_IN_HERE.contains(kind) && (only == null || only.contains(kind))) {
                out.append("---\n").append(doc.strip()).append('\n');
            }
        }
        return out.toString();
    }

    private static String kubectl(List<String> args, String stdin) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("kubectl", "--kubeconfig", kube.kubeconfig().toString()));
        cmd.addAll(args);
        return run(cmd, stdin, true);
    }

    /** {@code kubectl auth can-i} answers yes (exit 0) or no (exit 1). */
    private static String kubectlAnswer(List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("kubectl", "--kubeconfig", kube.kubeconfig().toString()));
        cmd.addAll(args);
        return run(cmd, null, false).trim();
    }

    private static String run(List<String> cmd, String stdin, boolean mustSucceed) throws Exception {
        Path out = Files.createTempFile("kubectl", ".out");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (stdin != null) {
            p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        p.getOutputStream().close();
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + cmd);
        }
        String text = Files.readString(out);
        if (mustSucceed && p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed:\n" + text);
        }
        return text;
    }
}

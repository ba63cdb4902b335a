package io.apigw.authorizer.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

/**
 * A real kube-apiserver with its controller-manager on loopback (scripts/kube/local-kube.sh). Where the binaries
 * have not been built, tests are skipped locally and fail on CI, which builds them first.
 */
public final class LocalKube implements AutoCloseable {

    private static final Path SCRIPT = Path.of("scripts/kube/local-kube.sh");
    private static final Path BINARIES = Path.of(System.getenv().getOrDefault("KUBE_CACHE_DIR",
            System.getProperty("user.home") + "/.cache/apigw-local-kube"), "bin", "kube-apiserver");

    public final Path dir;
    public final Map<String, String> env;

    private LocalKube(Path dir, Map<String, String> env) {
        this.dir = dir;
        this.env = env;
    }

    public static LocalKube start() {
        if (!Files.isExecutable(BINARIES)) {
            String why = "no kube-apiserver at " + BINARIES + ": run scripts/kube/local-kube.sh install build";
            if (System.getenv("CI") != null) {
                throw new IllegalStateException(why);
            }
            Assumptions.abort(why);
        }
        Path dir;
        try {
            // A control plane of its own per test class: never one another test run is using.
            dir = Files.createTempDirectory("apigw-local-kube-it");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        run("start", dir);
        return new LocalKube(dir, readEnv(dir.resolve("env")));
    }

    public Path kubeconfig() {
        return dir.resolve("kubeconfig");
    }

    public String server() {
        return env.get("KUBE_SERVER");
    }

    public Path caFile() {
        return Path.of(env.get("KUBE_CA_FILE"));
    }

    public String adminToken() {
        try {
            return Files.readString(Path.of(env.get("KUBE_ADMIN_TOKEN_FILE"))).trim();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public KubernetesClient adminClient() {
        return new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(kubeconfig().toFile())).build();
    }

    public void stopApiServer() {
        run("stop-apiserver", dir);
    }

    public void startApiServer() {
        run("start-apiserver", dir);
    }

    @Override
    public void close() {
        run("stop", dir);
    }

    private static void run(String command, Path dir) {
        try {
            Process p = new ProcessBuilder("bash", SCRIPT.toString(), command, dir.toString()).inheritIO().start();
            if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
                throw new IllegalStateException("local-kube.sh " + command + " failed");
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, String> readEnv(Path file) {
        Map<String, String> env = new HashMap<>();
        try {
            for (String line : Files.readAllLines(file)) {
                String l = line.startsWith("export ") ? line.substring(7) : line;
                int eq = l.indexOf('=');
                if (eq > 0 && !l.startsWith("#")) {
                    env.put(l.substring(0, eq).trim(), unquote(l.substring(eq + 1).trim()));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        for (String key : List.of("KUBE_SERVER", "KUBE_CA_FILE", "KUBE_ADMIN_TOKEN_FILE")) {
            if (!env.containsKey(key)) {
                throw new IllegalStateException(key + " missing from " + file);
            }
        }
        return env;
    }

    private static String unquote(String v) {
        if (v.length() >= 2 && (v.startsWith("'") && v.endsWith("'") || v.startsWith("\"") && v.endsWith("\""))) {
            return v.substring(1, v.length() - 1);
        }
        return v;
    }
}

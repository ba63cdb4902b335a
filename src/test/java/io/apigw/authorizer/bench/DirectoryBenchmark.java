package io.apigw.authorizer.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;

import io.apigw.authorizer.directory.KubeconfigDirectory;
import io.apigw.authorizer.request.AuthorizationRequest;
import io.apigw.authorizer.request.RequestType;

/**
 * What one lookup in the kubeconfig directory costs at fleet size, and the heap the loaded file holds. Run alone:
 * {@code BENCH_MAIN=DirectoryBenchmark scripts/bench.sh entries=10000 lookups=20000}. Each entry is a context with a
 * cluster (a server, and {@code ca-bytes} of inline CA) and a user with a token, as a generated fleet kubeconfig is.
 */
public final class DirectoryBenchmark {

    public static void main(String[] args) throws Exception {
        int entries = arg(args, "entries", 10_000);
        int lookups = arg(args, "lookups", 20_000);
        int caBytes = arg(args, "ca-bytes", 0);
        Path file = Files.createTempFile("bench-kubeconfig", ".yaml");
        try {
            Files.writeString(file, kubeconfig(entries, caBytes));
            // A first directory loads the classes and their caches, so that the second one's heap is its own.
            new KubeconfigDirectory(file).resolve(request(0));
            long before = usedHeap();
            KubeconfigDirectory directory = new KubeconfigDirectory(file);
            long loadStart = System.nanoTime();
            directory.resolve(request(0));
            long loadNanos = System.nanoTime() - loadStart;
            long held = usedHeap() - before;
            Random random = new Random(1);
            for (int i = 0; i < lookups; i++) {
                directory.resolve(request(random.nextInt(entries))); // warm-up
            }
            long[] nanos = new long[lookups];
            for (int i = 0; i < lookups; i++) {
                AuthorizationRequest r = request(random.nextInt(entries));
                long t = System.nanoTime();
                directory.resolve(r);
                nanos[i] = System.nanoTime() - t;
            }
            Arrays.sort(nanos);
            System.out.printf("kubeconfig directory: %d entries, file %d KiB; first lookup (parse) %.0f ms; "
                    + "heap held by the loaded file %.1f MiB%n", entries, Files.size(file) / 1024, loadNanos / 1e6,
                    held / (1024.0 * 1024));
            System.out.printf("lookup over %d: mean %.3f ms, p50 %.3f ms, p99 %.3f ms%n", lookups,
                    Arrays.stream(nanos).average().orElse(0) / 1e6, nanos[lookups / 2] / 1e6,
                    nanos[lookups * 99 / 100] / 1e6);
            if (directory.ready()) {
                Files.size(file); // keeps the directory reachable until both numbers are taken
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /**
     * {@code caBytes}: the inline CA's length per cluster (0: none, as the fleet benchmark's plain-HTTP clusters). A
     * real one is about 1.5 KB, and fabric8's YAML reader refuses a file over 3 MiB: about 1,800 such entries.
     */
    private static String kubeconfig(int entries, int caBytes) {
        String ca = caBytes == 0 ? "" : "\n    certificate-authority-data: " + "A".repeat(caBytes);
        StringBuilder clusters = new StringBuilder("clusters:\n");
        StringBuilder contexts = new StringBuilder("contexts:\n");
        StringBuilder users = new StringBuilder("users:\n");
        for (int i = 0; i < entries; i++) {
            clusters.append("- name: c").append(i).append("\n  cluster:\n    server: https://10.").append(i / 65536)
                    .append('.').append(i / 256 % 256).append('.').append(i % 256)
                    .append(":6443").append(ca).append('\n');
            contexts.append("- name: cls-").append(i).append("\n  context: {cluster: c").append(i).append(", user: u")
                    .append(i).append("}\n");
            users.append("- name: u").append(i).append("\n  user: {token: token-of-cluster-").append(i).append("}\n");
        }
        return "apiVersion: v1\nkind: Config\n" + clusters + contexts + users;
    }

    private static AuthorizationRequest request(int i) {
        return new AuthorizationRequest(RequestType.AUTHORIZE, "bench", "cls-" + i, Optional.empty(), Optional.empty(),
                Optional.empty());
    }

    private static long usedHeap() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static int arg(String[] args, String key, int fallback) {
        return Arrays.stream(args).filter(a -> a.startsWith(key + "=")).findFirst()
                .map(a -> Integer.parseInt(a.substring(key.length() + 1))).orElse(fallback);
    }
}

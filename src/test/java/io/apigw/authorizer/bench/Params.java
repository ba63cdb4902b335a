package io.apigw.authorizer.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The benchmark's knobs. Each is read from an argument {@code key=value}, else the environment variable
 * {@code BENCH_KEY} (upper case, {@code -} as {@code _}), else the default.
 */
record Params(int clusters, int requests, Duration roundTrip, Duration tokenDelay, int pacedRate, int freshPct,
        int privatePct, int c1Divisor, int kubectlClusters, String kubeVersion, int partitions,
        List<Variant> extraVariants, String jfrDir, boolean skipC1, boolean skipKubectl, int harnessThreads,
        int warmup, Variant baseline, boolean tls, int faultPct, int faultRate, int flood, int floodLarge,
        Duration floodRoundTrip, int floodRate) {

    /** A worker configuration to measure: -D keys for the worker and extra JVM options. */
    record Variant(String name, Map<String, String> config, List<String> jvmOptions) {

        /** {@code name:key=value,key=value,-XX:Option} */
        static Variant parse(String spec) {
            int colon = spec.indexOf(':');
            String name = colon < 0 ? spec : spec.substring(0, colon);
            Map<String, String> config = new LinkedHashMap<>();
            List<String> jvm = new ArrayList<>();
            if (colon >= 0) {
                for (String item : spec.substring(colon + 1).split(",")) {
                    String it = item.trim();
                    if (it.isEmpty()) {
                        continue;
                    }
                    if (it.startsWith("-")) {
                        jvm.add(it);
                    } else {
                        int eq = it.indexOf('=');
                        if (eq < 0) {
                            throw new IllegalArgumentException("variant item needs key=value: " + it);
                        }
                        config.put(it.substring(0, eq), it.substring(eq + 1));
                    }
                }
            }
            return new Variant(name, config, jvm);
        }

        String describe() {
            List<String> all = new ArrayList<>();
            config.forEach((k, v) -> all.add(k + "=" + v));
            all.addAll(jvmOptions);
            return all.isEmpty() ? "(application.properties defaults)" : String.join(" ", all);
        }
    }

    static Params parse(String[] args) {
        Map<String, String> given = new LinkedHashMap<>();
        for (String a : args) {
            String s = a.startsWith("--") ? a.substring(2) : a;
            int eq = s.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("arguments are key=value, got: " + a);
            }
            given.put(s.substring(0, eq), s.substring(eq + 1));
        }
        Lookup l = new Lookup(given);
        List<Variant> extras = new ArrayList<>();
        // Extra variants from the argument and from BENCH_VARIANTS add up.
        String variants = given.getOrDefault("variants", "") + ";" + System.getenv().getOrDefault("BENCH_VARIANTS", "");
        for (String v : variants.split(";")) {
            if (!v.isBlank()) {
                extras.add(Variant.parse(v.trim()));
            }
        }
        return new Params(
                l.getInt("n", 200),
                l.getInt("m", 2000),
                Duration.ofMillis(l.getInt("rtt-ms", 25)),
                Duration.ofMillis(l.getInt("token-ms", 100)),
                l.getInt("rate", 400),
                l.getInt("fresh-pct", 50),
                l.getInt("private-pct", 10),
                l.getInt("c1-divisor", 20),
                l.getInt("kubectl-clusters", 20),
                l.get("kube-version", "v1.28.3"),
                l.getInt("partitions", 12),
                extras,
                l.get("jfr", ""),
                Boolean.parseBoolean(l.get("skip-c1", "false")),
                Boolean.parseBoolean(l.get("skip-kubectl", "false")),
                l.getInt("harness-threads", 8),
                l.getInt("warmup", 2000),
                Variant.parse("default:" + l.get("default", "")),
                Boolean.parseBoolean(l.get("tls", "false")),
                l.getInt("faults", 0),
                l.getInt("fault-rate", 150),
                l.getInt("flood", 0),
                l.getInt("flood-large", 0),
                Duration.ofMillis(l.getInt("flood-rtt-ms", 2000)),
                l.getInt("flood-rate", 100));
    }

    private record Lookup(Map<String, String> given) {
        String get(String key, String def) {
            if (given.containsKey(key)) {
                return given.get(key);
            }
            String env = System.getenv("BENCH_" + key.toUpperCase(Locale.ROOT).replace('-', '_'));
            return env == null || env.isBlank() ? def : env;
        }

        int getInt(String key, int def) {
            return Integer.parseInt(get(key, Integer.toString(def)).trim());
        }
    }

    /** Clusters before 1.24 get their token Secret from the token controller; later ones from the worker. */
    boolean autoCreatedTokens() {
        String[] parts = kubeVersion.substring(1).split("\\.");
        return Integer.parseInt(parts[0]) == 1 && Integer.parseInt(parts[1].replaceAll("\\D.*", "")) <= 23;
    }
}

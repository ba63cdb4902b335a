package io.apigw.authorizer.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import io.apigw.authorizer.bench.Fleet.Fault;
import io.apigw.authorizer.bench.Fleet.Kind;
import io.apigw.authorizer.bench.Fleet.Member;
import io.apigw.authorizer.bench.Params.Variant;
import io.apigw.authorizer.delivery.Dispatchers;
import io.apigw.authorizer.testing.FreePort;
import io.apigw.authorizer.testing.KafkaBroker;
import io.apigw.authorizer.testing.TargetCluster;
import io.apigw.authorizer.testing.WorkerProcess;
import io.quarkus.runtime.configuration.DurationConverter;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;

/**
 * Fleet benchmark (issue 7): the packaged worker, as its own process, authorizing a simulated fleet of N clusters
 * (fabric8 mock API servers with round-trip time R and a token controller that fills the token T after the Secret
 * appears) from a real Kafka broker. Side by side: the same worker with {@code authorizer.concurrency=1}, and a plain
 * loop of {@code kubectl apply -f <seed>} per cluster. Run with {@code scripts/bench.sh}; see BENCHMARKS.md.
 */
public final class FleetBenchmark {

    private static final String CREDENTIAL_NAMESPACE = "apigw-system";
    private static final double TARGET_THROUGHPUT = 400;
    private static final double TARGET_P99_MS = 1000;
    private static final double TARGET_RSS_MIB = 256;
    private static final double TARGET_RATIO = 50;
    private static final double TARGET_BOUND_FACTOR = 1.5;
    private static final double TARGET_FAULT_P99_RATIO = 1.5;
    private static final double TARGET_FAULT_THROUGHPUT = 0.8;

    /** What a request is expected to come back as, and how it did. */
    enum Outcome {
        FRESH, ALREADY, PRIVATE, FAILED,
        /** A request for a faulty cluster: a SLOW one is authorized, the others fail. */
        FAULTY,
        /** A check of the flood (flood phases): run ({@code NotAuthorized}), or answered at once {@code CONFLICT}. */
        FLOOD,
        /** Not an outcome: the key of the percentiles over the healthy clusters' requests of a phase. */
        HEALTHY,
        /** Not an outcome: the key of the percentiles over all requests of a phase. */
        ALL
    }

    record Percentiles(int count, double p50, double p95, double p99, double max) {
        static Percentiles of(List<Double> ms) {
            if (ms.isEmpty()) {
                return new Percentiles(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
            }
            double[] a = ms.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            return new Percentiles(a.length, rank(a, 50), rank(a, 95), rank(a, 99), a[a.length - 1]);
        }

        private static double rank(double[] sorted, double pct) {
            int i = (int) Math.ceil(pct / 100 * sorted.length) - 1;
            return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
        }
    }

    record Phase(String variant, String phase, int sent, int answered, double seconds, double throughput,
            Map<Outcome, Percentiles> latency, Map<String, Integer> wrong, double workerCpu, double harnessCpu,
            double otherCpu, double peakRss, double rss, int threads, String load, String cpuByThread,
            String harnessCpuByThread, double jitCpu, double healthyThroughput, Map<String, FaultStats> faults,
            int livenessPolls, int livenessDown, long uncommitted) {
        /** Worker CPU per answered request, without the JIT compiler threads (a steady-state estimate). */
        double msPerAuthNoJit() {
            return 1000 * (workerCpu - jitCpu) / Math.max(1, answered);
        }
    }

    /**
     * A fault kind's requests in one phase (keyed by the {@link Fault}'s name), or the flood's that came back as one
     * outcome (keyed "flood", "flood large" for the records near the size limit, and the outcome): what they came back
     * as and how long they took.
     */
    record FaultStats(Map<String, Integer> outcomes, Percentiles endToEnd, Percentiles insideWorker) {
    }

    private final Params p;
    private final ExecutorService pool;
    /** The consumer group and request topic of the worker being measured (for the lag at the end of a phase). */
    private String group;
    private String requestTopic;
    private KafkaBroker broker;
    private KubernetesMockServer own;
    private NamespacedKubernetesClient ownClient;
    private Fleet fleet;
    private final List<Phase> phases = new ArrayList<>();
    private String kubectlSummary = "not run";
    private double kubectlRate = Double.NaN;
    private double kubectlAgainRate = Double.NaN;

    private FleetBenchmark(Params p) {
        this.p = p;
        this.pool = Fleet.pool(p.harnessThreads());
    }

    public static void main(String[] args) throws Exception {
        Params p = Params.parse(args);
        int code;
        FleetBenchmark b = new FleetBenchmark(p);
        try {
            code = b.run();
        } finally {
            b.close();
        }
        System.out.flush();
        // Mock servers and Kafka leave non-daemon threads behind.
        Runtime.getRuntime().halt(code);
    }

    private int run() throws Exception {
        long t0 = System.nanoTime();
        // Never leave a worker process behind, whatever stops this one.
        Runtime.getRuntime().addShutdownHook(new Thread(
                () -> ProcessHandle.current().descendants().forEach(ProcessHandle::destroyForcibly)));
        header();
        broker = KafkaBroker.start(FreePort.closed(), p.partitions());
        own = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new KubernetesCrudDispatcher(), false);
        own.init();
        ownClient = own.createClient();
        long f0 = System.nanoTime();
        fleet = Fleet.start(p, pool);
        say("fleet: %d clusters (%s) started in %.1f s; broker at %s; kubeconfig %s", fleet.members.size(),
                mix(fleet.members), secs(f0), broker.bootstrapServers(), TargetCluster.kubeconfig());

        int m = p.requests();
        runVariant(p.baseline(), fleet.members, m, true, !p.jfrDir().isBlank());
        if (!p.skipC1()) {
            int c1Clusters = Math.max(1, p.clusters() / p.c1Divisor());
            int c1Requests = Math.max(1, m / p.c1Divisor());
            say("concurrency=1 runs a 1/%d-size workload (%d clusters, %d requests, same mix and requests per cluster)"
                    + " to bound its duration", p.c1Divisor(), c1Clusters, c1Requests);
            // The default run's settings, with one worker at a time.
            Map<String, String> c1 = new LinkedHashMap<>(p.baseline().config());
            c1.put("authorizer.concurrency", "1");
            runVariant(new Variant("concurrency=1", c1, p.baseline().jvmOptions()), fleet.prefix(c1Clusters),
                    c1Requests, false, false);
        }
        for (Variant v : p.extraVariants()) {
            runVariant(v, fleet.members, m, true, false);
        }
        if (p.tls() && !p.skipKubectl()) {
            // Go's TLS stack wants the server name in a SAN; the mock's self-signed certificate has only a CN.
            kubectlSummary = "not run: kubectl rejects the mock's certificate (CN only, no SAN) under tls=true";
            say("== baseline: %s", kubectlSummary);
        } else if (!p.skipKubectl()) {
            kubectlBaseline();
        }
        summary();
        say("total benchmark time %.0f s", secs(t0));
        return 0;
    }

    // --- one worker configuration -----------------------------------------------------------------------------------

    private void runVariant(Variant v, List<Member> workload, int m, boolean paced, boolean jfr) throws Exception {
        String sfx = v.name().replaceAll("[^A-Za-z0-9]+", "-").toLowerCase(Locale.ROOT) + "-"
                + UUID.randomUUID().toString().substring(0, 6);
        String requests = "req-" + sfx;
        String results = "res-" + sfx;
        broker.createTopics(requests, results, "dlq-" + sfx, p.partitions());
        Map<String, String> config = new LinkedHashMap<>();
        config.put("kafka.bootstrap.servers", broker.bootstrapServers());
        config.put("authorizer.directory.kubeconfig.path", TargetCluster.kubeconfig().toString());
        // The interactive load alone: a sweep would add checks of every stored credential.
        config.put("authorizer.sweep.interval", "0");
        config.put("quarkus.kubernetes-client.api-server-url", own.url("/"));
        config.put("quarkus.kubernetes-client.token", "own-cluster-token");
        config.put("mp.messaging.incoming.authorization-requests.topic", requests);
        config.put("mp.messaging.incoming.authorization-requests.group.id", "group-" + sfx);
        config.put("mp.messaging.outgoing.authorization-results.topic", results);
        config.put("mp.messaging.outgoing.authorization-dead-letters.topic", "dlq-" + sfx);
        config.putAll(v.config());
        group = "group-" + sfx;
        requestTopic = requests;
        say("");
        say("== worker [%s]: %s", v.name(), v.describe());
        long s0 = System.nanoTime();
        String defaultJar = System.getProperty("worker.jar");
        String jar = config.remove("worker.jar");
        if (jar != null) {
            System.setProperty("worker.jar", jar);
            say("   worker jar %s", jar);
        }
        try (WorkerProcess worker = WorkerProcess.start(sfx, config, v.jvmOptions())) {
            worker.awaitReady(Duration.ofSeconds(180));
            long pid = worker.pid();
            say("   pid %d ready in %.1f s (cpu %.1f s, rss %.0f MiB), log %s", pid, secs(s0),
                    ProcStats.cpuSeconds(pid), ProcStats.rssMiB(pid), worker.logFile());
            try (Load load = new Load(broker.bootstrapServers(), requests, results)) {
                warmUp(v, workload, load, paced ? p.warmup() : Math.max(10, p.warmup() / p.c1Divisor() * 2));
                if (paced) {
                    phase(v, "paced " + p.pacedRate() + "/s", workload, m, p.pacedRate(), load, worker,
                            jfr ? "paced" : null);
                }
                phase(v, "burst", workload, m, 0, load, worker, jfr ? "burst" : null);
                if (paced) {
                    // Unloaded, last (the JIT has seen the most by then): how long one authorization takes when
                    // nothing queues, to compare with the critical path.
                    int light = Math.max(1, p.pacedRate() / 10);
                    Map<String, double[]> before = stepTimes(worker);
                    phase(v, "light " + light + "/s", workload, Math.max(1, m / 10), light, load, worker, null);
                    Map<String, double[]> after = stepTimes(worker);
                    StringBuilder steps = new StringBuilder();
                    for (String step : after.keySet()) {
                        double[] a = after.get(step);
                        double[] b = before.getOrDefault(step, new double[2]);
                        if (a[1] > b[1]) {
                            steps.append(String.format(Locale.ROOT, "%s %.1f, ", step,
                                    1000 * (a[0] - b[0]) / (a[1] - b[1])));
                        }
                    }
                    say("      inside the worker, mean ms per step in this phase (its own metrics): %s",
                            steps.toString().replaceAll(", $", ""));
                    if (fleet.flooded != null) {
                        floodPhases(v, workload, load, worker);
                    }
                    if (!fleet.faulty.isEmpty()) {
                        faultPhases(v, workload, load, worker);
                    }
                }
            }
            if (defaultJar != null) {
                System.setProperty("worker.jar", defaultJar);
            }
            say("   worker threads: %s", ProcStats.threadNames(pid, 8));
            int exit = worker.terminate(Duration.ofSeconds(90));
            say("   worker stopped (exit %d); peak RSS over its life %.0f MiB", exit, phases.get(phases.size() - 1)
                    .peakRss());
        }
    }

    private static final Pattern STEP_SERIES = Pattern.compile(
            "(?m)^authorizer_(step|request)_duration_seconds_(sum|count)\\{([^}]*)} ([0-9.eE+-]+)"); // an exemplar may follow
    private static final Pattern STEP_TAG = Pattern.compile("step=\"(\\w+)\"");

    /** Per step (and "record to result" for the whole request): [seconds, count] so far, from /q/metrics. */
    private static Map<String, double[]> stepTimes(WorkerProcess worker) throws Exception {
        String text = worker.get("/q/metrics").body();
        Map<String, double[]> times = new TreeMap<>();
        Matcher m = STEP_SERIES.matcher(text);
        while (m.find()) {
            Matcher tag = STEP_TAG.matcher(m.group(3));
            String key = m.group(1).equals("request") ? "record-to-result" : tag.find() ? tag.group(1) : "?";
            times.computeIfAbsent(key, k -> new double[2])[m.group(2).equals("sum") ? 0 : 1] += Double.parseDouble(
                    m.group(4));
        }
        return times;
    }

    /**
     * Authorizes the warm clusters (fresh authorizations, so every code path is compiled) and asks about the private
     * ones; then repeats already-authorized requests over the fleet's warm clusters until {@code warmup} requests
     * in all have warmed the JIT.
     */
    private void warmUp(Variant v, List<Member> workload, Load load, int warmup) throws Exception {
        List<Member> mocks = workload.stream().filter(x -> x.cluster() != null).toList();
        fleet.reset(mocks, ownClient, CREDENTIAL_NAMESPACE, pool);
        List<Member> warm = workload.stream().filter(x -> x.kind() != Kind.FRESH).toList();
        List<Load.Request> first = Load.requests("warm-" + v.name().hashCode() + "-a", warm, warm.size());
        long w0 = System.nanoTime();
        load.send(first, 0);
        int missing = load.await(first, Duration.ofSeconds(300));
        int extra = Math.max(0, warmup - first.size());
        List<Member> anyWarm = new ArrayList<>(warm);
        fleet.members.stream().filter(x -> x.kind() != Kind.FRESH && !warm.contains(x)).forEach(anyWarm::add);
        List<Load.Request> more = Load.requests("warm-" + v.name().hashCode() + "-b", anyWarm, extra);
        load.send(more, 0);
        missing += load.await(more, Duration.ofSeconds(300));
        long failed = first.stream().map(r -> load.result(r.requestId()))
                .filter(r -> r != null && r.type().equals("Failed")).count();
        say("   warm-up: %d requests (%d warm clusters authorized, %d private) in %.1f s; missing %d, failed %d",
                first.size() + more.size(), warm.stream().filter(x -> x.kind() == Kind.WARM).count(),
                warm.stream().filter(x -> x.kind() == Kind.PRIVATE).count(), secs(w0), missing, failed);
    }

    private void phase(Variant v, String name, List<Member> workload, int m, double rate, Load load,
            WorkerProcess worker, String jfrName) throws Exception {
        phase(v, name, workload, m, rate, load, worker, jfrName, List.of());
    }

    /**
     * {@code flood}: requests sent all at once a quarter into the (paced) phase, beside the workload's, and counted
     * apart from them ({@link Outcome#FLOOD}).
     */
    private void phase(Variant v, String name, List<Member> workload, int m, double rate, Load load,
            WorkerProcess worker, String jfrName, List<Load.Request> flood) throws Exception {
        fleet.reset(workload.stream().filter(x -> x.kind() == Kind.FRESH).toList(), ownClient, CREDENTIAL_NAMESPACE,
                pool);
        List<Load.Request> reqs = Load.requests(name.replaceAll("\\W", "") + "-" + v.name().hashCode(), workload, m);
        Map<String, Kind> kinds = workload.stream().collect(Collectors.toMap(Member::clusterId, Member::kind));
        Map<String, Outcome> expected = new HashMap<>();
        Map<String, Boolean> seen = new HashMap<>();
        for (Load.Request r : reqs) {
            Kind k = kinds.get(r.clusterId());
            boolean first = seen.put(r.clusterId(), true) == null;
            expected.put(r.requestId(), k == Kind.FAULTY ? Outcome.FAULTY : k == Kind.PRIVATE ? Outcome.PRIVATE
                    : k == Kind.FRESH && first ? Outcome.FRESH : Outcome.ALREADY);
        }
        Map<String, Fault> faultOf = new HashMap<>();
        workload.stream().filter(x -> x.fault() != null).forEach(x -> faultOf.put(x.clusterId(), x.fault()));
        long pid = worker.pid();
        if (jfrName != null) {
            jcmd(pid, "JFR.start", "name=" + jfrName, "settings=profile",
                    "filename=" + Path.of(p.jfrDir()).toAbsolutePath().resolve(v.name().replaceAll("\\W", "_") + "-"
                            + jfrName + ".jfr"));
        }
        Map<String, Integer> wireBefore = new HashMap<>();
        workload.stream().filter(x -> x.cluster() != null)
                .forEach(x -> wireBefore.put(x.clusterId(), x.cluster().workerRequests().size()));
        String loadBefore = ProcStats.loadAverage();
        Map<String, Double> threads0 = ProcStats.cpuByThread(pid);
        Map<String, Double> harness0 = ProcStats.cpuByThread(ProcessHandle.current().pid());
        double cpu0 = ProcStats.cpuSeconds(pid);
        double h0 = ProcStats.cpuSeconds(ProcessHandle.current().pid());
        double all0 = ProcStats.machineBusySeconds();
        long start = System.nanoTime();
        Liveness live = Liveness.watch(worker);
        Future<?> flooding = flood.isEmpty() ? null : pool.submit(() -> {
            LockSupport.parkNanos((long) (rate > 0 ? m / rate / 4 * 1e9 : 0));
            load.send(flood, 0);
            return null;
        });
        load.send(reqs, rate);
        Duration timeout = Duration.ofSeconds(Math.max(180, (long) (rate > 0 ? 2 * m / rate : 0) + 120));
        if (!faultOf.isEmpty()) {
            // A faulty cluster's requests run one after another, each for up to the deadline (and its publish).
            long perCluster = (m + workload.size() - 1) / workload.size();
            timeout = timeout.plus(deadline(v).plusSeconds(15).multipliedBy(perCluster));
        }
        if (flooding != null) {
            flooding.get();
            // The flooded cluster's share of the waiting room (and the one running) run one after another, each a
            // few round trips of its slow API server. (A compile-time constant: the harness runs without the
            // worker's classes.)
            timeout = timeout.plus(p.floodRoundTrip().multipliedBy(8).plusSeconds(15)
                    .multipliedBy(Dispatchers.QUEUED_PER_CLUSTER + 1));
            reqs = new ArrayList<>(reqs);
            reqs.addAll(flood);
        }
        int missing = load.await(reqs, timeout);
        live.stop();
        long uncommitted = uncommitted();
        double cpu1 = ProcStats.cpuSeconds(pid);
        Map<String, Double> threads1 = ProcStats.cpuByThread(pid);
        String byThread = ProcStats.topThreads(threads0, threads1, 10);
        // Compiler threads come and go (-XX:+UseDynamicNumberOfCompilerThreads): count what the live ones added.
        double jit = threads1.entrySet().stream().filter(e -> e.getKey().contains("CompilerThre"))
                .mapToDouble(e -> Math.max(0, e.getValue() - threads0.getOrDefault(e.getKey(), 0.0))).sum();
        String harnessByThread = ProcStats.topThreads(harness0,
                ProcStats.cpuByThread(ProcessHandle.current().pid()), 8);
        double h1 = ProcStats.cpuSeconds(ProcessHandle.current().pid());
        double all1 = ProcStats.machineBusySeconds();
        if (jfrName != null) {
            jcmd(pid, "JFR.stop", "name=" + jfrName);
        }
        Map<Outcome, List<Double>> lat = new EnumMap<>(Outcome.class);
        List<Double> all = new ArrayList<>();
        Map<String, Integer> wrong = new TreeMap<>();
        long firstSend = Long.MAX_VALUE;
        long lastReceive = start;
        long lastHealthy = start;
        int healthyAnswered = 0;
        Map<String, List<Double>> faultMs = new TreeMap<>();
        Map<String, List<Double>> faultInside = new TreeMap<>();
        Map<String, Map<String, Integer>> faultOutcomes = new TreeMap<>();
        Map<String, Double> inside = faultOf.isEmpty() && flood.isEmpty() ? Map.of() : durations(worker);
        String floodedId = flood.isEmpty() ? null : flood.get(0).clusterId();
        for (Load.Request r : reqs) {
            Long sent = load.sentAt(r.requestId());
            Load.Received got = load.result(r.requestId());
            if (sent != null) {
                firstSend = Math.min(firstSend, sent);
            }
            Outcome want = expected.get(r.requestId());
            if (got == null || sent == null) {
                wrong.merge("missing (expected " + (want == null ? Outcome.FLOOD : want) + ")", 1, Integer::sum);
                continue;
            }
            lastReceive = Math.max(lastReceive, got.atNanos());
            double ms = (got.atNanos() - sent) / 1e6;
            all.add(ms);
            Fault fault = faultOf.get(r.clusterId());
            boolean flooded = r.clusterId().equals(floodedId);
            if (fault != null || flooded) {
                String label = got.type().equals("Failed") ? "Failed/" + got.code() : got.type();
                // A flood's check of the never-authorized cluster either runs or is answered at once, untried.
                String group = fault != null ? fault.name() : (r.bytes() > 0 ? "flood large " : "flood ") + label;
                faultOutcomes.computeIfAbsent(group, x -> new TreeMap<>()).merge(label, 1, Integer::sum);
                if (fault != null ? got.type().equals("Authorized") != (fault == Fault.SLOW)
                        : !label.equals("NotAuthorized") && !(label.equals("Failed/CONFLICT") && got.attempts() == 0)) {
                    wrong.merge((fault != null ? fault : "FLOOD") + " -> " + label, 1, Integer::sum);
                }
                faultMs.computeIfAbsent(group, x -> new ArrayList<>()).add(ms);
                Double in = inside.get(r.requestId());
                if (in != null) {
                    faultInside.computeIfAbsent(group, x -> new ArrayList<>()).add(in);
                }
                lat.computeIfAbsent(fault != null ? Outcome.FAULTY : Outcome.FLOOD, x -> new ArrayList<>()).add(ms);
                continue;
            }
            lastHealthy = Math.max(lastHealthy, got.atNanos());
            healthyAnswered++;
            lat.computeIfAbsent(Outcome.HEALTHY, x -> new ArrayList<>()).add(ms);
            Outcome is = switch (got.type()) {
                case "Authorized" -> got.alreadyAuthorized() ? Outcome.ALREADY : Outcome.FRESH;
                case "PrivateAccessDisabled" -> Outcome.PRIVATE;
                default -> Outcome.FAILED;
            };
            if (is != want) {
                wrong.merge(want + " -> " + (is == Outcome.FAILED ? "Failed/" + got.code() : is.toString()), 1,
                        Integer::sum);
            }
            lat.computeIfAbsent(want, x -> new ArrayList<>()).add(ms);
        }
        int answered = reqs.size() - missing;
        double seconds = (lastReceive - firstSend) / 1e9;
        Map<Outcome, Percentiles> pct = new EnumMap<>(Outcome.class);
        lat.forEach((k, l) -> pct.put(k, Percentiles.of(l)));
        pct.put(Outcome.ALL, Percentiles.of(all));
        double workerCpu = cpu1 - cpu0;
        double harnessCpu = h1 - h0;
        Phase ph = new Phase(v.name(), name, reqs.size(), answered, seconds, answered / seconds, pct, wrong,
                workerCpu, harnessCpu, (all1 - all0) - workerCpu - harnessCpu, ProcStats.peakRssMiB(pid),
                ProcStats.rssMiB(pid), ProcStats.threads(pid), loadBefore + " -> " + ProcStats.loadAverage(), byThread,
                harnessByThread, jit, healthyAnswered / ((lastHealthy - firstSend) / 1e9), faultStats(faultOutcomes,
                        faultMs, faultInside), live.polls(), live.down(), uncommitted);
        phases.add(ph);
        print(ph);
        if (name.startsWith("light")) {
            wire(workload, wireBefore, expected, reqs);
            insideWorker(worker, expected, reqs);
        }
    }

    /**
     * The sequential round trips as the mock servers saw them: each authorization's requests, grouped into waves
     * (a request that arrives more than R/2 after the previous one waited for an answer). Only meaningful unloaded.
     */
    private void wire(List<Member> workload, Map<String, Integer> before, Map<String, Outcome> expected,
            List<Load.Request> reqs) {
        Map<String, Outcome> byCluster = new HashMap<>();
        for (Load.Request r : reqs) {
            byCluster.putIfAbsent(r.clusterId(), expected.get(r.requestId()));
        }
        long gap = p.roundTrip().toNanos() / 2;
        for (Outcome o : List.of(Outcome.FRESH, Outcome.ALREADY)) {
            Map<String, Integer> shapes = new TreeMap<>();
            for (Member x : workload) {
                if (x.cluster() == null || byCluster.get(x.clusterId()) != o) {
                    continue;
                }
                List<TargetCluster.WorkerRequest> all = x.cluster().workerRequests();
                List<TargetCluster.WorkerRequest> mine = all.subList(before.getOrDefault(x.clusterId(), 0), all.size());
                List<List<String>> waves = new ArrayList<>();
                long last = Long.MIN_VALUE;
                for (TargetCluster.WorkerRequest w : mine) {
                    if (waves.isEmpty() || w.nanos() - last > gap) {
                        waves.add(new ArrayList<>());
                    }
                    waves.get(waves.size() - 1).add(label(w));
                    last = w.nanos();
                }
                String shape = waves.size() + " waves: " + waves.stream().map(wv -> wv.stream().sorted()
                        .collect(Collectors.joining(", ", "[", "]"))).collect(Collectors.joining(" -> "));
                shapes.merge(shape, 1, Integer::sum);
                shapeWaves.put(shape, waves);
            }
            shapes.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(2)
                    .forEach(e -> {
                        say("      on the wire, %s (%d clusters): %s", o.toString().toLowerCase(Locale.ROOT),
                                e.getValue(), e.getKey());
                        wireShapes.putIfAbsent(o, shapeWaves.get(e.getKey()));
                    });
        }
    }

    private static final Pattern DURATION_LINE = Pattern.compile("requestId=(\\S+) .*durationMs=(\\d+)");

    /** The worker's own durationMs per request id (record received to result on the broker), from its log. */
    private static Map<String, Double> durations(WorkerProcess worker) {
        Map<String, Double> byId = new HashMap<>();
        try {
            for (String l : Files.readAllLines(worker.logFile())) {
                Matcher mm = DURATION_LINE.matcher(l);
                if (mm.find()) {
                    byId.put(mm.group(1), Double.parseDouble(mm.group(2)));
                }
            }
        } catch (IOException e) {
            say("   cannot read the worker log: %s", e);
        }
        return byId;
    }

    /** The worker's own durationMs per kind of request. */
    private void insideWorker(WorkerProcess worker, Map<String, Outcome> expected, List<Load.Request> reqs) {
        Map<String, Double> byId = durations(worker);
        Map<Outcome, List<Double>> d = new EnumMap<>(Outcome.class);
        for (Load.Request r : reqs) {
            Double ms = byId.get(r.requestId());
            if (ms != null) {
                d.computeIfAbsent(expected.get(r.requestId()), x -> new ArrayList<>()).add(ms);
            }
        }
        d.forEach((o, l) -> {
            Percentiles q = Percentiles.of(l);
            say("      inside the worker (its durationMs) %-8s n=%-4d p50 %6.1f  p95 %6.1f ms", o.toString()
                    .toLowerCase(Locale.ROOT), q.count(), q.p50(), q.p95());
        });
    }

    private static Map<String, FaultStats> faultStats(Map<String, Map<String, Integer>> outcomes,
            Map<String, List<Double>> endToEnd, Map<String, List<Double>> inside) {
        Map<String, FaultStats> out = new TreeMap<>();
        outcomes.forEach((f, o) -> out.put(f, new FaultStats(o, Percentiles.of(endToEnd.getOrDefault(f, List.of())),
                Percentiles.of(inside.getOrDefault(f, List.of())))));
        return out;
    }

    /**
     * The fault mix (issue 18), on the worker just measured: the healthy clusters' requests alone, then the same
     * requests with the faulty clusters' among them (each faulty cluster asked as often as a healthy one), paced at a
     * rate the worker carries (for latency) and all at once (for throughput).
     */
    private void faultPhases(Variant v, List<Member> healthy, Load load, WorkerProcess worker) throws Exception {
        List<Member> mixed = fleet.withFaults();
        int m = p.requests();
        int healthyM = (int) Math.round((double) m * healthy.size() / mixed.size());
        double healthyRate = (double) p.faultRate() * healthy.size() / mixed.size();
        say("   fault mix: %d of %d clusters faulty (%s), request deadline %s; the healthy clusters get %d requests"
                + " in both phases of a pair", fleet.faulty.size(), mixed.size(), fleet.faulty.stream().collect(
                        Collectors.groupingBy(Member::fault, TreeMap::new, Collectors.counting())), deadline(v),
                healthyM);
        phase(v, String.format(Locale.ROOT, "healthy only %.0f/s", healthyRate), healthy, healthyM, healthyRate, load,
                worker, null);
        phase(v, "with faults " + p.faultRate() + "/s", mixed, m, p.faultRate(), load, worker, null);
        phase(v, "healthy only burst", healthy, healthyM, 0, load, worker, null);
        phase(v, "with faults burst", mixed, m, 0, load, worker, null);
    }

    /**
     * A flood (issue 27), on the worker just measured: the healthy clusters' requests paced alone, then the same
     * beside {@code flood} checks of one slow cluster sent at once ({@code flood-large} of them, spread among the
     * rest, with a value and headers each just under {@code authorizer.request.max-bytes}).
     */
    private void floodPhases(Variant v, List<Member> healthy, Load load, WorkerProcess worker) throws Exception {
        int n = p.flood();
        int large = Math.min(n, p.floodLarge());
        int bytes = Integer.parseInt(v.config().getOrDefault("authorizer.request.max-bytes", "65536")) - 1024;
        List<Load.Request> flood = new ArrayList<>(n);
        for (Load.Request r : Load.requests("flood-" + v.name().hashCode(), List.of(fleet.flooded), n)) {
            boolean big = large > 0 && (long) flood.size() * large / n != (long) (flood.size() + 1) * large / n;
            flood.add(new Load.Request(r.requestId(), r.clusterId(), Load.Request.CHECK, big ? bytes : 0));
        }
        say("   flood: %d checks of one cluster (%s ms per answer, never authorized), %d of them of %d bytes in value"
                + " and in headers, sent at once a quarter into the second phase; %d healthy requests at %d/s in"
                + " both phases; each cluster's share of the waiting room %d", n, p.floodRoundTrip().toMillis(), large,
                bytes, p.requests(), p.floodRate(), Dispatchers.QUEUED_PER_CLUSTER);
        phase(v, "healthy alone " + p.floodRate() + "/s", healthy, p.requests(), p.floodRate(), load, worker, null);
        phase(v, "beside a flood " + p.floodRate() + "/s", healthy, p.requests(), p.floodRate(), load, worker, null,
                flood);
    }

    /** {@code authorizer.request.deadline} of the variant, read as the worker's configuration reads it. */
    private static Duration deadline(Variant v) {
        return DurationConverter.parseDuration(v.config().getOrDefault("authorizer.request.deadline", "2m"));
    }

    /** Records of the request topic the worker's group has not committed, once commits have had time to land. */
    private long uncommitted() throws Exception {
        long lag = broker.uncommitted(group, requestTopic);
        for (int i = 0; i < 20 && lag > 0; i++) {
            Thread.sleep(250); // the connector commits every second
            lag = broker.uncommitted(group, requestTopic);
        }
        return lag;
    }

    /** Polls the worker's liveness every 250 ms while a phase runs. */
    static final class Liveness {
        private final Thread poller;
        private volatile boolean running = true;
        private int polls;
        private int down;

        private Liveness(WorkerProcess worker) {
            poller = new Thread(() -> {
                while (running) {
                    boolean up;
                    try {
                        up = worker.get("/q/health/live").status() == 200;
                    } catch (RuntimeException e) {
                        up = false;
                    }
                    synchronized (this) {
                        polls++;
                        down += up ? 0 : 1;
                    }
                    LockSupport.parkNanos(250_000_000L);
                }
            }, "bench-liveness");
            poller.setDaemon(true);
        }

        static Liveness watch(WorkerProcess worker) {
            Liveness l = new Liveness(worker);
            l.poller.start();
            return l;
        }

        void stop() throws InterruptedException {
            running = false;
            poller.join(5000);
        }

        synchronized int polls() {
            return polls;
        }

        synchronized int down() {
            return down;
        }
    }

    private final Map<Outcome, List<List<String>>> wireShapes = new EnumMap<>(Outcome.class);
    private final Map<String, List<List<String>>> shapeWaves = new HashMap<>();

    /** "GET serviceaccounts", "LIST secrets", "WATCH secrets", "POST selfsubjectrulesreviews", "GET version". */
    static String label(TargetCluster.WorkerRequest w) {
        String path = w.path();
        boolean watch = path.contains("watch=true");
        int q = path.indexOf('?');
        String[] seg = (q < 0 ? path : path.substring(0, q)).replaceAll("^/|/$", "").split("/");
        // /api/v1/[namespaces/NS/]RES[/NAME] or /apis/GROUP/VERSION/[namespaces/NS/]RES[/NAME] or /version
        int i = seg[0].equals("api") ? 2 : seg[0].equals("apis") ? 3 : 0;
        if (i == 0 || seg.length <= i) {
            return w.method() + " " + String.join("/", seg);
        }
        if (seg[i].equals("namespaces") && seg.length > i + 2) {
            i += 2;
        }
        boolean named = seg.length > i + 1;
        String verb = watch ? "WATCH" : w.method().equals("GET") && !named ? "LIST" : w.method();
        return verb + " " + seg[i];
    }

    private void print(Phase ph) {
        say("   -- %s: %d requests, %d answered in %.2f s => %.1f authorizations/s", ph.phase(), ph.sent(),
                ph.answered(), ph.seconds(), ph.throughput());
        for (Outcome o : Outcome.values()) {
            Percentiles q = ph.latency().get(o);
            if (q != null) {
                say("      latency %-8s n=%-5d p50 %7.1f  p95 %7.1f  p99 %7.1f  max %7.1f ms",
                        o.toString().toLowerCase(Locale.ROOT), q.count(), q.p50(),
                        q.p95(), q.p99(), q.max());
            }
        }
        ph.faults().forEach((f, st) -> say("      %-19s n=%-4d %s; end to end p50 %7.0f p99 %7.0f max %7.0f ms; inside"
                + " the worker p50 %6.0f max %6.0f ms", f.startsWith("flood") ? f : "fault " + f, st.endToEnd().count(),
                st.outcomes(), st.endToEnd().p50(), st.endToEnd().p99(), st.endToEnd().max(), st.insideWorker().p50(),
                st.insideWorker().max()));
        if (!ph.faults().isEmpty()) {
            say("      healthy clusters: %d answered, %.1f/s", ph.latency().get(Outcome.HEALTHY).count(),
                    ph.healthyThroughput());
        }
        say("      liveness: %d polls, %d not UP; request records left uncommitted at the end: %d", ph.livenessPolls(),
                ph.livenessDown(), ph.uncommitted());
        if (!ph.wrong().isEmpty()) {
            say("      unexpected outcomes: %s", ph.wrong());
        }
        say("      worker cpu %.1f s (%.2f ms/authorization, %.0f%% of one core); harness+broker+mocks cpu %.1f s;"
                + " other processes %.1f s; load %s", ph.workerCpu(), 1000 * ph.workerCpu() / Math.max(1, ph.answered()),
                100 * ph.workerCpu() / ph.seconds(), ph.harnessCpu(), ph.otherCpu(), ph.load());
        say("      worker cpu by thread: %s", ph.cpuByThread());
        say("      worker cpu without the JIT compiler threads: %.2f ms/authorization", ph.msPerAuthNoJit());
        say("      harness cpu by thread: %s", ph.harnessCpuByThread());
        say("      worker peak RSS (VmHWM) %.0f MiB, RSS now %.0f MiB, %d threads", ph.peakRss(), ph.rss(),
                ph.threads());
    }

    // --- kubectl baseline -------------------------------------------------------------------------------------------

    private void kubectlBaseline() throws Exception {
        List<Member> targets = fleet.members.stream().filter(x -> x.kind() == Kind.FRESH).limit(p.kubectlClusters())
                .toList();
        say("");
        say("== baseline: a plain loop of `kubectl apply -f <seed>`, one cluster after another (%d fresh clusters,"
                + " then the same clusters again)", targets.size());
        fleet.reset(targets, ownClient, CREDENTIAL_NAMESPACE, pool);
        targets.forEach(x -> Fleet.serveDiscovery(x.cluster()));
        Path dir = Files.createTempDirectory("bench-kubectl");
        Path seed = dir.resolve("seed.yaml");
        Files.writeString(seed, seedYaml());
        String kubectl = System.getenv().getOrDefault("KUBECTL", "/usr/bin/kubectl");
        say("   seed manifest %s (%d lines), kubectl %s, discovery cache %s/cache (fresh per run)", seed,
                Files.readAllLines(seed).size(), kubectl, dir);
        KubectlPass fresh = kubectlPass("fresh apply", kubectl, seed, dir.resolve("cache"), targets);
        long complete = targets.stream().filter(x -> x.cluster().client.rbac().clusterRoleBindings()
                .withName("apigw-ingress-clusterrole-binding").get() != null
                && x.cluster().client.serviceAccounts().inNamespace("kube-system").withName("apigw-ingress").get() != null
                && x.cluster().client.rbac().clusterRoles().withName("apigw-ingress-clusterrole").get() != null).count();
        say("   all three objects present after the fresh pass: %d/%d clusters", complete, targets.size());
        KubectlPass again = kubectlPass("re-apply (already applied)", kubectl, seed, dir.resolve("cache"), targets);
        kubectlRate = fresh.rate();
        kubectlAgainRate = again.rate();
        kubectlSummary = fresh.summary() + "; re-apply " + again.summary();
    }

    record KubectlPass(int clusters, double seconds, Percentiles perCluster, double cpu, int failures) {
        double rate() {
            return clusters / seconds;
        }

        String summary() {
            return String.format(Locale.ROOT, "%.2f clusters/s (p50 %.0f ms/cluster, cpu %.0f ms/cluster, %d failed)",
                    rate(), perCluster.p50(), 1000 * cpu / clusters, failures);
        }
    }

    private KubectlPass kubectlPass(String name, String kubectl, Path seed, Path cache, List<Member> targets)
            throws Exception {
        double c0 = childCpuSeconds();
        long t0 = System.nanoTime();
        List<Double> ms = new ArrayList<>();
        int failures = 0;
        String firstFailure = null;
        String lastOutput = "";
        for (Member x : targets) {
            long s = System.nanoTime();
            ProcResult r = exec(List.of(kubectl, "--kubeconfig", TargetCluster.kubeconfig().toString(), "--context",
                    x.clusterId(), "--cache-dir", cache.toString(), "apply", "--validate=false", "-f",
                    seed.toString()), Duration.ofSeconds(60));
            ms.add((System.nanoTime() - s) / 1e6);
            lastOutput = r.output();
            if (r.exit() != 0) {
                failures++;
                if (firstFailure == null) {
                    firstFailure = r.output();
                }
            }
        }
        KubectlPass pass = new KubectlPass(targets.size(), secs(t0), Percentiles.of(ms), childCpuSeconds() - c0,
                failures);
        say("   %-27s %d clusters in %.1f s => %s", name + ":", targets.size(), pass.seconds(), pass.summary());
        say("%s", indent(firstFailure != null ? "first failure: " + firstFailure : "last output: " + lastOutput));
        return pass;
    }

    /** The seed's YAML: the ```yaml block of the shared seed document, else the copy under test resources. */
    private static String seedYaml() throws IOException {
        Path doc = Path.of(System.getenv().getOrDefault("BENCH_SEED_DOC", "/work/shared/seed/000_df1fa3b14cc976cc.txt"));
        if (Files.isReadable(doc)) {
            Matcher mm = Pattern.compile("```yaml\\n(.*?)```", Pattern.DOTALL).matcher(Files.readString(doc));
            if (mm.find()) {
                return mm.group(1);
            }
        }
        try (InputStream in = FleetBenchmark.class.getResourceAsStream("/seed/apigw-ingress.yaml")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    record ProcResult(int exit, String output) {
    }

    static ProcResult exec(List<String> cmd, Duration within) throws IOException, InterruptedException {
        Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = proc.getInputStream().readAllBytes();
        if (!proc.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
            proc.destroyForcibly();
            return new ProcResult(-1, "timed out");
        }
        return new ProcResult(proc.exitValue(), new String(out, StandardCharsets.UTF_8).trim());
    }

    private static void jcmd(long pid, String... args) {
        try {
            List<String> cmd = new ArrayList<>(List.of("jcmd", Long.toString(pid)));
            cmd.addAll(Arrays.asList(args));
            ProcResult r = exec(cmd, Duration.ofSeconds(60));
            say("   jcmd %s: %s", String.join(" ", args), r.output().lines().skip(1).collect(Collectors.joining(" ")));
        } catch (Exception e) {
            say("   jcmd failed: %s", e);
        }
    }

    /** cutime + cstime of this JVM: CPU of the children it has waited for (kubectl). */
    private static double childCpuSeconds() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[13]) + Long.parseLong(f[14])) / 100.0;
        } catch (IOException e) {
            return Double.NaN;
        }
    }

    // --- report -----------------------------------------------------------------------------------------------------

    /**
     * The critical path per kind of request, from the waves of sequential requests the default worker made on the
     * wire (unloaded phase): every wave costs R; a fresh authorization also waits T from the moment the token Secret
     * exists (the worker's POST of it, or, before 1.24, its POST of the ServiceAccount). The mock answers after R and
     * does not delay watches.
     */
    record Bound(String path, String formula, double ms, String ideal, double idealMs) {
    }

    List<Bound> bounds() {
        double r = p.roundTrip().toMillis();
        double t = p.tokenDelay().toMillis();
        List<Bound> b = new ArrayList<>();
        List<List<String>> fresh = wireShapes.get(Outcome.FRESH);
        if (fresh == null) {
            b.add(new Bound("fresh", "n/a (no unloaded phase)", Double.NaN, "", Double.NaN));
        } else {
            String tokenFrom = p.autoCreatedTokens() ? "POST serviceaccounts" : "POST secrets";
            int k = -1;
            int delayed = 0;
            for (int i = 0; i < fresh.size(); i++) {
                if (fresh.get(i).contains(tokenFrom) && k < 0) {
                    k = i;
                }
                if (!fresh.get(i).stream().allMatch(x -> x.startsWith("WATCH"))) {
                    delayed++;
                }
            }
            double ms = Math.max(k * r + t, delayed * r);
            // Fewest possible: reads and the rights review at once; then the account (and role); then its token.
            String ideal = p.autoCreatedTokens() ? "1R+T" : "2R+T";
            b.add(new Bound("fresh", String.format(Locale.ROOT, "max(%dR+T, %dR)", k, delayed), ms, ideal,
                    (p.autoCreatedTokens() ? 1 : 2) * r + t));
        }
        List<List<String>> already = wireShapes.get(Outcome.ALREADY);
        if (already == null) {
            b.add(new Bound("already", "n/a", Double.NaN, "1R", r));
        } else {
            b.add(new Bound("already", already.size() + "R", already.size() * r, "1R", r));
        }
        // The directory says no before any call.
        b.add(new Bound("private", "0", 0, "0", 0));
        return b;
    }

    private void summary() {
        say("");
        say("== critical path (R=%d ms, T=%d ms, %s): sequential round trips the default worker made on the wire",
                p.roundTrip().toMillis(), p.tokenDelay().toMillis(), p.autoCreatedTokens()
                        ? "token Secret auto-created (< 1.24)" : "worker creates the token Secret (1.24+)");
        Phase main = find("default", "light");
        Phase mainBurst = find("default", "burst");
        for (Bound b : bounds()) {
            Outcome o = Outcome.valueOf(b.path().toUpperCase(Locale.ROOT));
            Percentiles q = main == null ? null : main.latency().get(o);
            say("   %-8s as coded %-14s = %5.0f ms | measured p50 (unloaded) %7.1f ms = %5.2fx | with parallel calls %s = %.0f ms",
                    b.path(), b.formula(), b.ms(), q == null ? Double.NaN : q.p50(),
                    q == null || b.ms() == 0 ? Double.NaN : q.p50() / b.ms(), b.ideal(), b.idealMs());
        }
        say("");
        say("== results");
        tableHead("run", "phase", "requests", "throughput (auth/s)", "p50 ms", "p95 ms", "p99 ms", "worker CPU s",
                "CPU ms/auth", "CPU ms/auth w/o JIT", "peak RSS MiB");
        for (Phase ph : phases) {
            Percentiles q = ph.latency().get(Outcome.ALL);
            say("| %s | %s | %d/%d | %.1f | %.0f | %.0f | %.0f | %.1f | %.2f | %.2f | %.0f |", ph.variant(), ph.phase(),
                    ph.answered(), ph.sent(), ph.throughput(), q.p50(), q.p95(), q.p99(), ph.workerCpu(),
                    1000 * ph.workerCpu() / Math.max(1, ph.answered()), ph.msPerAuthNoJit(), ph.peakRss());
        }
        say("| kubectl apply loop | sequential, %d clusters | %s |", Math.min(p.kubectlClusters(),
                fleet.members.stream().filter(x -> x.kind() == Kind.FRESH).count()), kubectlSummary);
        floodTables();
        Phase c1 = find("concurrency=1", "burst");
        say("");
        say("== ratios and targets");
        if (mainBurst != null && c1 != null) {
            say("   default / concurrency=1 throughput: %.1fx (target >= %.0fx)", mainBurst.throughput() / c1.throughput(),
                    TARGET_RATIO);
        }
        if (mainBurst != null && !Double.isNaN(kubectlRate)) {
            say("   default / kubectl loop throughput:  %.1fx (fresh apply), %.1fx (re-apply)",
                    mainBurst.throughput() / kubectlRate, mainBurst.throughput() / kubectlAgainRate);
        }
        if (c1 != null && !Double.isNaN(kubectlRate)) {
            say("   concurrency=1 / kubectl loop:       %.1fx (fresh apply), %.1fx (re-apply)",
                    c1.throughput() / kubectlRate, c1.throughput() / kubectlAgainRate);
        }
        faultSummary();
        floodGoal();
        for (String v : phases.stream().map(Phase::variant).distinct().toList()) {
            Phase paced = find(v, "paced");
            Phase burst = find(v, "burst");
            Phase unloaded = find(v, "light");
            if (paced == null || burst == null || unloaded == null) {
                continue;
            }
            Percentiles q = paced.latency().get(Outcome.ALL);
            Percentiles fresh = unloaded.latency().get(Outcome.FRESH);
            Percentiles already = unloaded.latency().get(Outcome.ALREADY);
            List<Bound> bs = bounds();
            say("   [%s] extrapolation, not a measurement: 2 cores for the worker alone at its burst CPU without JIT"
                    + " (%.2f ms/authorization) would carry about %.0f authorizations/s", v, burst.msPerAuthNoJit(),
                    2000 / burst.msPerAuthNoJit());
            say("   [%s] throughput %.0f/s %s | p99 at %d/s %.0f ms %s | peak RSS %.0f MiB %s | unloaded p50 fresh %.2fx"
                    + " bound %s | unloaded p50 already %.2fx bound %s",
                    v, burst.throughput(), ok(burst.throughput() >= TARGET_THROUGHPUT), p.pacedRate(), q.p99(),
                    ok(q.p99() <= TARGET_P99_MS), Math.max(paced.peakRss(), burst.peakRss()),
                    ok(Math.max(paced.peakRss(), burst.peakRss()) <= TARGET_RSS_MIB),
                    fresh == null ? Double.NaN : fresh.p50() / bs.get(0).ms(),
                    ok(fresh != null && fresh.p50() <= TARGET_BOUND_FACTOR * bs.get(0).ms()),
                    already == null ? Double.NaN : already.p50() / bs.get(1).ms(),
                    ok(already != null && already.p50() <= TARGET_BOUND_FACTOR * bs.get(1).ms()));
        }
    }

    /** The fault mix's goals, per worker: each a ratio of two phases of the same run. */
    private void faultSummary() {
        for (String v : phases.stream().map(Phase::variant).distinct().toList()) {
            Phase hp = find(v, "healthy only");
            Phase fp = find(v, "with faults");
            Phase hb = find(v, "healthy only burst");
            Phase fb = find(v, "with faults burst");
            if (hp == null || fp == null || hb == null || fb == null) {
                continue;
            }
            double p99 = fp.latency().get(Outcome.HEALTHY).p99() / hp.latency().get(Outcome.HEALTHY).p99();
            double tput = fb.healthyThroughput() / hb.healthyThroughput();
            Variant var = v.equals(p.baseline().name()) ? p.baseline()
                    : p.extraVariants().stream().filter(x -> x.name().equals(v)).findFirst().orElse(p.baseline());
            double deadlineMs = deadline(var).toMillis();
            List<FaultStats> faulty = List.of(fp, fb).stream().flatMap(ph -> ph.faults().values().stream()).toList();
            double slowest = faulty.stream().mapToDouble(st -> st.insideWorker().max()).max().orElse(Double.NaN);
            int answeredFaulty = faulty.stream().mapToInt(st -> st.endToEnd().count()).sum();
            int insideFaulty = faulty.stream().mapToInt(st -> st.insideWorker().count()).sum();
            int missing = List.of(hp, fp, hb, fb).stream().mapToInt(ph -> ph.sent() - ph.answered()).sum();
            int polls = List.of(hp, fp, hb, fb).stream().mapToInt(Phase::livenessPolls).sum();
            int down = List.of(hp, fp, hb, fb).stream().mapToInt(Phase::livenessDown).sum();
            long left = List.of(hp, fp, hb, fb).stream().mapToLong(Phase::uncommitted).max().orElse(-1);
            say("   [%s] under faults: healthy p99 at %s %.0f -> %.0f ms = %.2fx %s | healthy burst throughput %.1f ->"
                    + " %.1f/s = %.0f%% %s | faulty requests answered %d (%d timed inside the worker), slowest %.0f ms"
                    + " of the %.0f ms deadline %s | unanswered %d %s | liveness not UP in %d of %d polls %s |"
                    + " uncommitted at the end %d %s",
                    v, fp.phase().replace("with faults ", ""), hp.latency().get(Outcome.HEALTHY).p99(),
                    fp.latency().get(Outcome.HEALTHY).p99(), p99, ok(p99 <= TARGET_FAULT_P99_RATIO),
                    hb.healthyThroughput(), fb.healthyThroughput(), 100 * tput, ok(tput >= TARGET_FAULT_THROUGHPUT),
                    answeredFaulty, insideFaulty, slowest, deadlineMs, ok(insideFaulty == answeredFaulty
                            && slowest <= deadlineMs), missing, ok(missing == 0), down, polls, ok(down == 0), left,
                    ok(left == 0));
        }
    }

    /** Per worker that ran them: its flood phases, alone and beside the flood, or null. */
    private List<Phase> floodPair(String variant) {
        Phase alone = find(variant, "healthy alone");
        Phase beside = find(variant, "beside a flood");
        return alone == null || beside == null ? null : List.of(alone, beside);
    }

    /** The flood's phases per worker: the healthy clusters' requests in each, and what the flood's came back as. */
    private void floodTables() {
        for (String v : phases.stream().map(Phase::variant).distinct().toList()) {
            List<Phase> pair = floodPair(v);
            if (pair == null) {
                continue;
            }
            say("");
            say("== [%s] beside a flood (issue 27)", v);
            tableHead("phase", "healthy answered", "healthy p50 ms", "p95 ms", "p99 ms", "max ms", "healthy auth/s",
                    "liveness not UP", "uncommitted", "peak RSS MiB");
            pair.forEach(ph -> {
                Percentiles q = ph.latency().get(Outcome.HEALTHY);
                say("| %s | %d/%d | %.0f | %.0f | %.0f | %.0f | %.1f | %d of %d | %d | %.0f |", ph.phase(), q.count(),
                        p.requests(), q.p50(), q.p95(), q.p99(), q.max(), ph.healthyThroughput(), ph.livenessDown(),
                        ph.livenessPolls(), ph.uncommitted(), ph.peakRss());
            });
            say("");
            tableHead("the flood's requests", "n", "end to end p50 ms", "p99 ms", "max ms", "inside the worker p50 ms",
                    "max ms");
            pair.get(1).faults().forEach((group, st) -> say("| %s | %d | %.0f | %.0f | %.0f | %.0f | %.0f |", group,
                    st.endToEnd().count(), st.endToEnd().p50(), st.endToEnd().p99(), st.endToEnd().max(),
                    st.insideWorker().p50(), st.insideWorker().max()));
        }
    }

    /** The flood's goal line per worker: the healthy clusters' p99 beside the flood against alone, and its fate. */
    private void floodGoal() {
        for (String v : phases.stream().map(Phase::variant).distinct().toList()) {
            List<Phase> pair = floodPair(v);
            if (pair == null) {
                continue;
            }
            Phase alone = pair.get(0);
            Phase beside = pair.get(1);
            Map<String, Integer> outcomes = new TreeMap<>();
            beside.faults().values().forEach(st -> st.outcomes().forEach((o, c) -> outcomes.merge(o, c, Integer::sum)));
            double ratio = beside.latency().get(Outcome.HEALTHY).p99() / alone.latency().get(Outcome.HEALTHY).p99();
            int missing = pair.stream().mapToInt(ph -> ph.sent() - ph.answered()).sum();
            int polls = pair.stream().mapToInt(Phase::livenessPolls).sum();
            int down = pair.stream().mapToInt(Phase::livenessDown).sum();
            say("   [%s] beside a flood: healthy p99 %.2fx alone (%.0f -> %.0f ms at %d/s), healthy throughput %.1f ->"
                    + " %.1f/s | the flood's %d: %s | unanswered %d %s | unexpected %s %s | liveness not UP in %d of %d"
                    + " polls %s | peak RSS %.0f MiB", v, ratio, alone.latency().get(Outcome.HEALTHY).p99(),
                    beside.latency().get(Outcome.HEALTHY).p99(), p.floodRate(), alone.healthyThroughput(),
                    beside.healthyThroughput(), p.flood(), outcomes, missing, ok(missing == 0), beside.wrong(),
                    ok(beside.wrong().isEmpty()), down, polls, ok(down == 0), beside.peakRss());
        }
    }

    /** A Markdown table's head: its columns and the line under them. */
    static void tableHead(String... columns) {
        say("| %s |", String.join(" | ", columns));
        say("%s|", "|---".repeat(columns.length));
    }

    private static String ok(boolean b) {
        return b ? "(ok)" : "(MISSED)";
    }

    private Phase find(String variant, String phasePrefix) {
        return phases.stream().filter(x -> x.variant().equals(variant) && x.phase().startsWith(phasePrefix))
                .findFirst().orElse(null);
    }

    private void header() throws Exception {
        say("== apigw-tke-authorizer fleet benchmark");
        say("   N=%d clusters (%d%% fresh, %d%% private off, rest authorized in warm-up), M=%d requests, R=%d ms, "
                + "T=%d ms, Kubernetes %s, paced rate %d/s, %d request partitions",
                p.clusters(), p.freshPct(), p.privatePct(), p.requests(), p.roundTrip().toMillis(),
                p.tokenDelay().toMillis(), p.kubeVersion(), p.pacedRate(), p.partitions());
        say("   worker jar %s", System.getProperty("worker.jar", "target/quarkus-app/quarkus-run.jar"));
        say("   machine: nproc=%d, %s, java %s (%s), load %s", Runtime.getRuntime().availableProcessors(),
                memTotal(), System.getProperty("java.version"), System.getProperty("java.vm.name"),
                ProcStats.loadAverage());
    }

    private static String memTotal() {
        try {
            return Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal"))
                    .findFirst().map(l -> "MemTotal " + Long.parseLong(l.replaceAll("\\D", "")) / 1024 / 1024 + " GiB")
                    .orElse("?");
        } catch (IOException e) {
            return "?";
        }
    }

    private static String mix(List<Member> ms) {
        return ms.stream().collect(Collectors.groupingBy(Member::kind, TreeMap::new, Collectors.counting())).toString();
    }

    private static String indent(String s) {
        return s.lines().limit(12).map(l -> "      | " + l).collect(Collectors.joining("\n"));
    }

    private static double secs(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    static void say(String fmt, Object... args) {
        System.out.println(args.length == 0 ? fmt : String.format(Locale.ROOT, fmt, args));
        System.out.flush();
    }

    private void close() {
        if (fleet != null) {
            fleet.close();
        }
        if (ownClient != null) {
            ownClient.close();
        }
        if (own != null) {
            own.destroy();
        }
        if (broker != null) {
            broker.close();
        }
        pool.shutdownNow();
    }
}

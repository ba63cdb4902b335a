package io.apigw.authorizer.bench;

import static io.apigw.authorizer.bench.FleetBenchmark.say;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.apigw.authorizer.bench.Fleet.Member;
import io.apigw.authorizer.testing.FreePort;
import io.apigw.authorizer.testing.KafkaBroker;
import io.apigw.authorizer.testing.LocalKube;
import io.apigw.authorizer.testing.TargetCluster;
import io.apigw.authorizer.testing.WorkerProcess;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.util.Locale;

/**
 * Sweep benchmark (issue 15): what a sweep costs per stored credential (calls to its API server, worker CPU) and
 * what it does to the console's requests. One packaged worker, sweeping every {@code sweep-interval-s} seconds, over
 * the fleet of {@link FleetBenchmark} (mock API servers with round-trip time R). In one run: console authorizes of
 * authorized clusters at {@code console-rate}/s while no sweep runs, the same while a sweep runs, then a sweep alone.
 * Run with {@code BENCH_MAIN=SweepBenchmark scripts/bench.sh}; see BENCHMARKS.md.
 */
public final class SweepBenchmark {

    private static final Pattern SERIES = Pattern.compile("(?m)^([a-z_]+)(\\{[^}]*})? ([0-9.eE+-]+)");

    private final Params p;
    private final Duration interval;
    private final int consoleRate;
    private final ExecutorService pool;

    /** Stored credentials for the scale run (0: one per cluster, the run of issue 15). */
    private final int credentials;
    private final Duration consolePhase;

    private SweepBenchmark(Params p, Duration interval, int consoleRate, int credentials, Duration consolePhase) {
        this.p = p;
        this.interval = interval;
        this.consoleRate = consoleRate;
        this.credentials = credentials;
        this.consolePhase = consolePhase;
        this.pool = Fleet.pool(p.harnessThreads());
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> own = new HashMap<>();
        List<String> rest = new ArrayList<>();
        for (String a : args) {
            String s = a.replaceFirst("^--", "");
            if (s.startsWith("sweep-interval-s=") || s.startsWith("console-rate=") || s.startsWith("credentials=")
                    || s.startsWith("console-s=")) {
                own.put(s.substring(0, s.indexOf('=')), s.substring(s.indexOf('=') + 1));
            } else {
                rest.add(a);
            }
        }
        Params p = Params.parse(rest.toArray(String[]::new));
        SweepBenchmark b = new SweepBenchmark(p,
                Duration.ofSeconds(Long.parseLong(own.getOrDefault("sweep-interval-s", "90"))),
                Integer.parseInt(own.getOrDefault("console-rate", "20")),
                Integer.parseInt(own.getOrDefault("credentials", "0")),
                Duration.ofSeconds(Long.parseLong(own.getOrDefault("console-s", "30"))));
        int code = b.credentials > 0 ? b.runAtScale() : b.run();
        System.out.flush();
        // Mock servers and Kafka leave non-daemon threads behind.
        Runtime.getRuntime().halt(code);
    }

    private int run() throws Exception {
        Runtime.getRuntime().addShutdownHook(new Thread(
                () -> ProcessHandle.current().descendants().forEach(ProcessHandle::destroyForcibly)));
        KafkaBroker broker = KafkaBroker.start(FreePort.closed(), p.partitions());
        KubernetesMockServer ownCluster = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new KubernetesCrudDispatcher(), false);
        ownCluster.init();
        Fleet fleet = Fleet.start(p, pool);
        List<Member> clusters = fleet.members.stream().filter(m -> m.cluster() != null).toList();
        say("sweep benchmark: %d clusters (rtt %d ms), sweep every %d s, console authorizes at %d/s",
                clusters.size(), p.roundTrip().toMillis(), interval.toSeconds(), consoleRate);

        Map<String, String> config = new HashMap<>(p.baseline().config());
        config.put("kafka.bootstrap.servers", broker.bootstrapServers());
        config.put("authorizer.directory.kubeconfig.path", TargetCluster.kubeconfig().toString());
        config.put("quarkus.kubernetes-client.api-server-url", ownCluster.url("/"));
        config.put("quarkus.kubernetes-client.token", "own-cluster-token");
        config.put("authorizer.sweep.interval", interval.toSeconds() + "s");
        // The plan, not the cap, sets the pace: every credential evenly over 80 % of the interval.
        config.put("authorizer.sweep.rate", "1000");
        try (WorkerProcess worker = WorkerProcess.start("sweep-bench", config, p.baseline().jvmOptions());
                Load load = new Load(broker.bootstrapServers(), KafkaBroker.REQUESTS, KafkaBroker.RESULTS)) {
            worker.awaitReady(Duration.ofSeconds(180));
            long pid = worker.pid();
            List<Load.Request> first = Load.requests("authorize", clusters, clusters.size());
            load.send(first, 0);
            say("authorized %d clusters (missing %d); warm-up of %d console authorizes", first.size(),
                    load.await(first, Duration.ofSeconds(300)), p.warmup());
            List<Load.Request> warm = Load.requests("warm", clusters, p.warmup());
            load.send(warm, 0);
            load.await(warm, Duration.ofSeconds(300));

            // Sweep 1 checks every credential once and warms the check path; its end leaves an idle stretch.
            Instant sweep1 = nextSweep();
            awaitSweep(worker, sweep1);
            Duration phase = Duration.ofSeconds(Math.max(5, interval.toSeconds() / 10));
            double sentBefore = metric(worker, "authorizer_sweep_checks_sent_total");
            Latency quiet = console(load, clusters, "quiet", phase);
            double sentQuiet = metric(worker, "authorizer_sweep_checks_sent_total") - sentBefore;
            Instant sweep2 = nextSweep();
            sleepUntil(sweep2.plusSeconds(3));
            double sent0 = metric(worker, "authorizer_sweep_checks_sent_total");
            Latency during = console(load, clusters, "during", phase);
            double sentDuring = metric(worker, "authorizer_sweep_checks_sent_total") - sent0;
            awaitSweep(worker, sweep2);

            // Sweep 3 alone: its calls and CPU per credential, less what the worker spends idle (measured just
            // before it, after sweep 2).
            Instant sweep3 = nextSweep();
            double idleRate = idleCpuRate(pid, Duration.between(Instant.now(), sweep3).minusSeconds(1));
            long calls0 = calls(clusters);
            Map<String, Double> threads0 = ProcStats.cpuByThread(pid);
            double checks0 = sweepChecks(worker);
            double cpu0 = ProcStats.cpuSeconds(pid);
            long t0 = System.nanoTime();
            sleepUntil(sweep3);
            awaitSweep(worker, sweep3);
            double seconds = (System.nanoTime() - t0) / 1e9;
            String byThread = ProcStats.topThreads(threads0, ProcStats.cpuByThread(pid), 6);
            double cpu = ProcStats.cpuSeconds(pid) - cpu0 - idleRate * seconds;
            double checks = sweepChecks(worker) - checks0;
            long calls = calls(clusters) - calls0;

            table(quiet, sentQuiet, during, String.format(Locale.ROOT, "a sweep (%.0f checks sent "
                    + "meanwhile, %.1f/s)", sentDuring, sentDuring / phase.toSeconds()));
            say("");
            say("sweep alone: %.0f checks in %.0f s; %.1f calls to the cluster's API server per check; worker CPU "
                    + "%.2f ms per check (idle %.1f ms/s subtracted); checks are evenly spread: %.2f/s",
                    checks, seconds, calls / checks, 1000 * cpu / checks, 1000 * idleRate,
                    checks / (interval.toSeconds() * 0.8));
            say("   worker CPU by thread over the sweep (s): %s", byThread);
            worker.terminate(Duration.ofSeconds(60));
        } finally {
            fleet.close();
            ownCluster.destroy();
            broker.close();
            pool.shutdownNow();
        }
        return 0;
    }

    /**
     * The sweep at fleet scale (issue 18): {@code credentials} stored credentials (cluster ids served by the fleet's
     * API servers in turn), swept at the configured rate ({@code authorizer.sweep.rate}, not raised here), while the
     * console's authorizes run at {@code console-rate}/s; the same console load with no sweep running, earlier in the
     * same worker's life; then the sweep alone, for its calls and CPU per check. The worker's own cluster is a real
     * kube-apiserver (the registry is read in pages, as in production).
     */
    private int runAtScale() throws Exception {
        Runtime.getRuntime().addShutdownHook(new Thread(
                () -> ProcessHandle.current().descendants().forEach(ProcessHandle::destroyForcibly)));
        KafkaBroker broker = KafkaBroker.start(FreePort.closed(), p.partitions());
        Fleet fleet = Fleet.start(p, pool);
        try (LocalKube own = LocalKube.start(); KubernetesClient ownAdmin = own.adminClient()) {
            ownAdmin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("apigw-system")
                    .endMetadata().build()).serverSideApply();
            List<Member> clusters = fleet.members.stream().filter(m -> m.cluster() != null).toList();
            List<Member> all = new ArrayList<>(clusters);
            List<String> servers = new ArrayList<>();
            for (int i = clusters.size(); i < credentials; i++) {
                servers.add(clusters.get(i % clusters.size()).cluster().url());
            }
            List<String> ids = TargetCluster.registerAliases(servers);
            for (int i = 0; i < ids.size(); i++) {
                Member served = clusters.get((clusters.size() + i) % clusters.size());
                all.add(new Member(ids.get(i), served.kind(), served.cluster(), null));
            }
            say("sweep at scale: %d stored credentials over %d API servers (rtt %d ms), sweep every %d s at the "
                    + "configured rate, console authorizes at %d/s for %d s per phase", all.size(), clusters.size(),
                    p.roundTrip().toMillis(), interval.toSeconds(), consoleRate, consolePhase.toSeconds());

            Map<String, String> config = new HashMap<>(p.baseline().config());
            config.put("kafka.bootstrap.servers", broker.bootstrapServers());
            config.put("authorizer.directory.kubeconfig.path", TargetCluster.kubeconfig().toString());
            config.put("quarkus.kubernetes-client.api-server-url", own.server());
            config.put("quarkus.kubernetes-client.ca-cert-file", own.caFile().toString());
            config.put("quarkus.kubernetes-client.token", own.adminToken());
            config.put("authorizer.sweep.interval", interval.toSeconds() + "s");
            // The worker starts just after an interval begins: its first sweep finds nothing stored yet, which leaves
            // the rest of that interval for authorizing the fleet and for the console alone.
            Instant first = nextSweep();
            say("waiting for the interval that begins at %s", first);
            sleepUntil(first.plusSeconds(1));
            Instant sweepStart = first.plus(interval);
            try (WorkerProcess worker = WorkerProcess.start("sweep-scale", config, p.baseline().jvmOptions());
                    Load load = new Load(broker.bootstrapServers(), KafkaBroker.REQUESTS, KafkaBroker.RESULTS)) {
                worker.awaitReady(Duration.ofSeconds(180));
                long pid = worker.pid();
                long a0 = System.nanoTime();
                List<Load.Request> authorize = Load.requests("authorize", all, all.size());
                load.send(authorize, 0);
                int missing = load.await(authorize, Duration.ofSeconds(900));
                long failed = authorize.stream().map(r -> load.result(r.requestId()))
                        .filter(r -> r != null && !r.type().equals("Authorized")).count();
                say("authorized %d cluster ids in %.0f s (missing %d, not Authorized %d); warm-up of %d console "
                        + "authorizes", authorize.size(), (System.nanoTime() - a0) / 1e9, missing, failed, p.warmup());
                List<Load.Request> warm = Load.requests("warm", all, p.warmup());
                load.send(warm, 0);
                load.await(warm, Duration.ofSeconds(300));
                heap(pid);

                double sent0 = metric(worker, "authorizer_sweep_checks_sent_total");
                Usage quietUse = Usage.start(pid, worker, clusters);
                Latency quiet = console(load, all, "quiet", consolePhase);
                Usage.Span quietSpan = quietUse.stop();
                double sentQuiet = metric(worker, "authorizer_sweep_checks_sent_total") - sent0;
                if (!Instant.now().isBefore(sweepStart.minusSeconds(4))) {
                    throw new IllegalStateException("the sweep began before the console phase without it ended: use "
                            + "a longer sweep-interval-s");
                }
                double idleRate = idleCpuRate(pid, Duration.between(Instant.now(), sweepStart).minusSeconds(2));

                sleepUntil(sweepStart.plusSeconds(5));
                Usage duringUse = Usage.start(pid, worker, clusters);
                Latency during = console(load, all, "during", consolePhase);
                Usage.Span duringSpan = duringUse.stop();
                Usage aloneUse = Usage.start(pid, worker, clusters);
                Thread.sleep(consolePhase.toMillis());
                Usage.Span alone = aloneUse.stop();
                String checksSent = metricLines(worker, "authorizer_sweep_checks_sent_total");

                table(quiet, sentQuiet, during, String.format(Locale.ROOT, "the sweep of %d (%.0f checks "
                        + "answered meanwhile, %.1f/s)", all.size(), duringSpan.checks(), duringSpan.checks()
                                / duringSpan.seconds()));
                FleetBenchmark.Percentiles q = FleetBenchmark.Percentiles.of(quiet.ms());
                FleetBenchmark.Percentiles d = FleetBenchmark.Percentiles.of(during.ms());
                say("");
                say("console p99 during the sweep / without it: %.2fx (target <= 1.2x) %s; p50 %.2fx", d.p99() / q.p99(),
                        d.p99() / q.p99() <= 1.2 ? "(ok)" : "(MISSED)", d.p50() / q.p50());
                say("sweep alone for %.0f s: %.0f checks (%.1f/s); %.1f calls to the clusters' API servers per check; "
                        + "worker CPU %.2f ms per check (idle %.1f ms/s subtracted)", alone.seconds(), alone.checks(),
                        alone.checks() / alone.seconds(), alone.calls() / alone.checks(), 1000 * (alone.cpu()
                                - idleRate * alone.seconds()) / alone.checks(), 1000 * idleRate);
                say("the sweep's CPU beside the console: %.2f ms per check (the worker's CPU during the sweep less "
                        + "its CPU for the same console load without it, per check answered)",
                        1000 * (duringSpan.cpu() / duringSpan.seconds() - quietSpan.cpu() / quietSpan.seconds())
                                * duringSpan.seconds() / duringSpan.checks());
                say("worker CPU by thread, sweep alone (s): %s", alone.byThread());
                say("worker peak RSS %.0f MiB; %s", ProcStats.peakRssMiB(pid), checksSent);
                worker.terminate(Duration.ofSeconds(60));
            }
        } finally {
            fleet.close();
            broker.close();
            pool.shutdownNow();
        }
        return 0;
    }

    /** The worker's CPU, its sweep checks answered and the calls the API servers received, over a span. */
    private record Usage(long pid, WorkerProcess worker, List<Member> clusters, long t0, double cpu0, double checks0,
            long calls0, Map<String, Double> threads0) {

        record Span(double seconds, double cpu, double checks, long calls, String byThread) {
        }

        static Usage start(long pid, WorkerProcess worker, List<Member> clusters) throws Exception {
            return new Usage(pid, worker, clusters, System.nanoTime(), ProcStats.cpuSeconds(pid),
                    sweepChecks(worker), calls(clusters), ProcStats.cpuByThread(pid));
        }

        Span stop() throws Exception {
            return new Span((System.nanoTime() - t0) / 1e9, ProcStats.cpuSeconds(pid) - cpu0,
                    sweepChecks(worker) - checks0, calls(clusters) - calls0,
                    ProcStats.topThreads(threads0, ProcStats.cpuByThread(pid), 6));
        }
    }

    /** Sweep checks the worker has answered so far. */
    private static double sweepChecks(WorkerProcess worker) throws Exception {
        return metric(worker, "authorizer_requests_total", "type=\"sweep\"");
    }

    /** What fills the worker's heap (after a full collection): the top of its class histogram. */
    private static void heap(long pid) {
        try {
            List<String> lines = FleetBenchmark.exec(List.of("jcmd", Long.toString(pid), "GC.class_histogram"),
                    Duration.ofSeconds(60)).output().lines().toList();
            say("worker heap after the warm-up, top classes (jcmd GC.class_histogram):");
            lines.stream().skip(1).limit(14).forEach(l -> say("   %s", l));
            lines.stream().filter(l -> l.startsWith("Total")).forEach(l -> say("   %s", l));
        } catch (Exception e) {
            say("jcmd failed: %s", e);
        }
    }

    /** The lines of one metric, for the record. */
    private static String metricLines(WorkerProcess worker, String name) throws Exception {
        return String.join("; ", worker.get("/q/metrics").body().lines().filter(l -> l.startsWith(name)).toList());
    }

    /** The console's latency without a sweep and during {@code sweep}, as a table. */
    private static void table(Latency quiet, double sentQuiet, Latency during, String sweep) {
        say("");
        FleetBenchmark.tableHead("phase", "console requests", "p50 ms", "p95 ms", "p99 ms", "max ms");
        quiet.row(String.format(Locale.ROOT, "console authorizes, no sweep running (%.0f checks sent "
                + "meanwhile)", sentQuiet));
        during.row("console authorizes during " + sweep);
    }

    record Latency(int sent, int answered, List<Double> ms) {
        void row(String name) {
            FleetBenchmark.Percentiles q = FleetBenchmark.Percentiles.of(ms);
            say("| %s | %d (%d answered) | %.0f | %.0f | %.0f | %.0f |", name, sent, answered, q.p50(), q.p95(),
                    q.p99(), q.max());
        }
    }

    /** Console authorizes of already authorized clusters, at the console rate for {@code length}. */
    private Latency console(Load load, List<Member> clusters, String name, Duration length) {
        List<Load.Request> reqs = Load.requests(name, clusters, (int) (consoleRate * length.toSeconds()));
        load.send(reqs, consoleRate);
        load.await(reqs, Duration.ofSeconds(120));
        List<Double> ms = new ArrayList<>();
        for (Load.Request r : reqs) {
            Load.Received got = load.result(r.requestId());
            if (got != null) {
                ms.add((got.atNanos() - load.sentAt(r.requestId())) / 1e6);
            }
        }
        return new Latency(reqs.size(), ms.size(), ms);
    }

    private Instant nextSweep() {
        long now = System.currentTimeMillis();
        long i = interval.toMillis();
        return Instant.ofEpochMilli(now - now % i + i);
    }

    /** Until the sweeper reports a sweep completed after {@code started}. */
    private void awaitSweep(WorkerProcess worker, Instant started) throws Exception {
        long deadline = System.nanoTime() + interval.multipliedBy(3).toNanos();
        while (metric(worker, "authorizer_sweep_last_completed_timestamp_seconds") < started.getEpochSecond()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no sweep completed after " + started + "; worker log "
                        + worker.logFile());
            }
            Thread.sleep(500);
        }
    }

    /** The worker's CPU seconds per second while nothing is asked of it. */
    private static double idleCpuRate(long pid, Duration over) throws InterruptedException {
        if (over.toMillis() < 1000) {
            throw new IllegalStateException("no idle stretch before the sweep: use a longer sweep-interval-s");
        }
        double c0 = ProcStats.cpuSeconds(pid);
        long t0 = System.nanoTime();
        Thread.sleep(over.toMillis());
        return (ProcStats.cpuSeconds(pid) - c0) / ((System.nanoTime() - t0) / 1e9);
    }

    private static long calls(List<Member> clusters) {
        return clusters.stream().mapToLong(m -> m.cluster().server.getRequestCount()).sum();
    }

    private static void sleepUntil(Instant at) throws InterruptedException {
        long ms = Duration.between(Instant.now(), at).toMillis();
        if (ms > 0) {
            Thread.sleep(ms);
        }
    }

    private static double metric(WorkerProcess worker, String name) throws Exception {
        return metric(worker, name, "");
    }

    /** The sum of the series of {@code name} whose labels contain {@code labels}. */
    private static double metric(WorkerProcess worker, String name, String labels) throws Exception {
        String text = worker.get("/q/metrics").body();
        double sum = 0;
        Matcher m = SERIES.matcher(text);
        while (m.find()) {
            if (m.group(1).equals(name) && (m.group(2) == null ? "" : m.group(2)).contains(labels)) {
                sum += Double.parseDouble(m.group(3));
            }
        }
        return sum;
    }
}

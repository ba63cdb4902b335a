package io.apigw.authorizer.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The packaged worker ({@code java -jar target/quarkus-app/quarkus-run.jar}) as a real operating-system process. */
public final class WorkerProcess implements AutoCloseable {

    private final String name;
    private final Process process;
    private final Path log;
    public final int httpPort;

    private WorkerProcess(String name, Process process, Path log, int httpPort) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.httpPort = httpPort;
    }

    public static WorkerProcess start(String name, Map<String, String> config) {
        return start(name, config, List.of());
    }

    /**
     * As {@link #start(String, Map)}, with extra JVM options placed after the defaults (so {@code -Xmx…} there wins),
     * e.g. a flight recording or another heap size.
     */
    public static WorkerProcess start(String name, Map<String, String> config, List<String> jvmOptions) {
        return start(name, config, Map.of(), jvmOptions);
    }

    /**
     * As {@link #start(String, Map, List)}, with environment variables as well: the way a Deployment hands the worker
     * a credential from a Secret, which then appears in no command line.
     */
    public static WorkerProcess start(String name, Map<String, String> config, Map<String, String> env,
            List<String> jvmOptions) {
        String jar = System.getProperty("worker.jar", "target/quarkus-app/quarkus-run.jar");
        int port = FreePort.closed();
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java")));
        command.add("-Xmx256m");
        command.addAll(jvmOptions);
        command.add("-Dquarkus.http.port=" + port);
        config.forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.add("-jar");
        command.add(jar);
        try {
            Path log = Files.createTempFile("worker-" + name + "-", ".log");
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
            builder.environment().putAll(env);
            Process p = builder.start();
            return new WorkerProcess(name, p, log, port);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits until {@code /q/health/ready} answers 200. */
    public WorkerProcess awaitReady(Duration within) {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("worker " + name + " exited early:\n" + log());
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + httpPort + "/q/health/ready")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return this;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            sleep(200);
        }
        throw new IllegalStateException("worker " + name + " not ready within " + within + ":\n" + log());
    }

    /** An answer of the worker's HTTP port. */
    public record Answer(int status, String body) {
    }

    /** GET {@code path} (e.g. {@code /q/health/ready}) on the worker's HTTP port. */
    public Answer get(String path) {
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + httpPort + path)).build(), HttpResponse.BodyHandlers.ofString());
            return new Answer(r.statusCode(), r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** SIGKILL: no shutdown hook, no commit, no goodbye. */
    public void kill() {
        process.destroyForcibly();
        waitFor(Duration.ofSeconds(30));
    }

    /** SIGTERM, then waits for the process to exit; returns its exit code. */
    public int terminate(Duration within) {
        process.destroy();
        return waitFor(within);
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** The operating-system process id, e.g. to read its CPU time and peak RSS from {@code /proc/<pid>/}. */
    public long pid() {
        return process.pid();
    }

    /** Where the worker's output goes. */
    public Path logFile() {
        return log;
    }

    private int waitFor(Duration within) {
        try {
            if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("worker " + name + " did not exit within " + within);
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * The worker's output, for a failing test's message. Quarkus's start-up warning about runtime-set build-time
     * properties quotes their values, the worker's own-cluster token among them: masked here.
     */
    public String log() {
        try {
            return Files.readString(log).replaceAll("(token is set to ')[^']*'", "$1<redacted>'");
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }
}

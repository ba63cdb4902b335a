package io.apigw.authorizer.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import io.fabric8.kubernetes.client.utils.Serialization;

/**
 * A tiny Kubernetes 1.28 API server of a fresh cluster (nothing reserved exists yet, the credential is cluster-admin)
 * that answers reads and writes as a real one would, except the writes it is told to stall: for those it sends the
 * response headers and the first bytes of the body, then nothing more. No connection is held longer than
 * {@link #MAX_HOLD}; closing the server releases them all.
 */
public final class StallingApiServer implements AutoCloseable {

    public static final Duration MAX_HOLD = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer http;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "stalling-api-server");
        t.setDaemon(true);
        return t;
    });
    private final Predicate<String> stalls;
    private volatile boolean closed;
    /** "METHOD path" of every request, in arrival order. */
    public final List<String> requests = new CopyOnWriteArrayList<>();
    /** The requests that were stalled. */
    public final List<String> stalled = new CopyOnWriteArrayList<>();

    /** @param stalls which requests to stall, by "METHOD path" (e.g. {@code "POST /api/v1/namespaces/kube-system/secrets"}) */
    public StallingApiServer(Predicate<String> stalls) throws IOException {
        this.stalls = stalls;
        this.http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        http.setExecutor(threads);
        http.createContext("/", this::serve);
        http.start();
    }

    public String url() {
        return "http://127.0.0.1:" + http.getAddress().getPort();
    }

    private void serve(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            String path = exchange.getRequestURI().getPath();
            String query = exchange.getRequestURI().getQuery() == null ? "" : exchange.getRequestURI().getQuery();
            String request = method + " " + path;
            requests.add(request);
            byte[] body = exchange.getRequestBody().readAllBytes();
            if (stalls.test(request)) {
                stalled.add(request);
                exchange.getResponseHeaders().set("Content-Type", "application/json");
                exchange.sendResponseHeaders(201, 4096);
                OutputStream out = exchange.getResponseBody();
                out.write("{\"kind\":\"Status\",\"apiVersion\":\"v1\",".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                hold();
                return;
            }
            if (method.equals("GET") && query.contains("watch=true")) {
                exchange.getResponseHeaders().set("Content-Type", "application/json");
                exchange.sendResponseHeaders(200, 0);
                exchange.getResponseBody().flush();
                hold();
                return;
            }
            switch (method) {
                case "GET" -> read(exchange, path);
                case "POST" -> answer(exchange, 201, path.endsWith("/selfsubjectrulesreviews") ? Serialization.asJson(TargetCluster.CLUSTER_ADMIN)
                                : created(body));
                case "PUT" -> answer(exchange, 200, new String(body, StandardCharsets.UTF_8));
                default -> answer(exchange, 200, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Success\"}");
            }
        } catch (IOException e) {
            // the client gave up: that is the point of stalling
        }
    }

    private void read(HttpExchange exchange, String path) throws IOException {
        if (path.equals("/version")) {
            answer(exchange, 200, "{\"major\":\"1\",\"minor\":\"28\",\"gitVersion\":\"v1.28.3\"}");
        } else if (path.equals("/api/v1/namespaces/kube-system/secrets")) {
            answer(exchange, 200, "{\"kind\":\"SecretList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"1\"},"
                    + "\"items\":[]}");
        } else {
            answer(exchange, 404, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":"
                    + "\"NotFound\",\"code\":404}");
        }
    }

    /** A created object: what was sent, with the fields the server sets. */
    private static String created(byte[] body) throws IOException {
        ObjectNode object = (ObjectNode) JSON.readTree(body);
        ObjectNode metadata = object.with("metadata");
        metadata.put("uid", UUID.randomUUID().toString());
        metadata.put("resourceVersion", "2");
        metadata.put("creationTimestamp", "2026-01-01T00:00:00Z");
        return object.toString();
    }

    private static void answer(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    private void hold() {
        long until = System.nanoTime() + MAX_HOLD.toNanos();
        while (!closed && System.nanoTime() < until) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        http.stop(0);
        threads.shutdownNow();
    }
}

package io.apigw.authorizer.worker;

import static io.apigw.authorizer.testing.Requests.request;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import javax.net.ssl.SSLContext;

import jakarta.enterprise.inject.Any;
import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.apigw.authorizer.testing.InMemoryChannels;
import io.apigw.authorizer.testing.Requests;
import io.apigw.authorizer.testing.Requests.Published;
import io.apigw.authorizer.testing.TargetCluster;
import io.apigw.authorizer.testing.TargetCluster.TokenController;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import io.smallrye.reactive.messaging.memory.InMemoryConnector;
import io.vertx.core.net.SelfSignedCertificate;
import java.time.Instant;
import java.util.stream.StreamSupport;

/**
 * Faults of the target API server and of the network on the way to it, on the fast tier: each must end in the
 * contract's code with the right {@code retryable} and {@code attempts}, within the configured bounds (%test:
 * 3 attempts, 3 s request timeout, 1 s connect timeout), and the worker must go on serving the next request.
 */
@QuarkusTest
@WithKubernetesTestServer
@QuarkusTestResource(value = InMemoryChannels.class, restrictToAnnotatedClass = true)
class FaultsTest {

    static final String SA_PATH = "/api/v1/namespaces/kube-system/serviceaccounts/apigw-ingress";
    static final int MAX_ATTEMPTS = 3;
    /** An attempt starts with its six independent reads at once (version, SA, role, binding, Secrets, kube-system). */
    private static final int READS_PER_ATTEMPT = 6;
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(3);

    @Inject
    @Any
    InMemoryConnector connector;

    Requests requests;
    TargetCluster cluster;
    final List<AutoCloseable> resources = new ArrayList<>();

    @BeforeEach
    void setUp() {
        requests = new Requests(connector);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
        for (AutoCloseable r : resources) {
            r.close();
        }
    }

    // ------------------------------------------------------------------------------------------ HTTP status faults

    @Test
    void serverErrorsThenRecoveryAreRetriedAndEveryAttemptIsCounted() throws Exception {
        cluster = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY);
        cluster.server.expect().get().withPath(SA_PATH).andReturn(500, status(500, "InternalError", "etcd hiccup"))
                .times(2);

        Published result = authorize(cluster.clusterId);

        assertThat(result.header("ce_type")).isEqualTo("Authorized");
        assertThat(result.body().get("attempts").asInt()).isEqualTo(3);
        assertThat(workerCalls("GET", SA_PATH)).as("one read of the account per attempt").isEqualTo(3);
        assertNextRequestIsServed();
    }

    /**
     * Writes go in two waves (role with account, then binding with token Secret): when one write of a wave fails, the
     * other still takes effect, and the attempt that succeeds must report it as created.
     */
    @ParameterizedTest(name = "{0} fails once")
    @ValueSource(strings = { "clusterroles", "clusterrolebindings" })
    void serverErrorOnAWriteIsRetriedWithoutDuplicatesAndEverythingMadeIsReportedCreated(String failing)
            throws Exception {
        cluster = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY);
        cluster.server.expect().post().withPath("/apis/rbac.authorization.k8s.io/v1/" + failing)
                .andReturn(502, status(502, "BadGateway", "upstream reset")).once();

        Published result = authorize(cluster.clusterId);

        assertThat(result.header("ce_type")).isEqualTo("Authorized");
        assertThat(result.body().get("attempts").asInt()).isEqualTo(2);
        assertThat(kindActions(result)).containsExactlyInAnyOrder("ServiceAccount=created", "ClusterRole=created",
                "ClusterRoleBinding=created", "Secret=created");
        assertThat(cluster.client.rbac().clusterRoles().withName("apigw-ingress-clusterrole").get()).isNotNull();
        assertThat(cluster.client.serviceAccounts().inNamespace("kube-system").list().getItems()).hasSize(1);
        assertThat(cluster.client.secrets().inNamespace("kube-system").list().getItems())
                .filteredOn(s -> s.getMetadata().getName().startsWith("apigw-ingress-token-")).hasSize(1);
        assertNextRequestIsServed();
    }

    @Test
    void tooManyRequestsIsRetried() throws Exception {
        cluster = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY);
        cluster.server.expect().get().withPath(SA_PATH).andReturn(429, tooManyRequests(1)).withHeader("Retry-After", "1")
                .once();

        Published result = authorize(cluster.clusterId);

        assertThat(result.header("ce_type")).isEqualTo("Authorized");
        assertThat(result.body().get("attempts").asInt()).isEqualTo(2);
        assertThat(workerCalls("GET", SA_PATH)).isEqualTo(2);
        assertNextRequestIsServed();
    }

    @Test
    void retryAfterOfA429IsHonoured() throws Exception {
        cluster = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY);
        List<Instant> refusedAt = new CopyOnWriteArrayList<>();
        cluster.server.expect().get().withPath(SA_PATH).andReply(429, r -> {
            refusedAt.add(Instant.now());
            return tooManyRequests(2);
        }).withHeader("Retry-After", "2").once();

        Published result = authorize(cluster.clusterId);

        assertThat(result.body().get("attempts").asInt()).isEqualTo(2);
        assertThat(refusedAt).hasSize(1);
        Instant secondAttempt = cluster.workerVersionReads().get(1);
        assertThat(Duration.between(refusedAt.get(0), secondAttempt))
                .as("the next attempt waits at least the Retry-After the server asked for")
                .isGreaterThanOrEqualTo(Duration.ofMillis(1900));
    }

    @Test
    void persistent503IsApiServerUnreachableAfterTheLastAttempt() throws Exception {
        cluster = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY);
        cluster.server.expect().get().withPath(SA_PATH).andReturn(503, status(503, "ServiceUnavailable", "down"))
                .always();

        Published result = authorize(cluster.clusterId);

        assertFailed(result, "API_SERVER_UNREACHABLE", MAX_ATTEMPTS);
        assertThat(result.body().get("message").asText()).contains("503");
        assertThat(workerCalls("GET", SA_PATH)).isEqualTo(MAX_ATTEMPTS);
        assertThat(cluster.workerWrites(cluster.takeRequests())).as("nothing written after failed reads").isEmpty();
        assertNextRequestIsServed();
    }

    // ------------------------------------------------------------------------------------------ slow answers

    @Test
    void answerSlowerThanTheRequestTimeoutIsApiServerUnreachable() throws Exception {
        cluster = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY);
        cluster.server.expect().get().delay(REQUEST_TIMEOUT.toMillis() + 3_000).withPath(SA_PATH)
                .andReturn(404, status(404, "NotFound", "not found")).always();

        long started = System.nanoTime();
        Published result = authorize(cluster.clusterId, Duration.ofSeconds(40));
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        assertFailed(result, "API_SERVER_UNREACHABLE", MAX_ATTEMPTS);
        assertThat(result.body().get("message").asText()).contains("timed out");
        // Each attempt is cut at the request timeout: 3 x 3 s plus backoff, well short of 3 x 6 s.
        assertThat(took).isLessThan(REQUEST_TIMEOUT.multipliedBy(MAX_ATTEMPTS).plusSeconds(4));
        assertNextRequestIsServed();
    }

    @Test
    void bodyThatStallsAfterTheHeadersIsCutAtTheRequestTimeout() throws Exception {
        RawServer raw = rawServer(RawServer.Behaviour.STALL_BODY);
        String clusterId = TargetCluster.registerServer(raw.url());

        long started = System.nanoTime();
        Published result = authorize(clusterId, Duration.ofSeconds(40));
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        assertFailed(result, "API_SERVER_UNREACHABLE", MAX_ATTEMPTS);
        assertThat(raw.connections.get()).isBetween(MAX_ATTEMPTS, MAX_ATTEMPTS * READS_PER_ATTEMPT);
        assertThat(took).isLessThan(REQUEST_TIMEOUT.multipliedBy(MAX_ATTEMPTS).plusSeconds(4));
        assertNextRequestIsServed();
    }

    @Test
    void bodyTrickledOneByteAtATimeIsCutAtTheRequestTimeout() throws Exception {
        RawServer raw = rawServer(RawServer.Behaviour.TRICKLE);
        String clusterId = TargetCluster.registerServer(raw.url());

        long started = System.nanoTime();
        Published result = authorize(clusterId, Duration.ofSeconds(40));
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        assertFailed(result, "API_SERVER_UNREACHABLE", MAX_ATTEMPTS);
        assertThat(took).as("a server that keeps the connection busy must not hold the worker longer")
                .isLessThan(REQUEST_TIMEOUT.multipliedBy(MAX_ATTEMPTS).plusSeconds(4));
        assertNextRequestIsServed();
    }

    // ------------------------------------------------------------------------------------------ broken connections

    @Test
    void connectionClosedWithoutAnAnswerIsApiServerUnreachable() throws Exception {
        assertBrokenConnection(RawServer.Behaviour.CLOSE);
    }

    @Test
    void connectionResetIsApiServerUnreachable() throws Exception {
        assertBrokenConnection(RawServer.Behaviour.RESET);
    }

    @Test
    void connectionClosedMidResponseIsApiServerUnreachable() throws Exception {
        assertBrokenConnection(RawServer.Behaviour.PARTIAL_THEN_CLOSE);
    }

    private void assertBrokenConnection(RawServer.Behaviour behaviour) throws Exception {
        RawServer raw = rawServer(behaviour);
        String clusterId = TargetCluster.registerServer(raw.url());

        long started = System.nanoTime();
        Published result = authorize(clusterId);
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        assertFailed(result, "API_SERVER_UNREACHABLE", MAX_ATTEMPTS);
        assertThat(result.body().get("message").asText()).contains("private API server endpoint");
        // At most one connection per read (no hidden client retries); an attempt ends at its first failed read.
        assertThat(raw.connections.get()).as("connections").isBetween(MAX_ATTEMPTS, MAX_ATTEMPTS * READS_PER_ATTEMPT);
        assertThat(took).isLessThan(Duration.ofSeconds(10));
        assertNextRequestIsServed();
    }

    /** {@code Kind=action} of each resource the result reports. */
    private static List<String> kindActions(Published result) {
        return StreamSupport.stream(result.body().get("resources").spliterator(), false)
                .map(r -> r.get("kind").asText() + "=" + r.get("action").asText()).toList();
    }

    // ------------------------------------------------------------------------------------------ TLS

    @Test
    void certificateNotSignedByTheClusterCaIsRefusedWithoutFallingBackToInsecure() throws Exception {
        KubernetesMockServer tls = tlsServer();
        SelfSignedCertificate otherCa = SelfSignedCertificate.create("localhost");
        resources.add(otherCa::delete);
        String clusterId = TargetCluster.registerServer(url(tls), Files.readString(Path.of(otherCa.certificatePath())));

        Published result = authorize(clusterId);

        assertFailed(result, "API_SERVER_UNREACHABLE", 1);
        assertThat(result.body().get("message").asText()).contains("TLS");
        assertThat(tls.getRequestCount()).as("no request (and so no admin credential) reached the server").isZero();

        // Control: once the directory names the server's own CA, the same cluster is reached at once (no client kept
        // for the old CA is used), so the refusal above was the CA's doing.
        TargetCluster.changeCa(clusterId, Files.readString(Path.of(tls.getSelfSignedCertificate().certificatePath())));
        Published control = authorize(clusterId);
        assertThat(control.body().path("message").asText()).doesNotContain("TLS");
        assertThat(tls.getRequestCount()).isPositive();
        assertNextRequestIsServed();
    }

    @Test
    void clusterCaIsPinnedRatherThanAddedToTheSystemTrustStore() throws Exception {
        KubernetesMockServer tls = tlsServer();
        SelfSignedCertificate clusterCa = SelfSignedCertificate.create("localhost");
        resources.add(clusterCa::delete);
        // A publicly trusted CA that signed the impostor's certificate: stand it in for the system trust store.
        SSLContext.getDefault(); // the JVM's own default context stays as it was
        Path store = Files.createTempFile("impostor-trust", ".p12");
        resources.add(() -> Files.deleteIfExists(store));
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setCertificateEntry("public-ca", CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(Files.readAllBytes(Path.of(tls.getSelfSignedCertificate().certificatePath())))));
        try (OutputStream out = Files.newOutputStream(store)) {
            ks.store(out, "changeit".toCharArray());
        }
        String before = System.getProperty("javax.net.ssl.trustStore");
        String beforePassword = System.getProperty("javax.net.ssl.trustStorePassword");
        System.setProperty("javax.net.ssl.trustStore", store.toString());
        System.setProperty("javax.net.ssl.trustStorePassword", "changeit");
        try {
            String clusterId = TargetCluster.registerServer(url(tls),
                    Files.readString(Path.of(clusterCa.certificatePath())));

            Published result = authorize(clusterId);

            assertThat(tls.getRequestCount()).as("no request reached a server the cluster's CA did not vouch for")
                    .isZero();
            assertFailed(result, "API_SERVER_UNREACHABLE", 1);
            assertThat(result.body().get("message").asText()).contains("TLS");
        } finally {
            restore("javax.net.ssl.trustStore", before);
            restore("javax.net.ssl.trustStorePassword", beforePassword);
        }
    }

    // ------------------------------------------------------------------------------------------ helpers

    private Published authorize(String clusterId) {
        return authorize(clusterId, Duration.ofSeconds(30));
    }

    private Published authorize(String clusterId, Duration within) {
        String requestId = "req-" + UUID.randomUUID();
        requests.sendBinary(clusterId, request(requestId, clusterId));
        return requests.awaitResult(requestId, within);
    }

    /** After the fault, a request for a healthy cluster is served as usual. */
    private void assertNextRequestIsServed() {
        try (TargetCluster healthy = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY)) {
            Published next = authorize(healthy.clusterId);
            assertThat(next.header("ce_type")).as("the worker still serves the next request").isEqualTo("Authorized");
            assertThat(next.body().get("attempts").asInt()).isEqualTo(1);
        }
    }

    private static void assertFailed(Published result, String code, int attempts) {
        assertThat(result.header("ce_type")).as("outcome of %s", result.body()).isEqualTo("Failed");
        assertThat(result.body().get("code").asText()).as("code of %s", result.body()).isEqualTo(code);
        assertThat(result.body().get("retryable").asBoolean()).isTrue();
        assertThat(result.body().get("attempts").asInt()).as("attempts of %s", result.body()).isEqualTo(attempts);
    }

    /** How many calls the worker (its admin credential) made with this method and path. */
    private long workerCalls(String method, String path) throws InterruptedException {
        List<RecordedRequest> all = cluster.takeRequests();
        return all.stream().filter(r -> ("Bearer admin-" + cluster.clusterId).equals(r.getHeader("Authorization")))
                .filter(r -> r.getMethod().equals(method) && r.getPath().equals(path)).count();
    }

    private static Status status(int code, String reason, String message) {
        return new StatusBuilder().withCode(code).withReason(reason).withMessage(message).withStatus("Failure").build();
    }

    private static Status tooManyRequests(int retryAfterSeconds) {
        return new StatusBuilder().withCode(429).withReason("TooManyRequests").withStatus("Failure")
                .withMessage("too many requests, please try again later").withNewDetails()
                .withRetryAfterSeconds(retryAfterSeconds).endDetails().build();
    }

    private KubernetesMockServer tlsServer() {
        KubernetesMockServer tls = new KubernetesMockServer(true);
        tls.init();
        resources.add(tls::destroy);
        return tls;
    }

    private static String url(KubernetesMockServer server) {
        return server.url("/").replaceAll("/$", "");
    }

    private RawServer rawServer(RawServer.Behaviour behaviour) throws IOException {
        RawServer raw = new RawServer(behaviour);
        resources.add(raw);
        return raw;
    }

    private static void restore(String property, String value) {
        if (value == null) {
            System.clearProperty(property);
        } else {
            System.setProperty(property, value);
        }
    }

    /**
     * An HTTP/1.1 "API server" on a raw loopback socket that misbehaves in one way. Every socket it opened is closed
     * with it, and no connection is held longer than {@link #MAX_HOLD}.
     */
    static final class RawServer implements AutoCloseable {

        enum Behaviour {
            /** Reads the request, then closes the connection without a byte of answer. */
            CLOSE,
            /** Reads the request, then resets the connection (RST). */
            RESET,
            /** Sends the headers and part of the body, then closes. */
            PARTIAL_THEN_CLOSE,
            /** Sends the headers and part of the body, then says nothing more. */
            STALL_BODY,
            /** Sends the headers, then one byte of body every 200 ms. */
            TRICKLE
        }

        static final Duration MAX_HOLD = Duration.ofSeconds(20);

        final AtomicInteger connections = new AtomicInteger();
        private final Behaviour behaviour;
        private final ServerSocket server;
        private final List<Socket> sockets = new CopyOnWriteArrayList<>();
        private volatile boolean closed;

        RawServer(Behaviour behaviour) throws IOException {
            this.behaviour = behaviour;
            this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread acceptor = new Thread(this::accept, "raw-api-server-" + behaviour);
            acceptor.setDaemon(true);
            acceptor.start();
        }

        String url() {
            return "http://127.0.0.1:" + server.getLocalPort();
        }

        private void accept() {
            while (!closed) {
                try {
                    Socket s = server.accept();
                    connections.incrementAndGet();
                    sockets.add(s);
                    Thread t = new Thread(() -> serve(s), "raw-api-connection");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return; // closed
                }
            }
        }

        private void serve(Socket s) {
            try (s) {
                s.setSoTimeout((int) MAX_HOLD.toMillis());
                readRequestHead(s.getInputStream());
                OutputStream out = s.getOutputStream();
                String head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n";
                long until = System.nanoTime() + MAX_HOLD.toNanos();
                switch (behaviour) {
                    case CLOSE -> {
                    }
                    case RESET -> s.setSoLinger(true, 0);
                    case PARTIAL_THEN_CLOSE -> {
                        out.write((head + "{\"major\":\"1\",\"mi").getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                    }
                    case STALL_BODY -> {
                        out.write((head + "{\"major\":").getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                        while (!closed && System.nanoTime() < until && !s.isClosed()) {
                            Thread.sleep(50);
                        }
                    }
                    case TRICKLE -> {
                        out.write(head.getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                        while (!closed && System.nanoTime() < until) {
                            out.write(' ');
                            out.flush();
                            Thread.sleep(200);
                        }
                    }
                }
            } catch (IOException | InterruptedException e) {
                // the client went away: that is the point
            }
        }

        private static void readRequestHead(InputStream in) throws IOException {
            int matched = 0;
            byte[] end = { '\r', '\n', '\r', '\n' };
            for (int c; matched < 4 && (c = in.read()) != -1;) {
                matched = c == end[matched] ? matched + 1 : c == '\r' ? 1 : 0;
            }
        }

        @Override
        public void close() throws IOException {
            closed = true;
            server.close();
            for (Socket s : sockets) {
                s.close();
            }
        }
    }
}

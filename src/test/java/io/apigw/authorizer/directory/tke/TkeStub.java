package io.apigw.authorizer.directory.tke;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.time.temporal.ChronoUnit;

/**
 * A TKE API 3.0 stand-in on 127.0.0.1: {@code POST /} with {@code X-TC-Action} and a JSON body, answered with
 * {@code {"Response":{...,"RequestId"}}} or the error envelope. Answers are set per action; every call is recorded
 * with its headers and body so tests can check signing, region and parameters.
 * <p>
 * It also plays STS once {@link #stsCaller} is set: {@code AssumeRole} signed by that identity, for a role granted with
 * {@link #grantRole}, issues fresh temporary keys; from then on TKE calls are answered only when signed with issued,
 * unexpired keys and their token, and only for the clusters of the account that granted the role.
 */
final class TkeStub implements AutoCloseable {

    static final String STATUS = "DescribeClusterEndpointStatus";
    static final String ENDPOINTS = "DescribeClusterEndpoints";
    static final String KUBECONFIG = "DescribeClusterKubeconfig";
    static final String ASSUME_ROLE = "AssumeRole";

    static final String INTRANET_IP = "10.0.0.5";
    static final String CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBcluster-ca-for-tests\n-----END CERTIFICATE-----";
    static final String CLIENT_CERT_PEM = "-----BEGIN CERTIFICATE-----\nMIIBadmin-client-cert\n"
            + "-----END CERTIFICATE-----\n";
    static final String CLIENT_KEY_PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEadmin-client-key\n"
            + "-----END RSA PRIVATE KEY-----\n";
    static final String CLIENT_CERT_DATA = b64(CLIENT_CERT_PEM);
    static final String CLIENT_KEY_DATA = b64(CLIENT_KEY_PEM);

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One recorded API call; header names are lower case. */
    record Call(String action, Map<String, String> headers, String rawBody, JsonNode body) {

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        private static final Pattern AUTHORIZATION = Pattern.compile("TC3-HMAC-SHA256 Credential=([^/]+)/"
                + "(\\d{4}-\\d{2}-\\d{2})/([a-z0-9-]+)/tc3_request, SignedHeaders=content-type;host, "
                + "Signature=([0-9a-f]{64})");

        /**
         * Whether the call carries a valid TC3-HMAC-SHA256 signature by this key pair (recomputed here). The SDK
         * names the first label of the endpoint as the service in the scope: {@code tke} for the real API, the first
         * octet of 127.0.0.1 here; the real API would insist on {@code tke}.
         */
        boolean signedWith(String secretId, String secretKey) {
            Matcher m = AUTHORIZATION.matcher(String.valueOf(header("Authorization")));
            if (!m.matches() || !m.group(1).equals(secretId)) {
                return false;
            }
            String date = m.group(2);
            String scope = date + "/" + m.group(3) + "/tc3_request";
            String canonical = "POST\n/\n\ncontent-type:" + header("Content-Type") + "\nhost:" + header("Host")
                    + "\n\ncontent-type;host\n" + sha256(rawBody);
            String toSign = "TC3-HMAC-SHA256\n" + header("X-TC-Timestamp") + "\n" + scope + "\n" + sha256(canonical);
            byte[] key = hmac(("TC3" + secretKey).getBytes(StandardCharsets.UTF_8), date);
            key = hmac(key, m.group(3));
            key = hmac(key, "tc3_request");
            return HexFormat.of().formatHex(hmac(key, toSign)).equals(m.group(4));
        }
    }

    private record Reply(int status, String body, Duration delay) {
    }

    /** Temporary keys issued by AssumeRole. */
    record Issued(String roleArn, String sessionName, String secretId, String secretKey, String token,
            Instant expiresAt) {
    }

    private final Map<String, Set<String>> roleClusters = new ConcurrentHashMap<>();
    private final Map<String, Issued> issued = new ConcurrentHashMap<>();
    private final Set<String> revoked = ConcurrentHashMap.newKeySet();
    private final AtomicInteger issuedCount = new AtomicInteger();
    private volatile String stsSecretId;
    private volatile String stsSecretKey;
    private volatile Duration issuedFor = Duration.ofHours(1);

    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final Map<String, Reply> replies = new ConcurrentHashMap<>();
    private final List<Call> calls = new CopyOnWriteArrayList<>();

    private TkeStub() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(threads);
        server.start();
    }

    static TkeStub start() {
        try {
            return new TkeStub();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code authorizer.directory.tke.endpoint} for this stub. */
    String endpoint() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    /** A cluster whose private endpoint is on, with a client-certificate admin kubeconfig. */
    TkeStub healthyCluster() {
        endpointStatus("Created");
        endpoints(INTRANET_IP, CA_PEM);
        return kubeconfig(certificateKubeconfig());
    }

    TkeStub endpointStatus(String status) {
        return answer(STATUS, JSON.createObjectNode().put("Status", status).put("ErrorMsg", status));
    }

    TkeStub endpoints(String intranetEndpoint, String ca) {
        return answer(ENDPOINTS, JSON.createObjectNode().put("ClusterIntranetEndpoint", intranetEndpoint)
                .put("CertificationAuthority", ca).put("ClusterExternalEndpoint", "")
                .put("ClusterDomain", "cls-test.ccs.tencent-cloud.com").putNull("ClusterIntranetDomain"));
    }

    TkeStub kubeconfig(String kubeconfig) {
        return answer(KUBECONFIG, JSON.createObjectNode().put("Kubeconfig", kubeconfig));
    }

    TkeStub answer(String action, ObjectNode fields) {
        fields.put("RequestId", UUID.randomUUID().toString());
        return reply(action, 200, JSON.createObjectNode().set("Response", fields).toString(), Duration.ZERO);
    }

    /** Answers the action with an API error; returns its RequestId. */
    String error(String action, String code, String message) {
        String requestId = UUID.randomUUID().toString();
        ObjectNode response = JSON.createObjectNode();
        response.putObject("Error").put("Code", code).put("Message", message);
        response.put("RequestId", requestId);
        reply(action, 200, JSON.createObjectNode().set("Response", response).toString(), Duration.ZERO);
        return requestId;
    }

    TkeStub reply(String action, int status, String body, Duration delay) {
        replies.put(action, new Reply(status, body, delay));
        return this;
    }

    /** Plays STS for AssumeRole calls signed by this identity (the worker's own). */
    TkeStub stsCaller(String secretId, String secretKey) {
        stsSecretId = secretId;
        stsSecretKey = secretKey;
        return this;
    }

    /** A tenant grants the role; the issued keys see exactly these clusters. */
    TkeStub grantRole(String roleArn, String... clusterIds) {
        roleClusters.put(roleArn, Set.of(clusterIds));
        return this;
    }

    /** How long keys issued from now on stay valid (ExpiredTime). */
    TkeStub issueFor(Duration lifetime) {
        issuedFor = lifetime;
        return this;
    }

    /** Every key issued so far is refused from now on (the tenant revoked the sessions). */
    void revokeIssued() {
        revoked.addAll(issued.keySet());
    }

    List<Issued> issued() {
        return List.copyOf(issued.values());
    }

    List<Call> calls() {
        return List.copyOf(calls);
    }

    List<String> actions() {
        return calls.stream().map(Call::action).toList();
    }

    void forgetCalls() {
        calls.clear();
    }

    static String certificateKubeconfig() {
        // Two users: the worker must take the current context's.
        return """
                apiVersion: v1
                kind: Config
                clusters:
                - name: cls-test
                  cluster:
                    server: https://%s
                    certificate-authority-data: %s
                contexts:
                - name: cls-test-readonly
                  context: {cluster: cls-test, user: readonly}
                - name: cls-test-admin
                  context: {cluster: cls-test, user: admin}
                current-context: cls-test-admin
                users:
                - name: readonly
                  user:
                    token: readonly-token
                - name: admin
                  user:
                    client-certificate-data: %s
                    client-key-data: %s
                """.formatted(INTRANET_IP, b64(CA_PEM), CLIENT_CERT_DATA, CLIENT_KEY_DATA);
    }

    static String tokenKubeconfig(String token) {
        return """
                apiVersion: v1
                kind: Config
                users:
                - name: admin
                  user:
                    token: %s
                """.formatted(token);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (InputStream in = exchange.getRequestBody()) {
            String raw = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            Map<String, String> headers = new TreeMap<>();
            exchange.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), v.get(0)));
            String action = headers.getOrDefault("x-tc-action", "");
            Call call = new Call(action, headers, raw, JSON.readTree(raw.isEmpty() ? "{}" : raw));
            calls.add(call);
            Reply reply = "POST".equals(exchange.getRequestMethod()) && "/".equals(exchange.getRequestURI().getPath())
                    ? replies.get(action)
                    : null;
            if (stsSecretId != null && (reply == null || !action.equals(ASSUME_ROLE))) {
                reply = action.equals(ASSUME_ROLE) ? assumeRole(call) : reply == null ? null : issuedKeysOnly(call, reply);
            }
            if (reply == null) {
                reply = new Reply(404, "no such action in the stub: " + action, Duration.ZERO);
            }
            if (!reply.delay().isZero()) {
                Thread.sleep(reply.delay().toMillis());
            }
            byte[] body = reply.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(reply.status(), body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            exchange.close();
        }
    }

    private Reply assumeRole(Call call) {
        if (!call.signedWith(stsSecretId, stsSecretKey)) {
            return errorReply("AuthFailure.SignatureFailure", "the request signature does not match");
        }
        String roleArn = call.body().path("RoleArn").asText();
        if (!roleClusters.containsKey(roleArn)) {
            return errorReply("ResourceNotFound.RoleNotFound", "role not exist");
        }
        int n = issuedCount.incrementAndGet();
        Issued keys = new Issued(roleArn, call.body().path("RoleSessionName").asText(), "AKIDtmp" + n,
                "tmp-secret-key-" + n + "-" + UUID.randomUUID(), "tmp-session-token-" + n + "-" + UUID.randomUUID(),
                Instant.now().plus(issuedFor).truncatedTo(ChronoUnit.SECONDS));
        issued.put(keys.secretId(), keys);
        ObjectNode response = JSON.createObjectNode();
        response.putObject("Credentials").put("TmpSecretId", keys.secretId()).put("TmpSecretKey", keys.secretKey())
                .put("Token", keys.token());
        response.put("ExpiredTime", keys.expiresAt().getEpochSecond()).put("Expiration", keys.expiresAt().toString())
                .put("RequestId", UUID.randomUUID().toString());
        return new Reply(200, JSON.createObjectNode().set("Response", response).toString(), Duration.ZERO);
    }

    private Reply issuedKeysOnly(Call call, Reply reply) {
        Matcher m = Call.AUTHORIZATION.matcher(String.valueOf(call.header("Authorization")));
        Issued keys = m.matches() ? issued.get(m.group(1)) : null;
        if (keys == null || revoked.contains(keys.secretId()) || !call.signedWith(keys.secretId(), keys.secretKey())) {
            return errorReply("AuthFailure.SecretIdNotFound", "the SecretId is not found");
        }
        if (!keys.token().equals(call.header("X-TC-Token")) || Instant.now().isAfter(keys.expiresAt())) {
            return errorReply("AuthFailure.TokenFailure", "the token is invalid or has expired");
        }
        if (!roleClusters.get(keys.roleArn()).contains(call.body().path("ClusterId").asText())) {
            return errorReply("ResourceNotFound.ClusterNotFound", "cluster not found");
        }
        return reply;
    }

    private static Reply errorReply(String code, String message) {
        ObjectNode response = JSON.createObjectNode();
        response.putObject("Error").put("Code", code).put("Message", message);
        response.put("RequestId", UUID.randomUUID().toString());
        return new Reply(200, JSON.createObjectNode().set("Response", response).toString(), Duration.ZERO);
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }

    static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String sha256(String s) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}

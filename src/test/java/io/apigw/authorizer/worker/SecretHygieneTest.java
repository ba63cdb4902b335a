package io.apigw.authorizer.worker;

import static io.apigw.authorizer.testing.Requests.request;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.logging.Level;

import jakarta.enterprise.inject.Any;
import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.apigw.authorizer.credential.StoredCredential;
import io.apigw.authorizer.credential.Token;
import io.apigw.authorizer.directory.ClusterAccess;
import io.apigw.authorizer.grant.Grant;
import io.apigw.authorizer.testing.InMemoryChannels;
import io.apigw.authorizer.testing.LogCapture;
import io.apigw.authorizer.testing.Requests;
import io.apigw.authorizer.testing.Requests.Published;
import io.apigw.authorizer.testing.TargetCluster;
import io.apigw.authorizer.testing.TargetCluster.TokenController;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import io.smallrye.reactive.messaging.memory.InMemoryConnector;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReview;
import java.util.logging.Logger;

/**
 * "The token itself never appears in any event or log line" (contract section 4), and neither does the worker's
 * admin credential: every scenario runs with recognisable credentials (each token the stand-in controller issues is in
 * {@link TargetCluster#ISSUED_TOKENS}; each cluster's admin token is {@code admin-<clusterId>}), then every captured
 * log line (with stack traces, the worker's own loggers at DEBUG), every published result and dead letter (value,
 * headers and key) is searched for them, raw and base64-encoded.
 */
@QuarkusTest
@WithKubernetesTestServer
@QuarkusTestResource(value = InMemoryChannels.class, restrictToAnnotatedClass = true)
class SecretHygieneTest {

    static final String CHECK = "ClusterAuthorizationCheckRequested";
    static final String DEAUTHORIZE = "ClusterDeauthorizationRequested";

    @Inject
    @Any
    InMemoryConnector connector;

    @Inject
    KubernetesClient ownCluster;

    final LogCapture logs = LogCapture.install();
    Requests requests;
    final List<TargetCluster> clusters = new ArrayList<>();
    /** Cluster ids whose admin token ({@code admin-<id>}) must not leak. */
    final Set<String> clusterIds = new LinkedHashSet<>();
    final Logger workerLogs = Logger.getLogger("io.apigw");
    Level levelBefore;

    @BeforeEach
    void setUp() {
        requests = new Requests(connector);
        levelBefore = workerLogs.getLevel();
        workerLogs.setLevel(Level.FINE); // DEBUG lines too: a secret must not hide there either
    }

    @AfterEach
    void tearDown() {
        workerLogs.setLevel(levelBefore);
        clusters.forEach(TargetCluster::close);
    }

    @Test
    void noTokenOrAdminCredentialInAnyLogLineEventOrMessage() {
        int logsBefore = logs.lines().size();
        Map<String, Published> outcomes = new LinkedHashMap<>();

        // fresh, repeat, check, drift
        TargetCluster a = start("v1.28.3", TokenController.FILL_ONLY);
        outcomes.put("fresh", send(a.clusterId, "ClusterAuthorizationRequested"));
        outcomes.put("repeat", send(a.clusterId, "ClusterAuthorizationRequested"));
        outcomes.put("check", send(a.clusterId, CHECK));
        ClusterRole role = a.client.rbac().clusterRoles().withName("apigw-ingress-clusterrole").get();
        a.client.rbac().clusterRoles().resource(new ClusterRoleBuilder(role)
                .withRules(role.getRules().subList(1, role.getRules().size())).build()).update();
        outcomes.put("drift check", send(a.clusterId, CHECK));
        outcomes.put("drift", send(a.clusterId, "ClusterAuthorizationRequested"));
        assertThat(outcomes.get("fresh").header("ce_type")).isEqualTo("Authorized");
        assertThat(outcomes.get("drift").header("ce_type")).isEqualTo("Authorized");
        Secret stored = ownCluster.secrets().inNamespace("apigw-system").withName("apigw-cluster-" + a.clusterId).get();
        String storedToken = new String(Base64.getDecoder().decode(stored.getData().get("token")), StandardCharsets.UTF_8);
        assertThat(TargetCluster.ISSUED_TOKENS).as("the gateway gets the issued token").contains(storedToken);
        assertThat(storedToken).as("never the worker's admin credential").doesNotStartWith("admin-");

        // a pre-1.24 cluster, whose token Secret the controller makes itself
        TargetCluster old = start("v1.20.2", TokenController.AUTO_CREATE);
        outcomes.put("fresh 1.20", send(old.clusterId, "ClusterAuthorizationRequested"));

        // the stored credential no longer authenticates
        Secret oldStored = ownCluster.secrets().inNamespace("apigw-system").withName("apigw-cluster-" + old.clusterId)
                .get();
        old.rejectToken(new String(Base64.getDecoder().decode(oldStored.getData().get("token")),
                StandardCharsets.UTF_8));
        outcomes.put("check with a revoked credential", send(old.clusterId, CHECK));
        assertThat(outcomes.get("check with a revoked credential").body().path("credentialValid").asBoolean(true))
                .isFalse();

        // forbidden by the server (the rights review cannot tell)
        TargetCluster forbidden = start("v1.28.3", TokenController.FILL_ONLY, new SelfSubjectRulesReviewBuilder()
                .withNewStatus().withIncomplete(true).endStatus().build());
        forbidden.server.expect().post().withPath("/apis/rbac.authorization.k8s.io/v1/clusterroles")
                .andReturn(403, new StatusBuilder().withCode(403).withReason("Forbidden")
                        .withMessage("clusterroles is forbidden: attempting to grant RBAC permissions not currently held")
                        .build())
                .always();
        outcomes.put("forbidden", send(forbidden.clusterId, "ClusterAuthorizationRequested"));
        assertThat(outcomes.get("forbidden").body().path("code").asText()).isEqualTo("PERMISSION_DENIED");

        // unreachable, and no private endpoint
        String unreachable = TargetCluster.registerUnreachable();
        clusterIds.add(unreachable);
        outcomes.put("unreachable", send(unreachable, "ClusterAuthorizationRequested"));
        String noEndpoint = TargetCluster.registerWithoutPrivateEndpoint();
        clusterIds.add(noEndpoint);
        outcomes.put("private access disabled", send(noEndpoint, "ClusterAuthorizationRequested"));

        // the token is never issued
        TargetCluster silent = start("v1.28.3", TokenController.NONE);
        outcomes.put("token not issued", send(silent.clusterId, "ClusterAuthorizationRequested"));
        assertThat(outcomes.get("token not issued").body().path("code").asText()).isEqualTo("TOKEN_NOT_ISSUED");

        // invalid requests: answerable, and unreadable (dead-lettered)
        String invalidId = "req-" + UUID.randomUUID();
        requests.sendBinary(a.clusterId, "{\"requestId\":\"" + invalidId + "\",\"clusterId\":\"" + a.clusterId
                + "\",\"region\":\"Guangzhou\"}");
        outcomes.put("invalid", requests.awaitResult(invalidId));
        requests.send(a.clusterId, new byte[] { '{', (byte) 0xff }, List.of(Requests.header("ce_specversion", "1.0")));

        // deauthorize, twice
        outcomes.put("deauthorize", send(a.clusterId, DEAUTHORIZE));
        outcomes.put("deauthorize again", send(a.clusterId, DEAUTHORIZE));

        // ------------------------------------------------------------------ the search
        Map<String, String> secrets = secrets();
        assertThat(TargetCluster.ISSUED_TOKENS).as("the scenarios issued tokens to look for").isNotEmpty();
        List<String> logLines = logs.lines().subList(logsBefore, logs.lines().size());
        assertThat(logLines).as("the scenarios logged something to search").isNotEmpty();
        List<String> events = new ArrayList<>();
        requests.results().forEach(p -> events.add("result " + p.key() + " " + p.headers() + " " + p.body()));
        requests.deadLetters().forEach(p -> events.add("dead letter " + p.key() + " " + p.headers() + " " + p.body()));
        List<String> messages = outcomes.entrySet().stream()
                .map(e -> e.getKey() + ": " + e.getValue().body().path("message").asText("")).toList();

        assertNoSecretIn("log lines", logLines, secrets);
        assertNoSecretIn("published events", events, secrets);
        assertNoSecretIn("result messages", messages, secrets);
    }

    @Test
    void aServerMessageThatEchoesTheAdminCredentialIsNotRepeated() {
        TargetCluster echo = start("v1.28.3", TokenController.FILL_ONLY, new SelfSubjectRulesReviewBuilder()
                .withNewStatus().withIncomplete(true).endStatus().build());
        String admin = "admin-" + echo.clusterId;
        echo.server.expect().post().withPath("/apis/rbac.authorization.k8s.io/v1/clusterroles")
                .andReturn(403, new StatusBuilder().withCode(403).withReason("Forbidden")
                        .withMessage("denied by auth proxy for request with 'Authorization: Bearer " + admin + "'")
                        .build())
                .always();
        int logsBefore = logs.lines().size();

        Published result = send(echo.clusterId, "ClusterAuthorizationRequested");

        assertThat(result.body().path("code").asText()).isEqualTo("PERMISSION_DENIED");
        assertThat(result.body().toString()).doesNotContain(admin);
        assertThat(logs.lines().subList(logsBefore, logs.lines().size())).noneMatch(l -> l.contains(admin));
    }

    @Test
    void credentialsDoNotPrintThemselves() {
        String secret = "tok-" + UUID.randomUUID();
        Token token = Token.of(secret.getBytes(StandardCharsets.UTF_8));
        assertThat(token.toString()).doesNotContain(secret).doesNotContain(b64(secret));
        assertThat(String.valueOf(token)).isEqualTo(token.toString());
        assertThat(new Grant(List.of(), "apigw-ingress-token-abcde", "uid-1", token, "v1.28.3", false, "ns-uid", Set.of()).toString())
                .doesNotContain(secret).doesNotContain(b64(secret));
        assertThat(new StoredCredential("https://10.0.0.1", "-----BEGIN CERTIFICATE-----", token).toString())
                .doesNotContain(secret);

        String admin = "admin-" + UUID.randomUUID();
        Config config = new ConfigBuilder(Config.empty()).withMasterUrl("https://10.0.0.1:443").withOauthToken(admin)
                .withUsername("admin").withPassword("pw-" + admin).withClientKeyData(b64("key-" + admin))
                .withClientCertData(b64("cert-" + admin)).build();
        String access = new ClusterAccess("cls-7xq2m9ab", "https://10.0.0.1:443", "-----BEGIN CERTIFICATE-----", config)
                .toString();
        assertThat(access).contains("cls-7xq2m9ab").doesNotContain(admin).doesNotContain(b64("key-" + admin))
                .doesNotContain(b64("cert-" + admin)).doesNotContain("pw-");
    }

    // ------------------------------------------------------------------------------------------ helpers

    private TargetCluster start(String version, TokenController tokens) {
        return remember(TargetCluster.start(version, tokens));
    }

    private TargetCluster start(String version, TokenController tokens,
            SelfSubjectRulesReview rights) {
        return remember(TargetCluster.start(version, tokens, rights));
    }

    private TargetCluster remember(TargetCluster c) {
        clusters.add(c);
        clusterIds.add(c.clusterId);
        return c;
    }

    private Published send(String clusterId, String type) {
        String requestId = "req-" + UUID.randomUUID();
        requests.sendBinary(clusterId, request(requestId, clusterId), type);
        return requests.awaitResult(requestId);
    }

    /** Every credential to look for, raw and base64, by a name that says which it is. */
    private Map<String, String> secrets() {
        Map<String, String> secrets = new LinkedHashMap<>();
        for (String token : TargetCluster.ISSUED_TOKENS) {
            secrets.put("issued token " + token, token);
            secrets.put("base64 of issued token " + token, b64(token));
        }
        for (String id : clusterIds) {
            secrets.put("admin token of " + id, "admin-" + id);
            secrets.put("base64 of admin token of " + id, b64("admin-" + id));
        }
        return secrets;
    }

    private static void assertNoSecretIn(String where, List<String> haystack, Map<String, String> secrets) {
        for (String text : haystack) {
            Optional<Map.Entry<String, String>> leaked = secrets.entrySet().stream()
                    .filter(s -> text.contains(s.getValue())).findFirst();
            assertThat(leaked).as("%s leak %s in: %s", where, leaked.map(Map.Entry::getKey).orElse(""), text).isEmpty();
        }
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }
}

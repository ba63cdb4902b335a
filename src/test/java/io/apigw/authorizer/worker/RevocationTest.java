package io.apigw.authorizer.worker;

import static io.apigw.authorizer.testing.Requests.request;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import jakarta.enterprise.inject.Any;
import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.apigw.authorizer.testing.InMemoryChannels;
import io.apigw.authorizer.testing.Requests;
import io.apigw.authorizer.testing.Requests.Published;
import io.apigw.authorizer.testing.TargetCluster;
import io.apigw.authorizer.testing.TargetCluster.TokenController;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.restassured.RestAssured;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import io.smallrye.reactive.messaging.memory.InMemoryConnector;

/**
 * Pending revocations are never dropped and never fail other requests (issue 26). G6 (the security review's test, its
 * assertions kept): an authorize that renews the token (authorizer.rotation.max-age) records its own revocation, and
 * used to write it over an earlier rotation's pending one, so the token the rotation promised to revoke was recorded
 * nowhere and, being the oldest, stored again. G9: a due revocation that the cluster refuses is retried later and
 * counted; the cluster's check is still answered.
 */
@QuarkusTest
@WithKubernetesTestServer
@QuarkusTestResource(value = InMemoryChannels.class, restrictToAnnotatedClass = true)
@TestProfile(RevocationTest.ShortMaxAge.class)
class RevocationTest {

    public static class ShortMaxAge implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("authorizer.rotation.max-age", "3s");
        }
    }

    @Inject
    @Any
    InMemoryConnector connector;

    @Inject
    KubernetesClient ownCluster;

    Requests requests;
    TargetCluster cluster;

    @BeforeEach
    void setUp() {
        requests = new Requests(connector);
        cluster = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY);
    }

    @AfterEach
    void tearDown() {
        cluster.close();
    }

    private Published send(String type, String extra) {
        String requestId = "req-" + UUID.randomUUID();
        requests.sendBinary(cluster.clusterId, request(requestId, cluster.clusterId).replace("}", extra + "}"), type);
        return requests.awaitResult(requestId);
    }

    private Map<String, String> credentialAnnotations() {
        Secret s = ownCluster.secrets().inNamespace("apigw-system").withName("apigw-cluster-" + cluster.clusterId)
                .get();
        return s.getMetadata().getAnnotations();
    }

    private List<String> tokenSecrets() {
        return cluster.client.secrets().inNamespace("kube-system").list().getItems().stream()
                .map(s -> s.getMetadata().getName()).filter(n -> n.startsWith("apigw-ingress-token-")).toList();
    }

    @Test
    void aRenewingAuthorizeNeverDropsAnEarlierRotationsPendingRevocation() throws Exception {
        Published first = send("ClusterAuthorizationRequested", "");
        String t0 = first.body().get("tokenSecret").asText();
        Thread.sleep(1200); // creation timestamps have second precision

        Published rotated = send("ClusterCredentialRotationRequested", ",\"grace\":\"PT1H\"");
        assertThat(rotated.header("ce_type")).as(rotated.body().toString()).isEqualTo("CredentialRotated");
        assertThat(credentialAnnotations()).containsEntry("apigw.tencent.com/revoke-token-secret", t0);
        String tRotated = rotated.body().get("tokenSecret").asText();
        Thread.sleep(4200); // the rotated token is now older than rotation.max-age (3s)

        Published renewing = send("ClusterAuthorizationRequested", "");
        assertThat(renewing.body().path("tokenSecret").asText()).as("the renewing authorize's token")
                .isNotEqualTo(tRotated);
        Map<String, String> after = credentialAnnotations();
        Published next = send("ClusterAuthorizationRequested", "");
        assertThat(next.header("ce_type")).isEqualTo("Authorized");

        boolean t0Gone = !tokenSecrets().contains(t0);
        boolean t0StillPending = t0.equals(after.get("apigw.tencent.com/revoke-token-secret"));
        assertThat(t0Gone || t0StillPending).as("t0 is revoked or still recorded for revocation").isTrue();
        assertThat(credentialAnnotations().get("apigw.tencent.com/token-secret")).as("the stored token Secret")
                .isNotEqualTo(t0);
    }

    @Test
    void aDueRevocationTheClusterRefusesIsRetriedLaterAndTheChecksAreStillAnswered() throws Exception {
        Published first = send("ClusterAuthorizationRequested", "");
        String t0 = first.body().get("tokenSecret").asText();
        cluster.server.expect().delete().withPath("/api/v1/namespaces/kube-system/secrets/" + t0)
                .andReturn(403, new StatusBuilder().withCode(403).withReason("Forbidden")
                        .withMessage("secrets \"" + t0 + "\" is forbidden: denied by an admission policy").build())
                .always();
        Published rotated = send("ClusterCredentialRotationRequested", ",\"grace\":\"PT1S\"");
        assertThat(rotated.header("ce_type")).as(rotated.body().toString()).isEqualTo("CredentialRotated");
        Thread.sleep(2500); // the revocation is due, and its timer has failed once

        Published check = send("ClusterAuthorizationCheckRequested", "");

        assertThat(check.header("ce_type")).as(check.body().toString()).isEqualTo("Authorized");
        assertThat(credentialAnnotations()).as("the revocation stays recorded")
                .containsEntry("apigw.tencent.com/revoke-token-secret", t0);
        assertThat(tokenSecrets()).contains(t0);
        String metrics = RestAssured.get("/q/metrics").asString();
        assertThat(metrics.lines().filter(l -> l.startsWith("authorizer_revocations_failed_total"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum())
                .as("failed revocations counted").isGreaterThanOrEqualTo(2);
    }
}

package io.apigw.authorizer.worker;

import static org.assertj.core.api.Assertions.assertThat;

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
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import io.smallrye.reactive.messaging.memory.InMemoryConnector;

/**
 * A stored credential belongs to the tenant whose request stored it (issue 26, G1): a request of another appId or
 * owner uin that names the cluster, even one the directory finds, reads, changes and deletes nothing of it and is
 * answered as an unknown cluster. The directory here is a kubeconfig, which finds every cluster for everyone: what is
 * left to keep tenants apart is the tenant recorded on the credential.
 */
@QuarkusTest
@WithKubernetesTestServer
@QuarkusTestResource(value = InMemoryChannels.class, restrictToAnnotatedClass = true)
class TenantIsolationTest {

    static final String OWNER = "1251111111";
    static final String OTHER = "1252222222";

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

    private Published send(String type, String appId, String ownerUin) {
        String requestId = "req-" + UUID.randomUUID();
        requests.sendBinary(cluster.clusterId, "{\"requestId\":\"" + requestId + "\",\"clusterId\":\""
                + cluster.clusterId + "\",\"region\":\"ap-guangzhou\"" + (appId == null ? "" : ",\"appId\":\"" + appId
                        + "\"") + (ownerUin == null ? "" : ",\"ownerUin\":\"" + ownerUin + "\"") + "}", type);
        return requests.awaitResult(requestId);
    }

    private Secret stored() {
        return ownCluster.secrets().inNamespace("apigw-system").withName("apigw-cluster-" + cluster.clusterId).get();
    }

    @Test
    void anotherTenantsRequestsLeaveTheCredentialAsItWasAndLearnOnlyThatTheClusterIsNotFound() {
        assertThat(send("ClusterAuthorizationRequested", OWNER, "100000000001").header("ce_type"))
                .isEqualTo("Authorized");
        Secret before = stored();

        for (String type : new String[] {"ClusterAuthorizationCheckRequested", "ClusterAuthorizationRequested",
                "ClusterCredentialRotationRequested", "ClusterDeauthorizationRequested"}) {
            for (String[] tenant : new String[][] {{OTHER, null}, {null, null}, {OWNER, "100000000002"}}) {
                Published result = send(type, tenant[0], tenant[1]);
                assertThat(result.header("ce_type")).as("%s by appId %s ownerUin %s", type, tenant[0], tenant[1])
                        .isEqualTo("Failed");
                assertThat(result.body().get("code").asText()).isEqualTo("CLUSTER_NOT_FOUND");
                assertThat(result.body().get("retryable").asBoolean()).isFalse();
                assertThat(result.body().toString()).doesNotContain(OWNER).doesNotContain("100000000001")
                        .doesNotContain(before.getMetadata().getAnnotations().get("apigw.tencent.com/token-secret"));
            }
        }
        Secret after = stored();
        assertThat(after.getMetadata().getResourceVersion()).isEqualTo(before.getMetadata().getResourceVersion());
        assertThat(after.getData()).isEqualTo(before.getData());

        Published owners = send("ClusterAuthorizationCheckRequested", OWNER, "100000000001");
        assertThat(owners.header("ce_type")).as("the owner's check afterwards: %s", owners.body())
                .isEqualTo("Authorized");
        assertThat(send("ClusterDeauthorizationRequested", OWNER, "100000000001").header("ce_type"))
                .isEqualTo("Deauthorized");
        assertThat(stored()).isNull();
    }

    @Test
    void aDeauthorizeOfAClusterTheDirectoryNoLongerFindsStillRemovesTheTenantsOwnCredential() {
        assertThat(send("ClusterAuthorizationRequested", OWNER, null).header("ce_type")).isEqualTo("Authorized");
        TargetCluster.disablePrivateAccess(cluster.clusterId);

        Published other = send("ClusterDeauthorizationRequested", OTHER, null);
        assertThat(other.header("ce_type")).isEqualTo("Failed");
        assertThat(other.body().get("code").asText()).isEqualTo("CLUSTER_NOT_FOUND");
        assertThat(stored()).as("the stored credential after another tenant's deauthorize").isNotNull();

        Published own = send("ClusterDeauthorizationRequested", OWNER, null);
        assertThat(own.header("ce_type")).isEqualTo("Deauthorized");
        assertThat(stored()).as("the stored credential after its tenant's deauthorize").isNull();
    }
}

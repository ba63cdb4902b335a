package io.apigw.authorizer.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.UUID;

import jakarta.enterprise.inject.Any;
import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.apigw.authorizer.policy.Policy;
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
 * Only the configured rollout moves a cluster to another policy version (issue 26, G11): a conditional authorize that
 * names the credential's version and a policyVersion that is neither the configured one nor the cluster's own changes
 * nothing.
 */
@QuarkusTest
@WithKubernetesTestServer
@QuarkusTestResource(value = InMemoryChannels.class, restrictToAnnotatedClass = true)
class RolloutAuthorityTest {

    @Inject
    @Any
    InMemoryConnector connector;

    @Inject
    KubernetesClient ownCluster;

    TargetCluster cluster;

    @AfterEach
    void tearDown() {
        cluster.close();
    }

    @Test
    void aPolicyVersionOtherThanTheConfiguredOneIsRefusedWithNothingChanged() {
        Requests requests = new Requests(connector);
        cluster = TargetCluster.start("v1.28.3", TokenController.FILL_ONLY);
        String authorize = "req-" + UUID.randomUUID();
        requests.sendBinary(cluster.clusterId, Requests.request(authorize, cluster.clusterId));
        assertThat(requests.awaitResult(authorize).body().get("policyVersion").asInt()).isEqualTo(1);
        Secret before = ownCluster.secrets().inNamespace("apigw-system")
                .withName("apigw-cluster-" + cluster.clusterId).get();

        String rollout = "req-" + UUID.randomUUID();
        requests.sendBinary(cluster.clusterId, "{\"requestId\":\"" + rollout + "\",\"clusterId\":\""
                + cluster.clusterId + "\",\"region\":\"ap-guangzhou\",\"trigger\":\"rollout\",\"ifCredentialVersion\":\""
                + before.getMetadata().getResourceVersion() + "\",\"policyVersion\":2}");
        Published result = requests.awaitResult(rollout);

        assertThat(result.header("ce_type")).as("%s", result.body()).isEqualTo("Failed");
        assertThat(result.body().get("code").asText()).isEqualTo("CONFLICT");
        assertThat(result.body().get("message").asText()).contains("policyVersion 2", "nothing was changed");
        assertThat(cluster.client.rbac().clusterRoles().withName("apigw-ingress-clusterrole").get().getRules())
                .isEqualTo(Policy.V1.rules());
        assertThat(ownCluster.secrets().inNamespace("apigw-system").withName("apigw-cluster-" + cluster.clusterId)
                .get().getMetadata().getResourceVersion()).isEqualTo(before.getMetadata().getResourceVersion());
    }
}

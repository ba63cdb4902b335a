package io.apigw.authorizer.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import jakarta.inject.Inject;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import io.apigw.authorizer.credential.CredentialStore;
import io.apigw.authorizer.credential.CredentialStore.Registered;
import io.apigw.authorizer.testing.InMemoryChannels;
import io.apigw.authorizer.marks.Marks;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;

/**
 * Issue 26, G10: a wave a sweeper started and never judged (it stopped, or lost the Lease, mid-wave) is judged by
 * the next leader at the start of its next sweep, with the pause rule: here its one cluster never moved, so the
 * rollout pauses and the record is gone.
 */
@QuarkusTest
@WithKubernetesTestServer
@QuarkusTestResource(value = InMemoryChannels.class, restrictToAnnotatedClass = true)
@TestProfile(InheritedWaveTest.RollingOut.class)
class InheritedWaveTest {

    public static class RollingOut implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("authorizer.sweep.interval", "3s", "authorizer.sweep.repair", "true",
                    "authorizer.policy.version", "2", "authorizer.rollout.wave-timeout", "1s",
                    "authorizer.rollout.failure-threshold", "0", "authorizer.sweep.lease.duration", "4s",
                    "authorizer.sweep.lease.renew-deadline", "3s", "authorizer.sweep.lease.retry-period", "1s");
        }
    }

    private static final String NS = "apigw-system";
    private static final String LEASE = "apigw-tke-authorizer-sweeper";
    private static final String CLUSTER = "cls-left-in-flight";

    @Inject
    KubernetesClient ownCluster;

    @Test
    void aWaveLeftInFlightIsJudgedByTheNextSweepAndItsFailurePausesTheRollout() {
        String version = ownCluster.secrets().inNamespace(NS).resource(new SecretBuilder().withNewMetadata()
                .withNamespace(NS).withName(CredentialStore.NAME_PREFIX + CLUSTER)
                .addToLabels(Marks.CLUSTER_ID, CLUSTER)
                .addToLabels(Marks.POLICY_VERSION, "1").endMetadata()
                .addToData("token", "dG9rZW4=").build()).create().getMetadata().getResourceVersion();
        Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> lease() != null);
        // As a sweeper that lost the Lease left it: its wave sent, never judged.
        RolloutLease.Wave left = RolloutLease.Wave.of("20261205T000000Z", 2, Instant.now().plusSeconds(1),
                List.of(new Registered(CLUSTER, Optional.empty(), Optional.empty(), Optional.empty(), 1,
                        Optional.empty(), Optional.empty(), version)));
        ownCluster.leases().inNamespace(NS).withName(LEASE).patch(PatchContext.of(PatchType.JSON_MERGE),
                new LeaseBuilder().withNewMetadata().addToAnnotations(Marks.ROLLOUT_WAVE, left.format())
                        .endMetadata().build());

        Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
                .until(() -> annotations().containsKey(Marks.ROLLOUT_PAUSED));

        assertThat(annotations().get(Marks.ROLLOUT_PAUSED))
                .contains("1 of 1 clusters of a wave failed to move to policy v2", "sweep 20261205T000000Z", CLUSTER);
        Awaitility.await().atMost(Duration.ofSeconds(5))
                .until(() -> !annotations().containsKey(Marks.ROLLOUT_WAVE));
    }

    private Lease lease() {
        return ownCluster.leases().inNamespace(NS).withName(LEASE).get();
    }

    private Map<String, String> annotations() {
        Map<String, String> a = lease().getMetadata().getAnnotations();
        return a == null ? Map.of() : a;
    }
}

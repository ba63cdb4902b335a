package io.apigw.authorizer.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.apigw.authorizer.credential.CredentialStore.Registered;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import org.assertj.core.groups.Tuple;

/**
 * One sweeper starts waves, also when the replicas' clocks disagree (issue 26, G10): a wave is recorded on the Lease
 * before it starts, and only while the Lease names the replica as holder; the next leader finds a wave that was
 * started and not judged.
 */
class RolloutLeaseTest {

    private static final String NS = "apigw-system";
    private static final String NAME = "apigw-tke-authorizer-sweeper";

    KubernetesMockServer server;
    KubernetesClient client;

    @BeforeEach
    void setUp() {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new KubernetesCrudDispatcher(), false);
        server.init();
        client = server.createClient();
        client.leases().inNamespace(NS).resource(new LeaseBuilder().withNewMetadata().withNamespace(NS)
                .withName(NAME).endMetadata().withNewSpec().withHolderIdentity("a").withLeaseDurationSeconds(15)
                .endSpec().build()).create();
    }

    @AfterEach
    void tearDown() {
        client.close();
        server.destroy();
    }

    private static RolloutLease.Wave wave(String... clusters) {
        return RolloutLease.Wave.of("20261205T060000Z", 2, Instant.parse("2026-12-05T06:10:00Z"), List.of(clusters)
                .stream().map(id -> new Registered(id, Optional.empty(), Optional.empty(), Optional.empty(), 1,
                        Optional.empty(), Optional.empty(), "rv-" + id.length())).toList());
    }

    private Lease lease() {
        return client.leases().inNamespace(NS).withName(NAME).get();
    }

    @Test
    void theHolderRecordsItsWaveAndTheNextLeaderFindsIt() {
        RolloutLease.Wave wave = wave("cls-a", "cls-bb");

        assertThat(new RolloutLease(client, NS, NAME, "a").claim(wave)).isTrue();

        assertThat(new RolloutLease(client, NS, NAME, "b").inFlight()).contains(wave);
        assertThat(wave.clusters()).extracting(Registered::clusterId, Registered::version)
                .containsExactly(Tuple.tuple("cls-a", "rv-5"),
                        Tuple.tuple("cls-bb", "rv-6"));
    }

    @Test
    void aReplicaWhoseClockSaysItStillLeadsStartsNoWaveOnceAnotherHoldsTheLease() {
        // b judged a's Lease expired by its own clock and took it over; a's clock says a still leads.
        client.leases().inNamespace(NS).resource(new LeaseBuilder(lease()).editSpec().withHolderIdentity("b")
                .endSpec().build()).update();
        String before = lease().getMetadata().getResourceVersion();

        assertThat(new RolloutLease(client, NS, NAME, "a").claim(wave("cls-a"))).isFalse();

        assertThat(lease().getMetadata().getResourceVersion()).as("a wrote nothing").isEqualTo(before);
        assertThat(new RolloutLease(client, NS, NAME, "b").inFlight()).isEmpty();
    }

    @Test
    void aJudgedWaveIsRemovedButAnotherWaveRecordedSinceStays() {
        RolloutLease a = new RolloutLease(client, NS, NAME, "a");
        RolloutLease.Wave first = wave("cls-a");
        RolloutLease.Wave second = wave("cls-bb");
        a.claim(first);
        a.claim(second);

        a.judged(first);
        assertThat(a.inFlight()).contains(second);
        a.judged(second);
        assertThat(a.inFlight()).isEmpty();
        assertThat(lease().getSpec().getHolderIdentity()).isEqualTo("a");
    }

    @Test
    void aWaveNarrowedToTheClustersSentReplacesItsClaim() {
        RolloutLease a = new RolloutLease(client, NS, NAME, "a");
        RolloutLease.Wave claimed = wave("cls-a", "cls-bb");
        RolloutLease.Wave sent = wave("cls-a");
        a.claim(claimed);

        assertThat(a.replace(claimed, sent)).isTrue();
        assertThat(new RolloutLease(client, NS, NAME, "b").inFlight()).contains(sent);
        assertThat(new RolloutLease(client, NS, NAME, "b").replace(sent, claimed)).as("not the holder").isFalse();
    }

    @Test
    void thePauseIsRecordedOnceAndAnOperatorsReasonIsKept() {
        RolloutLease a = new RolloutLease(client, NS, NAME, "a");
        a.pause("an operator: change window");
        a.pause("2 of 2 clusters of a wave failed");

        assertThat(a.pause()).contains("an operator: change window");
    }

    @Test
    void aValueTheWorkerDidNotWriteIsNoWave() {
        for (String garbled : List.of("", "soon", "20261205T060000Z v2 2026-12-05T06:10:00Z",
                "20261205T060000Z v0 2026-12-05T06:10:00Z cls-a=1", "20261205T060000Z v2 later cls-a=1",
                "20261205T060000Z v2 2026-12-05T06:10:00Z cls-a=")) {
            assertThat(RolloutLease.Wave.parse(garbled)).as(garbled).isEmpty();
        }
        RolloutLease.Wave wave = wave("cls-a", "cls-bb");
        assertThat(RolloutLease.Wave.parse(wave.format())).contains(wave);
        assertThat(wave.format()).isEqualTo("20261205T060000Z v2 2026-12-05T06:10:00Z cls-a=rv-5,cls-bb=rv-6");
    }
}

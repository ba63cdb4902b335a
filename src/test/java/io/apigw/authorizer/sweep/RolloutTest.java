package io.apigw.authorizer.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.apigw.authorizer.credential.CredentialStore.Registered;

/** The rollout's decisions as values: which clusters a wave moves, and when a wave pauses the rollout. */
class RolloutTest {

    private static final String SWEEP = "20261202T180000Z";

    private static Registered cluster(String id, int policy, String state, String version) {
        return new Registered(id, Optional.empty(), Optional.empty(), Optional.empty(), policy, Optional.of(SWEEP),
                Optional.ofNullable(state), version);
    }

    @Test
    void aWaveTakesAuthorizedClustersOffTargetInIdOrderUpToItsSize() {
        List<Registered> registry = List.of(cluster("cls-d", 1, "authorized", "4"), cluster("cls-a", 1, "authorized",
                "1"), cluster("cls-b", 2, "authorized", "2"), cluster("cls-c", 1, "drifted", "3"),
                cluster("cls-e", 1, "authorized", "5"), cluster("cls-f", 1, "authorized", "6"));

        assertThat(Rollout.nextWave(registry, SWEEP, 2, 2, Set.of(), Set.of())).extracting(Registered::clusterId)
                .as("on target (b) and broken this sweep (c) are left out").containsExactly("cls-a", "cls-d");
        assertThat(Rollout.nextWave(registry, SWEEP, 2, 2, Set.of("cls-a", "cls-d"), Set.of()))
                .extracting(Registered::clusterId).containsExactly("cls-e", "cls-f");
        assertThat(Rollout.nextWave(registry, SWEEP, 1, 10, Set.of(), Set.of())).extracting(Registered::clusterId)
                .as("a rollout back to v1 moves the clusters on v2").containsExactly("cls-b");
    }

    @Test
    void clustersThatFailedToMoveBeforeComeLast() {
        List<Registered> registry = List.of(cluster("cls-a", 1, "authorized", "1"), cluster("cls-b", 1, "authorized",
                "2"), cluster("cls-c", 1, "authorized", "3"));
        assertThat(Rollout.nextWave(registry, SWEEP, 2, 2, Set.of(), Set.of("cls-a")))
                .extracting(Registered::clusterId).containsExactly("cls-b", "cls-c");
        assertThat(Rollout.nextWave(registry, SWEEP, 2, 3, Set.of(), Set.of("cls-a")))
                .extracting(Registered::clusterId).as("still tried, once the others have had their turn").containsExactly("cls-b", "cls-c", "cls-a");
    }

    @Test
    void aClusterWithoutThisSweepsVerdictWaitsForTheNext() {
        Registered earlier = new Registered("cls-a", Optional.empty(), Optional.empty(), Optional.empty(), 1,
                Optional.of("20261202T170000Z"), Optional.of("authorized"), "1");
        assertThat(Rollout.nextWave(List.of(earlier), SWEEP, 2, 10, Set.of(), Set.of())).isEmpty();
    }

    @Test
    void aWaveSortsItsClustersIntoMovedSupersededAndPending() {
        List<Registered> sent = List.of(cluster("cls-a", 1, "authorized", "1"), cluster("cls-b", 1, "authorized", "2"),
                cluster("cls-c", 1, "authorized", "3"), cluster("cls-d", 1, "authorized", "4"));
        List<Registered> now = List.of(cluster("cls-a", 2, "authorized", "10"), cluster("cls-b", 1, "authorized", "2"),
                cluster("cls-c", 1, "authorized", "11"));

        Rollout.Wave wave = Rollout.Wave.of(sent, now, 2);

        assertThat(wave.moved()).containsExactly("cls-a");
        assertThat(wave.pending()).containsExactly("cls-b");
        assertThat(wave.superseded()).as("changed otherwise (c) or deauthorized (d)")
                .containsExactlyInAnyOrder("cls-c", "cls-d");
        assertThat(wave.settled()).isFalse();
    }

    @Test
    void failuresAboveTheThresholdPauseSupersededOnesDoNotCount() {
        Rollout.Wave oneOfFive = new Rollout.Wave(List.of("a", "b", "c", "d"), List.of(), List.of("e"));
        assertThat(oneOfFive.pauses(0.2)).as("20% is not above 20%").isFalse();
        assertThat(oneOfFive.pauses(0.1)).isTrue();
        assertThat(new Rollout.Wave(List.of("a"), List.of("b", "c", "d"), List.of("e")).pauses(0.4))
                .as("1 of 2 judged").isTrue();
        assertThat(new Rollout.Wave(List.of(), List.of("a"), List.of()).pauses(0.0))
                .as("nothing judged, nothing to blame").isFalse();
        assertThat(new Rollout.Wave(List.of("a"), List.of(), List.of()).pauses(0.0)).isFalse();
    }
}

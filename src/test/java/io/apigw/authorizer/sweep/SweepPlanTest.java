package io.apigw.authorizer.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import io.apigw.authorizer.credential.CredentialStore.Registered;

class SweepPlanTest {

    private static Registered cluster(String id, String appId) {
        return Registered.of(id, Optional.of("ap-guangzhou"), Optional.ofNullable(appId), Optional.empty(), 1);
    }

    private static List<Registered> clusters(int n, String appId) {
        return IntStream.range(0, n).mapToObj(i -> cluster(appId + "-cls-" + i, appId)).toList();
    }

    @Test
    void checksAreSpreadEvenlyOverTheInterval() {
        SweepPlan plan = SweepPlan.of(clusters(60, "t1").stream().map(c -> cluster(c.clusterId(), null)).toList(),
                Duration.ofMinutes(60), 10, Optional.empty());

        assertThat(plan.slots()).hasSize(60);
        assertThat(plan.slots().get(1).at()).isEqualTo(Duration.ofMinutes(1));
        assertThat(plan.length()).isEqualTo(Duration.ofMinutes(59));
        assertThat(plan.overruns()).isFalse();
    }

    @Test
    void theGlobalRateBoundsHowCloseChecksGoAndTheSweepGrowsLongerRatherThanDroppingAny() {
        SweepPlan plan = SweepPlan.of(clusters(100, "t1").stream().map(c -> cluster(c.clusterId(), null)).toList(),
                Duration.ofSeconds(5), 10, Optional.empty());

        assertThat(plan.slots()).hasSize(100);
        assertThat(gaps(plan)).allSatisfy(g -> assertThat(g).isGreaterThanOrEqualTo(Duration.ofMillis(100)));
        assertThat(plan.length()).isEqualTo(Duration.ofMillis(9_900));
        assertThat(plan.overruns()).isTrue();
    }

    @Test
    void oneTenantNeverGetsMoreThanItsRateAndTenantsTakeTurns() {
        List<Registered> fleet = new ArrayList<>(clusters(30, "big"));
        fleet.addAll(clusters(3, "small"));

        SweepPlan plan = SweepPlan.of(fleet, Duration.ofSeconds(10), 100, Optional.of(1.0));

        Map<String, Duration> last = new HashMap<>();
        for (SweepPlan.Slot slot : plan.slots()) {
            String tenant = slot.target().appId().get();
            Duration previous = last.put(tenant, slot.at());
            if (previous != null) {
                assertThat(slot.at().minus(previous)).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
            }
        }
        // The small tenant is not queued behind the big one's 30 clusters.
        assertThat(plan.slots().subList(0, 6)).extracting(s -> s.target().appId().get())
                .containsExactly("big", "small", "big", "small", "big", "small");
        assertThat(plan.length()).isEqualTo(Duration.ofSeconds(29));
        assertThat(plan.overruns()).as("30 clusters of one tenant at 1/s do not fit in 10 s").isTrue();
        assertThat(plan.slots()).extracting(s -> s.at()).isSorted();
    }

    @Test
    void withoutTenantBudgetsOnlyTheGlobalRateApplies() {
        // One tenant, 10 clusters in 100 ms: only the global 50/s spaces them (20 ms), no tenant rate of 1/s.
        SweepPlan plan = SweepPlan.of(clusters(10, "one"), Duration.ofMillis(100), 50, Optional.empty());

        assertThat(plan.length()).isEqualTo(Duration.ofMillis(180));
        assertThat(plan.overruns()).isTrue();
    }

    @Test
    void anEmptyRegistryIsAnEmptyPlan() {
        SweepPlan plan = SweepPlan.of(List.of(), Duration.ofHours(1), 10, Optional.of(1.0));

        assertThat(plan.slots()).isEmpty();
        assertThat(plan.overruns()).isFalse();
    }

    private static List<Duration> gaps(SweepPlan plan) {
        List<Duration> gaps = new ArrayList<>();
        for (int i = 1; i < plan.slots().size(); i++) {
            gaps.add(plan.slots().get(i).at().minus(plan.slots().get(i - 1).at()));
        }
        return gaps;
    }
}

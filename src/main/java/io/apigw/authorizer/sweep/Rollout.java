package io.apigw.authorizer.sweep;

import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

import io.apigw.authorizer.credential.CredentialStore.Registered;

/**
 * The decisions of a policy rollout, without I/O: which clusters the next wave moves, and how a wave ended. Only
 * clusters that this sweep found authorized are moved, so that a failure in a wave is the new policy's doing, not a
 * cluster that was broken anyway; in order of cluster id, so that a resumed rollout goes on where it stopped.
 */
final class Rollout {

    private Rollout() {
    }

    /**
     * The next wave: up to {@code size} clusters not on {@code target} that the sweep {@code sweepId} found
     * authorized, leaving out those already sent in this sweep; those that failed to move before come last, so that
     * a few clusters that cannot move never fill the first wave of every sweep.
     */
    static List<Registered> nextWave(Collection<Registered> registry, String sweepId, int target, int size,
            Set<String> sent, Set<String> failedBefore) {
        return registry.stream()
                .filter(r -> r.policyVersion() != target && !sent.contains(r.clusterId()))
                .filter(r -> r.sweepId().equals(Optional.of(sweepId))
                        && r.sweepState().equals(Optional.of(SweepState.authorized.name())))
                .sorted(Comparator.comparing((Registered r) -> failedBefore.contains(r.clusterId()))
                        .thenComparing(Registered::clusterId))
                .limit(size)
                .toList();
    }

    /**
     * How a wave stands, from the registry now: each cluster {@code moved} (its credential records the target),
     * {@code superseded} (deleted, or its credential changed otherwise: the conditional authorize did nothing, and the
     * rollout is not to blame), or still {@code pending}.
     */
    record Wave(List<String> moved, List<String> superseded, List<String> pending) {

        static Wave of(List<Registered> sent, Collection<Registered> now, int target) {
            Map<String, Registered> byId = now.stream()
                    .collect(Collectors.toMap(Registered::clusterId, Function.identity(), (a, b) -> a));
            Map<String, List<String>> by = sent.stream().collect(Collectors.groupingBy(r -> {
                Registered current = byId.get(r.clusterId());
                if (current != null && current.policyVersion() == target) {
                    return "moved";
                }
                return current == null || !current.version().equals(r.version()) ? "superseded" : "pending";
            }, Collectors.mapping(Registered::clusterId, Collectors.toList())));
            return new Wave(by.getOrDefault("moved", List.of()), by.getOrDefault("superseded", List.of()),
                    by.getOrDefault("pending", List.of()));
        }

        boolean settled() {
            return pending.isEmpty();
        }

        /**
         * Whether the wave stops the rollout: pending clusters (at the wave's timeout) count as failed, superseded
         * ones not at all; a share of failures above {@code threshold} pauses.
         */
        boolean pauses(double threshold) {
            int judged = moved.size() + pending.size();
            return judged > 0 && (double) pending.size() / judged > threshold;
        }
    }
}

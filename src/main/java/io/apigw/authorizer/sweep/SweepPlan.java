package io.apigw.authorizer.sweep;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.apigw.authorizer.credential.CredentialStore.Registered;

/**
 * When each check of a sweep is sent, as a value: spread evenly over the time left, never faster than {@code rate}
 * per second, nor {@code tenantRate} per second for one tenant (appId). Tenants take turns, so a tenant with many
 * clusters is spread over the whole sweep rather than bunched. If the bounds do not let it fit, the plan is longer
 * than the time given ({@link #overruns()}); nothing is dropped.
 *
 * @param slots the checks, earliest first, each at its offset from the sweep's start
 */
public record SweepPlan(List<Slot> slots, Duration within) {

    public record Slot(Duration at, Registered target) {
    }

    /** @param tenantRate empty when the directory makes no per-tenant calls (the kubeconfig directory) */
    public static SweepPlan of(List<Registered> targets, Duration within, double rate, Optional<Double> tenantRate) {
        if (targets.isEmpty()) {
            return new SweepPlan(List.of(), within);
        }
        long minGap = nanosPer(rate);
        long even = within.toNanos() / targets.size();
        long gap = Math.max(even, minGap);
        long tenantGap = tenantRate.map(SweepPlan::nanosPer).orElse(0L);
        List<Slot> slots = new ArrayList<>(targets.size());
        Map<String, Long> lastOfTenant = new HashMap<>();
        long previous = -minGap;
        int i = 0;
        for (Registered target : takingTurns(targets)) {
            String tenant = target.appId().orElse("");
            long at = Math.max(i++ * gap, previous + minGap);
            Long last = lastOfTenant.get(tenant);
            if (last != null) {
                at = Math.max(at, last + tenantGap);
            }
            lastOfTenant.put(tenant, at);
            previous = at;
            slots.add(new Slot(Duration.ofNanos(at), target));
        }
        return new SweepPlan(List.copyOf(slots), within);
    }

    /** When the last check goes out. */
    public Duration length() {
        return slots.isEmpty() ? Duration.ZERO : slots.get(slots.size() - 1).at();
    }

    public boolean overruns() {
        return length().compareTo(within) > 0;
    }

    private static long nanosPer(double perSecond) {
        return perSecond <= 0 ? 0 : (long) (1_000_000_000L / perSecond);
    }

    /** One of each tenant's clusters in turn, tenants in order of first appearance. */
    private static List<Registered> takingTurns(List<Registered> targets) {
        Map<String, Deque<Registered>> byTenant = new LinkedHashMap<>();
        for (Registered t : targets) {
            byTenant.computeIfAbsent(t.appId().orElse(""), k -> new ArrayDeque<>()).add(t);
        }
        List<Registered> order = new ArrayList<>(targets.size());
        while (order.size() < targets.size()) {
            for (Deque<Registered> q : byTenant.values()) {
                if (!q.isEmpty()) {
                    order.add(q.poll());
                }
            }
        }
        return order;
    }
}

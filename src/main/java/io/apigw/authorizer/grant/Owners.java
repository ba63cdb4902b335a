package io.apigw.authorizer.grant;

import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.apigw.authorizer.marks.Marks;

/**
 * Who relies on a cluster's reserved resources, as marked on the ServiceAccount {@code kube-system/apigw-ingress}: the
 * gateway instances that authorized it ({@code authorizer.instance-id}), and {@value #PRE_EXISTING} when the account
 * was there before any of them (a user's own, or another tool's). The four resources and their token are shared by
 * everyone marked, so a deauthorize removes them only when nobody else is. A value: decided without a server.
 *
 * @param managed the account carries the worker's managed-by label (made by a worker, perhaps before v1.5, when no
 *        owner was marked yet: then it counts as the current instance's own)
 * @param policies the policy version each instance relies on, as it recorded it (issue 26, G3); an instance that
 *        recorded none (a v1.5 worker) relies on whatever the ClusterRole has
 */
public record Owners(SortedSet<String> ids, boolean managed, SortedMap<String, Integer> policies) {

    /** The mark of an account that no gateway instance made. */
    public static final String PRE_EXISTING = "pre-existing";

    public Owners {
        ids = Collections.unmodifiableSortedSet(new TreeSet<>(ids));
        policies = Collections.unmodifiableSortedMap(new TreeMap<>(policies));
    }

    static Owners of(ServiceAccount sa) {
        if (sa == null) {
            return new Owners(new TreeSet<>(), true, new TreeMap<>()); // no account: nobody relies on anything
        }
        Map<String, String> annotations = sa.getMetadata().getAnnotations();
        Map<String, String> labels = sa.getMetadata().getLabels();
        String marked = annotations == null ? null : annotations.get(Marks.OWNERS);
        SortedSet<String> ids = marked == null ? new TreeSet<>()
                : Arrays.stream(marked.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                        .collect(Collectors.toCollection(TreeSet::new));
        boolean managed = labels != null && ReservedResources.LABELS.entrySet().stream()
                .allMatch(l -> l.getValue().equals(labels.get(l.getKey())));
        return new Owners(ids, managed, policies(annotations == null ? null : annotations.get(Marks.OWNER_POLICIES)));
    }

    /** A garbled entry is left out: that instance then relies on whatever the ClusterRole has. */
    private static SortedMap<String, Integer> policies(String recorded) {
        SortedMap<String, Integer> policies = new TreeMap<>();
        for (String entry : recorded == null ? new String[0] : recorded.split(",")) {
            int eq = entry.indexOf('=');
            if (eq > 0) {
                try {
                    policies.put(entry.substring(0, eq).trim(), Integer.parseInt(entry.substring(eq + 1).trim()));
                } catch (NumberFormatException e) {
                    // left out
                }
            }
        }
        return policies;
    }

    /** The version {@code self} recorded, if any. */
    Optional<Integer> policyOf(String self) {
        return Optional.ofNullable(policies.get(self));
    }

    /**
     * The highest policy version another instance relies on: what it recorded, or {@code unrecorded} for one that
     * recorded none; empty when no other instance is marked.
     */
    OptionalInt highestOfOthers(String self, int unrecorded) {
        return otherInstances(self).stream().mapToInt(id -> policies.getOrDefault(id, unrecorded)).max();
    }

    /** The versions once {@code self} has recorded {@code version}, of instances still marked. */
    String policiesWith(String self, int version) {
        SortedMap<String, Integer> all = new TreeMap<>(policies);
        all.keySet().retainAll(otherInstances(self));
        all.put(self, version);
        return format(all);
    }

    /** The versions once {@code self} has gone. */
    String policiesLeft(String self) {
        SortedMap<String, Integer> all = new TreeMap<>(policies);
        all.keySet().retainAll(otherInstances(self));
        return format(all);
    }

    private static String format(SortedMap<String, Integer> policies) {
        return policies.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(","));
    }

    boolean includes(String self) {
        return ids.contains(self);
    }

    /** Everyone but {@code self} who relies on the resources; an unmarked account made by nobody we know is pre-existing. */
    public Set<String> others(String self) {
        SortedSet<String> others = new TreeSet<>(ids);
        others.remove(self);
        if (ids.isEmpty() && !managed) {
            others.add(PRE_EXISTING);
        }
        return others;
    }

    /**
     * The other gateway instances that rely on the resources: they hold the same token, so it is never rotated under
     * them. An account that was there before counts for deletion only: its token is renewed like ours.
     */
    public Set<String> otherInstances(String self) {
        SortedSet<String> instances = new TreeSet<>(ids);
        instances.remove(self);
        instances.remove(PRE_EXISTING);
        return instances;
    }

    /** The mark once {@code self} has authorized: an account made by nobody we know stays marked pre-existing. */
    String joined(String self) {
        SortedSet<String> all = new TreeSet<>(others(self));
        all.add(self);
        return String.join(",", all);
    }

    /** The mark once {@code self} has gone. */
    String left(String self) {
        return String.join(",", others(self));
    }
}

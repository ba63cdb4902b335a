package io.apigw.authorizer.grant;

import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.stream.Collectors;

import io.fabric8.kubernetes.api.model.ServiceAccount;

/**
 * Who relies on a cluster's reserved resources, as marked on the ServiceAccount {@code kube-system/apigw-ingress}: the
 * gateway instances that authorized it ({@code authorizer.instance-id}), and {@value #PRE_EXISTING} when the account
 * was there before any of them (a user's own, or another tool's). The four resources and their token are shared by
 * everyone marked, so a deauthorize removes them only when nobody else is. A value: decided without a server.
 *
 * @param managed the account carries the worker's managed-by label (made by a worker, perhaps before v1.5, when no
 *        owner was marked yet: then it counts as the current instance's own)
 */
public record Owners(SortedSet<String> ids, boolean managed) {

    public static final String ANNOTATION = "apigw.tencent.com/owners";
    public static final String APP_ID_ANNOTATION = "apigw.tencent.com/app-id";
    /** The mark of an account that no gateway instance made. */
    public static final String PRE_EXISTING = "pre-existing";

    public Owners {
        ids = Collections.unmodifiableSortedSet(new TreeSet<>(ids));
    }

    static Owners of(ServiceAccount sa) {
        if (sa == null) {
            return new Owners(new TreeSet<>(), true); // no account: nobody relies on anything
        }
        Map<String, String> annotations = sa.getMetadata().getAnnotations();
        Map<String, String> labels = sa.getMetadata().getLabels();
        String marked = annotations == null ? null : annotations.get(ANNOTATION);
        SortedSet<String> ids = marked == null ? new TreeSet<>()
                : Arrays.stream(marked.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                        .collect(Collectors.toCollection(TreeSet::new));
        boolean managed = labels != null && ReservedResources.LABELS.entrySet().stream()
                .allMatch(l -> l.getValue().equals(labels.get(l.getKey())));
        return new Owners(ids, managed);
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

package io.apigw.authorizer.sweep;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import io.apigw.authorizer.credential.CredentialStore.Registered;
import io.apigw.authorizer.timing.Watchdog;
import io.apigw.authorizer.marks.Marks;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;

/**
 * The rollout's state on the sweeper Lease, where it outlives a leader: the pause (an operator's or a failed wave's)
 * and the wave in flight. A wave starts only after this replica has recorded it on the Lease while the Lease names it
 * as holder, under the resourceVersion it read (issue 26, G10): a replica whose clock let it believe it still leads
 * after another took the Lease over finds another holder there and starts nothing, whatever the clocks say. The next
 * leader finds the wave a leader started and did not judge, and judges it.
 */
final class RolloutLease {


    /** Renewals come every retry period: a few tries get a write in between. */
    private static final int CONFLICT_TRIES = 5;

    private final KubernetesClient ownCluster;
    private final String namespace;
    private final String name;
    private final String identity;

    RolloutLease(KubernetesClient ownCluster, String namespace, String name, String identity) {
        this.ownCluster = ownCluster;
        this.namespace = namespace;
        this.name = name;
        this.identity = identity;
    }

    String name() {
        return name;
    }

    /**
     * A wave: the sweep that sent it, the policy version it moves to, when it has failed if not settled, and each
     * cluster with the version of its credential when the wave was sent.
     */
    record Wave(String sweepId, int target, Instant until, Map<String, String> sent) {

        static Wave of(String sweepId, int target, Instant until, List<Registered> clusters) {
            return new Wave(sweepId, target, until, clusters.stream().collect(Collectors.toMap(Registered::clusterId,
                    Registered::version, (a, b) -> a, LinkedHashMap::new)));
        }

        /** The clusters as the registry listed them when the wave was sent: what {@link Rollout.Wave} judges from. */
        List<Registered> clusters() {
            return sent.entrySet().stream().map(e -> new Registered(e.getKey(), Optional.empty(), Optional.empty(),
                    Optional.empty(), 0, Optional.empty(), Optional.empty(), e.getValue())).toList();
        }

        /** {@code <sweepId> v<target> <until> <clusterId>=<version>,…}: ids and versions hold no spaces or commas. */
        String format() {
            return sweepId + " v" + target + " " + until + " " + sent.entrySet().stream()
                    .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(","));
        }

        /** Empty for anything this worker did not write: such a value is ignored and replaced by the next wave. */
        static Optional<Wave> parse(String value) {
            String[] parts = value == null ? new String[0] : value.trim().split(" ");
            if (parts.length != 4 || !Sweeper.SWEEP_ID_PATTERN.matcher(parts[0]).matches()
                    || !parts[1].matches("v[1-9][0-9]{0,5}")) {
                return Optional.empty();
            }
            try {
                Instant until = Instant.parse(parts[2]);
                Map<String, String> sent = new LinkedHashMap<>();
                for (String pair : parts[3].split(",")) {
                    int eq = pair.indexOf('=');
                    if (eq < 1 || eq == pair.length() - 1) {
                        return Optional.empty();
                    }
                    sent.put(pair.substring(0, eq), pair.substring(eq + 1));
                }
                return Optional.of(new Wave(parts[0], Integer.parseInt(parts[1].substring(1)), until, sent));
            } catch (RuntimeException e) {
                return Optional.empty();
            }
        }
    }

    Optional<String> pause() {
        return annotation(Marks.ROLLOUT_PAUSED);
    }

    /**
     * Records the pause (a merge patch of the annotation alone, which the elector's renewals never conflict with),
     * unless one is recorded already: an operator's reason is not overwritten.
     */
    void pause(String why) {
        if (pause().isEmpty()) {
            bounded(() -> lease().patch(PatchContext.of(PatchType.JSON_MERGE), new LeaseBuilder().withNewMetadata()
                    .addToAnnotations(Marks.ROLLOUT_PAUSED, why).endMetadata().build()));
        }
    }

    /** The wave a leader started and has not judged yet, if any. */
    Optional<Wave> inFlight() {
        return annotation(Marks.ROLLOUT_WAVE).flatMap(Wave::parse);
    }

    /**
     * Records {@code wave} as in flight if, and only if, the Lease names this replica as its holder; a write that
     * conflicts (a renewal, or another replica taking the Lease) is judged again on what is there then.
     *
     * @return whether the wave may start
     */
    boolean claim(Wave wave) {
        return write(lease -> identity.equals(lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity()),
                annotations -> annotations.put(Marks.ROLLOUT_WAVE, wave.format()));
    }

    /** Records {@code now} in place of {@code claimed} (fewer clusters were sent), while this replica leads. */
    boolean replace(Wave claimed, Wave now) {
        return write(lease -> identity.equals(lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity())
                && claimed.format().equals(annotationsOf(lease).get(Marks.ROLLOUT_WAVE)),
                annotations -> annotations.put(Marks.ROLLOUT_WAVE, now.format()));
    }

    /** The wave has been judged: the record goes, unless it is another wave's by now. */
    void judged(Wave wave) {
        write(lease -> wave.format().equals(annotationsOf(lease).get(Marks.ROLLOUT_WAVE)),
                annotations -> annotations.remove(Marks.ROLLOUT_WAVE));
    }

    /**
     * Changes the Lease's annotations while {@code when} holds for it, under the resourceVersion read: a write that
     * conflicts (a renewal, or another replica taking the Lease over) is judged again on what is there then.
     *
     * @return whether it was written
     */
    private boolean write(Predicate<Lease> when, Consumer<Map<String, String>> change) {
        for (int tries = 0; tries < CONFLICT_TRIES; tries++) {
            Lease lease = bounded(() -> lease().get());
            if (lease == null || !when.test(lease)) {
                return false;
            }
            Map<String, String> annotations = new LinkedHashMap<>(annotationsOf(lease));
            change.accept(annotations);
            try {
                bounded(() -> ownCluster.leases().inNamespace(namespace).resource(new LeaseBuilder(lease)
                        .editMetadata().withAnnotations(annotations).endMetadata().build()).update());
                return true;
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409) {
                    throw e;
                }
            }
        }
        return false;
    }

    private static Map<String, String> annotationsOf(Lease lease) {
        return lease.getMetadata().getAnnotations() == null ? Map.of() : lease.getMetadata().getAnnotations();
    }

    private Optional<String> annotation(String key) {
        return Optional.ofNullable(bounded(() -> lease().get())).map(l -> annotationsOf(l).get(key));
    }

    /**
     * One call to the worker's own cluster, bounded as a whole (its client's retries included) like every other
     * (issue 26): a Lease call that hangs would hold the sweeper, and its stop, for as long.
     */
    private <T> T bounded(Supplier<T> call) {
        int requestTimeoutMs = ownCluster.getConfiguration().getRequestTimeout();
        try (Watchdog watchdog = Watchdog.start(Watchdog.forClient(requestTimeoutMs))) {
            return call.get();
        }
    }

    private Resource<Lease> lease() {
        return ownCluster.leases().inNamespace(namespace).withName(name);
    }
}

package io.apigw.authorizer.delivery;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Which offsets may be committed: per partition, a record is committed past only once it and every record received
 * before it are answered. Records may be answered in any order (different clusters run concurrently). Thread-safe.
 */
final class OffsetLedger {

    /** Per partition: the records received and not answered yet, and the highest offset received. */
    private static final class Partition {
        final TreeSet<Long> unanswered = new TreeSet<>();
        long highestReceived = -1;
        long committed = -1;

        /** The offset to commit: the first unanswered record, or the one after the last received. */
        long next() {
            return unanswered.isEmpty() ? highestReceived + 1 : unanswered.first();
        }
    }

    private final Map<TopicPartition, Partition> partitions = new HashMap<>();
    /** Revoked and not assigned again: a late record of one of them is its new owner's, not tracked here. */
    private final Set<TopicPartition> revoked = new HashSet<>();

    synchronized void received(TopicPartition tp, long offset) {
        if (revoked.contains(tp)) {
            return;
        }
        Partition p = partitions.computeIfAbsent(tp, k -> new Partition());
        p.unanswered.add(offset);
        p.highestReceived = Math.max(p.highestReceived, offset);
    }

    synchronized void answered(TopicPartition tp, long offset) {
        Partition p = partitions.get(tp);
        if (p != null) {
            p.unanswered.remove(offset);
        }
    }

    /** Partitions are assigned (again): tracked from their next record on; anything left of before is dropped. */
    synchronized void assigned(Collection<TopicPartition> assigned) {
        for (TopicPartition tp : assigned) {
            if (revoked.remove(tp)) {
                partitions.remove(tp);
            }
        }
    }

    /**
     * The offsets of {@code assigned} partitions that moved since they were last handed out; they count as
     * committed from now on.
     */
    synchronized Map<TopicPartition, OffsetAndMetadata> toCommit(Set<TopicPartition> assigned) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        partitions.forEach((tp, p) -> {
            if (!assigned.contains(tp)) {
                return;
            }
            long next = p.next();
            if (next > p.committed) {
                offsets.put(tp, new OffsetAndMetadata(next));
                p.committed = next;
            }
        });
        return offsets;
    }

    /** A commit of these partitions failed: hand their offsets out again next time. */
    synchronized void commitFailed(Collection<TopicPartition> failed) {
        failed.forEach(tp -> {
            Partition p = partitions.get(tp);
            if (p != null) {
                p.committed = -1;
            }
        });
    }

    /** Partitions go away: from now on their records are not tracked (the caller then waits for their work). */
    synchronized void revoked(Collection<TopicPartition> going) {
        revoked.addAll(going);
    }

    /** The final offsets of partitions that go away; they are forgotten. */
    synchronized Map<TopicPartition, OffsetAndMetadata> take(Collection<TopicPartition> going) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : going) {
            Partition p = partitions.remove(tp);
            if (p != null && p.highestReceived >= 0) {
                offsets.put(tp, new OffsetAndMetadata(p.next()));
            }
        }
        return offsets;
    }
}

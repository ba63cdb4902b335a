package io.apigw.authorizer.delivery;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
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

    synchronized void received(TopicPartition tp, long offset) {
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

    /** The offsets that moved since they were last handed out; they count as committed from now on. */
    synchronized Map<TopicPartition, OffsetAndMetadata> toCommit() {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        partitions.forEach((tp, p) -> {
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

    /** The final offsets of partitions that go away; they are forgotten. */
    synchronized Map<TopicPartition, OffsetAndMetadata> take(Collection<TopicPartition> revoked) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : revoked) {
            Partition p = partitions.remove(tp);
            if (p != null && p.highestReceived >= 0) {
                offsets.put(tp, new OffsetAndMetadata(p.next()));
            }
        }
        return offsets;
    }
}

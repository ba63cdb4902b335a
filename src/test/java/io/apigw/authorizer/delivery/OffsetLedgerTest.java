package io.apigw.authorizer.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** The commit decision: never past a record that is not answered, whatever order records are answered in. */
class OffsetLedgerTest {

    static final TopicPartition P0 = new TopicPartition("requests", 0);
    static final TopicPartition P1 = new TopicPartition("requests", 1);

    static final Set<TopicPartition> ALL = Set.of(P0, P1);

    final OffsetLedger ledger = new OffsetLedger();

    @Test
    void theCommitStopsAtTheFirstUnansweredRecordAndMovesWhenItIsAnswered() {
        for (long o = 10; o < 15; o++) {
            ledger.received(P0, o);
        }
        ledger.answered(P0, 10);
        ledger.answered(P0, 11);
        ledger.answered(P0, 13);
        ledger.answered(P0, 14);
        assertThat(ledger.toCommit(ALL)).containsExactly(Map.entry(P0, new OffsetAndMetadata(12)));

        ledger.answered(P0, 12);
        assertThat(ledger.toCommit(ALL)).containsExactly(Map.entry(P0, new OffsetAndMetadata(15)));
        assertThat(ledger.toCommit(ALL)).as("nothing moved since").isEmpty();
    }

    @Test
    void aReceivedRecordHoldsTheCommitEvenBeforeAnyIsAnswered() {
        ledger.received(P0, 7);
        assertThat(ledger.toCommit(ALL)).containsExactly(Map.entry(P0, new OffsetAndMetadata(7)));
        ledger.received(P0, 8);
        ledger.answered(P0, 8);
        assertThat(ledger.toCommit(ALL)).as("8 is answered, 7 is not").isEmpty();
    }

    @Test
    void partitionsAreIndependentAndGapsInOffsetsAreFine() {
        ledger.received(P0, 0);
        ledger.received(P1, 100);
        ledger.received(P1, 105); // compacted or transactional topics skip offsets
        ledger.answered(P1, 100);
        ledger.answered(P1, 105);
        assertThat(ledger.toCommit(ALL)).containsOnly(Map.entry(P0, new OffsetAndMetadata(0)),
                Map.entry(P1, new OffsetAndMetadata(106)));
    }

    @Test
    void aFailedCommitIsHandedOutAgain() {
        ledger.received(P0, 0);
        ledger.answered(P0, 0);
        assertThat(ledger.toCommit(ALL)).containsKey(P0);
        ledger.commitFailed(List.of(P0));
        assertThat(ledger.toCommit(ALL)).containsExactly(Map.entry(P0, new OffsetAndMetadata(1)));
    }

    @Test
    void onlyAssignedPartitionsAreCommitted() {
        ledger.received(P0, 0);
        ledger.received(P1, 0);
        assertThat(ledger.toCommit(Set.of(P1))).containsOnlyKeys(P1);
        assertThat(ledger.toCommit(ALL)).as("P0 is still handed out once assigned").containsOnlyKeys(P0);
    }

    @Test
    void aRecordOfARevokedPartitionThatArrivesLateIsNotTrackedNorCommittedWhenThePartitionComesBack() {
        ledger.received(P0, 5);
        ledger.answered(P0, 5);
        ledger.revoked(List.of(P0));
        assertThat(ledger.take(List.of(P0))).containsExactly(Map.entry(P0, new OffsetAndMetadata(6)));
        ledger.received(P0, 3); // fetched before the revocation, delivered after it

        ledger.assigned(List.of(P0));
        assertThat(ledger.toCommit(ALL)).as("nothing of before is handed out, least of all an older offset")
                .isEmpty();
        ledger.received(P0, 6);
        ledger.answered(P0, 6);
        assertThat(ledger.toCommit(ALL)).containsExactly(Map.entry(P0, new OffsetAndMetadata(7)));
    }

    @Test
    void aRevokedPartitionGivesItsLastOffsetOnceAndIsForgotten() {
        ledger.received(P0, 3);
        ledger.received(P0, 4);
        ledger.answered(P0, 3);
        assertThat(ledger.toCommit(ALL)).containsExactly(Map.entry(P0, new OffsetAndMetadata(4)));

        assertThat(ledger.take(List.of(P0, P1))).containsExactly(Map.entry(P0, new OffsetAndMetadata(4)));
        ledger.answered(P0, 4); // answered after the partition went away: its next owner decides
        assertThat(ledger.toCommit(ALL)).isEmpty();
    }
}

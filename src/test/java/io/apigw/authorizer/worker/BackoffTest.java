package io.apigw.authorizer.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

/** Exponential backoff with jitter in [ceiling/2, ceiling], the ceiling capped. */
class BackoffTest {

    private final Backoff backoff = new Backoff(5, Duration.ofMillis(200), Duration.ofSeconds(2));

    @RepeatedTest(20)
    void doublesPerAttemptWithinHalfToFullCeiling() {
        assertThat(backoff.after(1).toMillis()).isBetween(100L, 200L);
        assertThat(backoff.after(2).toMillis()).isBetween(200L, 400L);
        assertThat(backoff.after(3).toMillis()).isBetween(400L, 800L);
    }

    @RepeatedTest(20)
    void isCappedAndNeverOverflowsOnLateAttempts() {
        assertThat(backoff.after(5).toMillis()).isBetween(1000L, 2000L);
        assertThat(backoff.after(64).toMillis()).isBetween(1000L, 2000L);
    }

    @Test
    void aZeroInitialBackoffNeverWaits() {
        assertThat(new Backoff(3, Duration.ZERO, Duration.ofSeconds(1)).after(2)).isZero();
    }
}

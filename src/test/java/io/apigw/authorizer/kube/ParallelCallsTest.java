package io.apigw.authorizer.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.apigw.authorizer.testing.Configs;

/** Two calls at once: both always end before the caller goes on, so it knows what took effect. */
class ParallelCallsTest {

    private final ParallelCalls calls = new ParallelCalls(Configs.authorizer(Map.of()));

    @AfterEach
    void stop() {
        calls.stop();
    }

    @Test
    void bothRunAtOnce() throws Exception {
        CountDownLatch pooledStarted = new CountDownLatch(1);
        ParallelCalls.Outcome<Boolean> outcome = calls.both(pooledStarted::countDown,
                () -> await(pooledStarted)); // would time out if the two ran one after the other here

        assertThat(outcome.orThrow()).isTrue();
    }

    @Test
    void aFailureHereStillWaitsForTheCallThereAndReportsBoth() {
        AtomicBoolean thereFinished = new AtomicBoolean();
        ParallelCalls.Outcome<Object> outcome = calls.both(() -> {
            sleep(200);
            thereFinished.set(true);
        }, () -> {
            throw new IllegalStateException("here failed");
        });

        assertThat(thereFinished).as("the pooled call ended before both() returned").isTrue();
        assertThat(outcome.pooledFailure()).isNull();
        assertThatThrownBy(outcome::orThrow).hasMessage("here failed");
    }

    @Test
    void theFailureThereIsReportedWhenHereSucceeded() {
        ParallelCalls.Outcome<String> outcome = calls.both(() -> {
            throw new IllegalArgumentException("there failed");
        }, () -> "account");

        assertThat(outcome.value()).isEqualTo("account");
        assertThat(outcome.callerFailure()).isNull();
        assertThatThrownBy(outcome::orThrow).hasMessage("there failed");
    }

    @Test
    void aStoppedPoolRefusesInsteadOfLeavingTheCallerWaiting() {
        calls.stop();

        assertThatThrownBy(() -> calls.submit(() -> "read")).isInstanceOf(RejectedExecutionException.class);
    }

    private static boolean await(CountDownLatch latch) {
        try {
            return latch.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}

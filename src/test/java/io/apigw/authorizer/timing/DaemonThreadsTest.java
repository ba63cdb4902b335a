package io.apigw.authorizer.timing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.ThreadFactory;

import org.junit.jupiter.api.Test;

class DaemonThreadsTest {

    @Test
    void threadsAreDaemonsWithTheirNames() {
        ThreadFactory numbered = DaemonThreads.numbered("worker");
        Thread first = numbered.newThread(() -> { });
        Thread second = numbered.newThread(() -> { });
        Thread named = DaemonThreads.named("watchdog").newThread(() -> { });

        assertThat(first.getName()).isEqualTo("worker-1");
        assertThat(second.getName()).isEqualTo("worker-2");
        assertThat(named.getName()).isEqualTo("watchdog");
        assertThat(first.isDaemon() && second.isDaemon() && named.isDaemon()).isTrue();
        assertThat(named.getState()).as("made, not started").isEqualTo(Thread.State.NEW);
    }
}

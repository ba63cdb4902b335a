package io.apigw.authorizer.sweep;

import java.time.Duration;
import java.time.Instant;

/** Waits on the wall clock, which sweeps are aligned to. */
final class WallClock {

    private WallClock() {
    }

    /** Never returns early: a sleep rounded down would start the same interval's sweep again. */
    static void pauseUntil(Instant at) throws InterruptedException {
        Instant now;
        while ((now = Instant.now()).isBefore(at)) {
            Thread.sleep(Math.max(1, Duration.between(now, at).toMillis()));
        }
    }

    static Instant min(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }
}

package io.apigw.authorizer.request;

import java.util.Arrays;
import java.util.Optional;

/**
 * Who asked (since v1.3, request and result field {@code trigger}): the console (the default, never written into
 * results), a sweep's check, a sweep's repair, or (v1.4) a rollout's move to a newer policy version. Lets the console
 * tell its own answers from the fleet's.
 */
public enum Trigger {
    console,
    sweep,
    repair,
    rollout;

    static Optional<Trigger> of(String name) {
        return Arrays.stream(values()).filter(t -> t.name().equals(name)).findFirst();
    }
}

package io.apigw.authorizer.grant;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.apigw.authorizer.result.ResourceAction.Action;
import io.apigw.authorizer.result.ResourceAction;

/**
 * Per-object actions of one request across all its attempts: an object created (or deleted) by an attempt that
 * later failed is still reported as {@code created} ({@code deleted}) by the attempt that succeeds.
 */
public final class ChangeLog {

    private final Map<String, ResourceAction> actions = new LinkedHashMap<>();

    public void record(ResourceAction a) {
        String key = a.kind() + "/" + a.name();
        ResourceAction earlier = actions.get(key);
        if (earlier == null || rank(a.action()) >= rank(earlier.action())) {
            actions.put(key, a);
        }
    }

    boolean has(String kind) {
        return actions.values().stream().anyMatch(a -> a.kind().equals(kind));
    }

    public List<ResourceAction> actions() {
        return new ArrayList<>(actions.values());
    }

    private static int rank(Action a) {
        return switch (a) {
            case absent, unreachable -> 0;
            case unchanged, kept -> 1;
            case deleted -> 2;
            case updated -> 3;
            case created -> 4;
        };
    }
}

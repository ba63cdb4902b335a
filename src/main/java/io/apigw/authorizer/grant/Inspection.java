package io.apigw.authorizer.grant;

import java.util.List;

/** What a read-only look at a cluster found: {@code kind/name} of reserved resources missing or not as specified. */
public record Inspection(List<String> missing, List<String> drifted, String tokenSecret, String kubernetesVersion) {

    public boolean complete() {
        return missing.isEmpty() && drifted.isEmpty();
    }
}

package io.apigw.authorizer.grant;

import java.util.List;

/**
 * What a read-only look at a cluster found: {@code kind/name} of reserved resources missing or not as specified; the
 * token Secret (null: none filled), whether the legacy token cleaner has marked it invalid, and the uid of the
 * gateway's service account (null: none), and the cluster's identity ({@link ClusterIdentity}, null: unknown).
 */
public record Inspection(List<String> missing, List<String> drifted, String tokenSecret, boolean tokenInvalidated,
        String serviceAccountUid, String kubernetesVersion, String clusterUid) {

    public boolean complete() {
        return missing.isEmpty() && drifted.isEmpty();
    }
}

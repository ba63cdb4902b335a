package io.apigw.authorizer.credential;

import java.time.Instant;
import java.util.Optional;

/**
 * A stored credential with what the worker records beside it: the token Secret it came from, when the token was
 * stored (null for credentials stored before v1.2), a pending revocation, and the version of the Secret that holds it
 * (its resourceVersion: any change to it, or its deletion, gives another), and the policy version of the cluster's
 * ClusterRole (0: a recorded value this worker cannot read), and the identity of the cluster it was issued by (its
 * kube-system namespace uid; null for credentials stored before v1.5 or when it could not be read), and the tenant
 * whose request stored it, and whether a deauthorize has begun removing it ({@code deauthorizing}: no repair may
 * bring it back, issue 26, G8).
 */
public record CredentialRecord(StoredCredential credential, String tokenSecret, String tokenSecretUid,
        Instant tokenStoredAt, Optional<Revocation> pending, String version, int policyVersion, String clusterUid,
        Tenant tenant, boolean deauthorizing) {
}

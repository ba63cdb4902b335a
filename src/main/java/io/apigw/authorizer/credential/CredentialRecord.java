package io.apigw.authorizer.credential;

import java.time.Instant;
import java.util.Optional;

/**
 * A stored credential with what the worker records beside it: the token Secret it came from, when the token was
 * stored (null for credentials stored before v1.2), and a pending revocation.
 */
public record CredentialRecord(StoredCredential credential, String tokenSecret, String tokenSecretUid,
        Instant tokenStoredAt, Optional<Revocation> pending) {
}

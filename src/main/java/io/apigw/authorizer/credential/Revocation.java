package io.apigw.authorizer.credential;

import java.time.Instant;

/**
 * A token Secret in the target cluster that is to be deleted once {@code after} has passed: the token the gateway
 * used before a rotation, kept valid for the grace. Recorded with the stored credential, so it survives the worker.
 *
 * @param tokenSecretUid tells that Secret from a later one of the same name (null when not recorded)
 */
public record Revocation(String tokenSecret, String tokenSecretUid, Instant after) {

    public boolean due(Instant now) {
        return !now.isBefore(after);
    }
}

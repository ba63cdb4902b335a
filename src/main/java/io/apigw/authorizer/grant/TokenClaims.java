package io.apigw.authorizer.grant;

import java.util.Base64;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.apigw.authorizer.credential.Token;
import java.io.IOException;

/**
 * The account a service account token names. Legacy and bound service account tokens are JWTs whose {@code sub} is
 * {@code system:serviceaccount:<namespace>:<name>}; once the API server has accepted one, its claims are the server's
 * own. Other tokens (not JWTs) name nothing here, and the rights review alone decides.
 */
final class TokenClaims {

    static final String GATEWAY_SUBJECT = "system:serviceaccount:" + ReservedResources.NAMESPACE + ":"
            + ReservedResources.SERVICE_ACCOUNT;
    private static final String UID_CLAIM = "kubernetes.io/serviceaccount/service-account.uid";
    private static final ObjectMapper JSON = new ObjectMapper();

    private TokenClaims() {
    }

    /** The {@code sub} and service account uid of a JWT, or empty when the token is not one. */
    static Optional<Subject> subject(Token token) {
        String[] parts = token.reveal().trim().split("\\.");
        if (parts.length != 3) {
            return Optional.empty();
        }
        try {
            JsonNode claims = JSON.readTree(Base64.getUrlDecoder().decode(parts[1]));
            JsonNode sub = claims.get("sub");
            if (sub == null || !sub.isTextual()) {
                return Optional.empty();
            }
            JsonNode uid = claims.get(UID_CLAIM);
            return Optional.of(new Subject(sub.asText(), uid != null && uid.isTextual() ? uid.asText() : null));
        } catch (IllegalArgumentException | IOException e) {
            return Optional.empty(); // not a JWT: nothing to tell
        }
    }

    /** @param uid the service account uid the token was issued for, when it says */
    record Subject(String name, String uid) {

        /** Whether this is the gateway's account (and, when both are known, the same incarnation of it). */
        boolean isGateway(String serviceAccountUid) {
            return GATEWAY_SUBJECT.equals(name) && (uid == null || serviceAccountUid == null
                    || uid.equals(serviceAccountUid));
        }
    }
}

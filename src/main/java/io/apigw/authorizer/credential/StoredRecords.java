package io.apigw.authorizer.credential;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

import io.apigw.authorizer.credential.CredentialStore.Registered;
import io.apigw.authorizer.marks.Marks;
import io.fabric8.kubernetes.api.model.Secret;

/** The reading of a stored credential's Secret: the credential, and what is recorded beside it in its metadata. */
final class StoredRecords {

    private StoredRecords() {
    }

    static Optional<CredentialRecord> recordOf(Secret s) {
        if (s == null || s.getData() == null || s.getData().get("token") == null) {
            return Optional.empty();
        }
        Base64.Decoder d = Base64.getDecoder();
        Map<String, String> a = annotations(s);
        return Optional.of(new CredentialRecord(new StoredCredential(
                new String(d.decode(s.getData().getOrDefault("server", "")), StandardCharsets.UTF_8),
                new String(d.decode(s.getData().getOrDefault("ca.crt", "")), StandardCharsets.UTF_8),
                Token.of(d.decode(s.getData().get("token")))), a.get(Marks.TOKEN_SECRET),
                a.get(Marks.TOKEN_SECRET_UID), instant(a.get(Marks.TOKEN_STORED_AT)), revocation(s),
                s.getMetadata().getResourceVersion(), policyVersion(s), a.get(Marks.CLUSTER_UID),
                new Tenant(Optional.ofNullable(a.get(Marks.APP_ID)),
                        Optional.ofNullable(a.get(Marks.OWNER_UIN))), a.containsKey(Marks.DEAUTHORIZING)));
    }

    /** The cluster's stored credential as the registry lists it. */
    static Registered registered(String clusterId, Secret s) {
        Map<String, String> a = annotations(s);
        return new Registered(clusterId, Optional.ofNullable(a.get(Marks.REGION)),
                Optional.ofNullable(a.get(Marks.APP_ID)),
                Optional.ofNullable(a.get(Marks.OWNER_UIN)), policyVersion(s),
                Optional.ofNullable(a.get(Marks.SWEEP_ID)),
                Optional.ofNullable(a.get(Marks.SWEEP_STATE)), s.getMetadata().getResourceVersion());
    }

    /** The recorded policy version; 1 where none is recorded (stored before v1.4, when v1 was the only one). */
    static int policyVersion(Secret s) {
        String v = s.getMetadata().getLabels() == null ? null : s.getMetadata().getLabels().get(Marks.POLICY_VERSION);
        try {
            return v == null ? 1 : Integer.parseInt(v);
        } catch (NumberFormatException e) {
            return 0; // garbled: no known policy, so the cluster's rules are never changed on its account
        }
    }

    static Map<String, String> annotations(Secret s) {
        return s.getMetadata().getAnnotations() == null ? Map.of() : s.getMetadata().getAnnotations();
    }

    static Optional<Revocation> revocation(Secret s) {
        Map<String, String> a = annotations(s);
        Instant after = instant(a.get(Marks.REVOKE_AFTER));
        String name = a.get(Marks.REVOKE_TOKEN_SECRET);
        // A garbled record is not acted on: the old Secret stays rather than a wrong one going.
        return name == null || after == null ? Optional.empty()
                : Optional.of(new Revocation(name, a.get(Marks.REVOKE_TOKEN_SECRET_UID), after));
    }

    static Instant instant(String s) {
        try {
            return s == null ? null : Instant.parse(s);
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}

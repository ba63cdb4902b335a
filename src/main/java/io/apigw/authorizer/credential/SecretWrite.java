package io.apigw.authorizer.credential;

import static io.apigw.authorizer.credential.StoredRecords.instant;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import io.apigw.authorizer.credential.CredentialStore.Registered;
import io.apigw.authorizer.marks.Marks;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;

/**
 * What a save writes: the credential's data ({@code server}, {@code ca.crt}, {@code token}, in Base64) and, beside it,
 * the token Secret it came from, the cluster's identity, a pending revocation and where the credential is (for the
 * sweep), over what the stored Secret records.
 *
 * @param clusterUid null keeps the one recorded, if any
 * @param pending null keeps the one recorded, if any
 */
record SecretWrite(Registered where, String clusterUid, Map<String, String> data, String tokenSecret,
        String tokenSecretUid, Revocation pending) {

    /** An unchanged credential's verified time is rewritten at most this often, so a repeat authorize writes nothing. */
    private static final Duration VERIFIED_AT_REFRESH = Duration.ofHours(1);

    static Map<String, String> data(String server, String caPem, Token token) {
        Map<String, String> data = new LinkedHashMap<>();
        data.put("server", b64(server.getBytes(StandardCharsets.UTF_8)));
        data.put("ca.crt", b64(caPem.getBytes(StandardCharsets.UTF_8)));
        data.put("token", b64(token.bytes()));
        return data;
    }

    /** The Secret to create where none is stored. */
    Secret created(String namespace, String name) {
        return new SecretBuilder()
                .withNewMetadata().withNamespace(namespace).withName(name)
                .withLabels(labelsOver(null))
                .withAnnotations(annotationsOver(null))
                .endMetadata()
                .withType("Opaque").withData(data).build();
    }

    /** The stored Secret with this save written over it; empty when that changes nothing. */
    Optional<Secret> over(Secret existing) {
        Map<String, String> annotations = annotationsOver(existing);
        Map<String, String> labels = labelsOver(existing);
        if (!data.equals(existing.getData()) || !annotations.equals(existing.getMetadata().getAnnotations())
                || !labels.equals(existing.getMetadata().getLabels())) {
            return Optional.of(new SecretBuilder(existing)
                    .editMetadata().withLabels(labels).withAnnotations(annotations).endMetadata()
                    .withData(data).withStringData(null).build());
        }
        return Optional.empty();
    }

    private Map<String, String> annotationsOver(Secret existing) {
        Map<String, String> annotations = new LinkedHashMap<>(
                existing == null ? Map.of() : StoredRecords.annotations(existing));
        boolean tokenChanged = existing == null || existing.getData() == null
                || !data.get("token").equals(existing.getData().get("token"));
        annotations.put(Marks.TOKEN_SECRET, tokenSecret);
        putOrRemove(annotations, Marks.TOKEN_SECRET_UID, tokenSecretUid);
        if (tokenChanged || !annotations.containsKey(Marks.TOKEN_STORED_AT)) {
            annotations.put(Marks.TOKEN_STORED_AT, Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        }
        annotations.remove(Marks.DEAUTHORIZING);
        where.region().ifPresent(r -> annotations.put(Marks.REGION, r));
        where.appId().ifPresent(a -> annotations.put(Marks.APP_ID, a));
        where.ownerUin().ifPresent(u -> annotations.put(Marks.OWNER_UIN, u));
        if (clusterUid != null) {
            annotations.put(Marks.CLUSTER_UID, clusterUid);
        }
        Instant verified = instant(annotations.get(Marks.VERIFIED_AT));
        if (tokenChanged || verified == null || verified.plus(VERIFIED_AT_REFRESH).isBefore(Instant.now())) {
            annotations.put(Marks.VERIFIED_AT, Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        }
        if (pending != null) {
            annotations.put(Marks.REVOKE_TOKEN_SECRET, pending.tokenSecret());
            putOrRemove(annotations, Marks.REVOKE_TOKEN_SECRET_UID, pending.tokenSecretUid());
            annotations.put(Marks.REVOKE_AFTER, pending.after().toString());
        }
        return annotations;
    }

    private Map<String, String> labelsOver(Secret existing) {
        Map<String, String> labels = new LinkedHashMap<>(
                existing == null || existing.getMetadata().getLabels() == null ? Map.of()
                        : existing.getMetadata().getLabels());
        labels.put("app.kubernetes.io/managed-by", "apigw-tke-authorizer");
        labels.put(Marks.CLUSTER_ID, where.clusterId());
        labels.put(Marks.POLICY_VERSION, String.valueOf(where.policyVersion()));
        return labels;
    }

    private static void putOrRemove(Map<String, String> m, String key, String value) {
        if (value == null) {
            m.remove(key);
        } else {
            m.put(key, value);
        }
    }

    private static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }
}

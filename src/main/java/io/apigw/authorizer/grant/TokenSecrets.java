package io.apigw.authorizer.grant;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import io.apigw.authorizer.credential.Token;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.SecretList;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.FilterWatchListDeletable;
import io.fabric8.kubernetes.client.dsl.Resource;

/** Which Secret is the one canonical {@code apigw-ingress-token-*} of the service account, and how to make one. */
final class TokenSecrets {

    /** The alphabet Kubernetes uses for generated name suffixes (no vowels, no look-alikes). */
    private static final String SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

    private TokenSecrets() {
    }

    /**
     * kube-system's service-account token Secrets, the only type that can hold ours: the server filters out the rest
     * (Helm releases, certificates), which can be large.
     */
    static FilterWatchListDeletable<Secret, SecretList, Resource<Secret>> inKubeSystem(KubernetesClient client) {
        return client.secrets().inNamespace(ReservedResources.NAMESPACE).withField("type",
                ReservedResources.TOKEN_SECRET_TYPE);
    }

    /** A reserved token Secret: the prefix, the type, and issued for the gateway's service account name. */
    static boolean reserved(Secret s) {
        Map<String, String> ann = s.getMetadata().getAnnotations();
        return s.getMetadata().getName().startsWith(ReservedResources.TOKEN_SECRET_PREFIX)
                && ReservedResources.TOKEN_SECRET_TYPE.equals(s.getType())
                && ann != null && ReservedResources.SERVICE_ACCOUNT.equals(ann.get(ReservedResources.SA_NAME_ANNOTATION));
    }

    /** A token Secret of this service account (same uid, when the token controller has stamped one). */
    static boolean belongsTo(Secret s, ServiceAccount sa) {
        String uid = s.getMetadata().getAnnotations() == null ? null
                : s.getMetadata().getAnnotations().get(ReservedResources.SA_UID_ANNOTATION);
        return reserved(s) && s.getMetadata().getDeletionTimestamp() == null
                && (uid == null || Objects.equals(uid, sa.getMetadata().getUid()));
    }

    /**
     * Deterministic choice when several exist: the one the service account lists (auto-created before 1.24), then
     * one the worker made, then the oldest. Never "the first one the server returned".
     */
    static Optional<Secret> canonical(List<Secret> secrets, ServiceAccount sa) {
        List<String> listed = sa.getSecrets() == null ? List.of()
                : sa.getSecrets().stream().map(ObjectReference::getName).filter(Objects::nonNull).toList();
        return secrets.stream()
                .filter(s -> belongsTo(s, sa))
                .min(Comparator.<Secret, Boolean>comparing(s -> !listed.contains(s.getMetadata().getName()))
                        .thenComparing(s -> !ReservedResources.LABELS.equals(s.getMetadata().getLabels()))
                        .thenComparing(s -> Objects.toString(s.getMetadata().getCreationTimestamp(), ""))
                        .thenComparing(s -> s.getMetadata().getName()));
    }

    static boolean filled(Secret s) {
        return s.getData() != null && s.getData().get("token") != null && !s.getData().get("token").isBlank();
    }

    static Token token(Secret s) {
        return Token.of(Base64.getDecoder().decode(s.getData().get("token").trim()));
    }

    /**
     * The name of the Secret the worker creates on clusters that no longer auto-create one (1.24+): derived from the
     * service account's uid, so a retry after a lost response finds the same Secret instead of minting a second one.
     */
    static String workerSecretName(ServiceAccount sa) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256")
                    .digest(sa.getMetadata().getUid().getBytes(StandardCharsets.UTF_8));
            StringBuilder suffix = new StringBuilder();
            for (int i = 0; i < 5; i++) {
                suffix.append(SUFFIX_ALPHABET.charAt((h[i] & 0xff) % SUFFIX_ALPHABET.length()));
            }
            return ReservedResources.TOKEN_SECRET_PREFIX + suffix;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static Secret workerSecret(ServiceAccount sa) {
        return new SecretBuilder()
                .withNewMetadata()
                .withNamespace(ReservedResources.NAMESPACE)
                .withName(workerSecretName(sa))
                .withLabels(ReservedResources.LABELS)
                .withAnnotations(Map.of(ReservedResources.SA_NAME_ANNOTATION, ReservedResources.SERVICE_ACCOUNT))
                .endMetadata()
                .withType(ReservedResources.TOKEN_SECRET_TYPE)
                .build();
    }
}

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
import java.util.Set;

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
     * Deterministic choice when several exist, never "the first one the server returned": Secrets pending revocation
     * ({@code retiring}) never; before 1.24 the one the service account lists (auto-created), then one the worker
     * made; from 1.24 one the worker made (never listed, so never cleaned up as a legacy token), then a listed one;
     * then a filled one; then, of those listed or the worker's own, the newest: a rotation's or renewal's successor
     * (listed beside the first before 1.24), never the one it replaces, which is another instance's pending
     * revocation that this instance's record does not know (issue 26, G2); of any others (neither listed nor the
     * worker's) the oldest, so that a Secret someone adds later never wins by being newer.
     */
    static Optional<Secret> canonical(List<Secret> secrets, ServiceAccount sa, Choice choice) {
        List<String> listed = listed(sa);
        Comparator<Secret> byListed = Comparator.comparing(s -> !listed.contains(s.getMetadata().getName()));
        Comparator<Secret> byWorker = Comparator.comparing(s -> !workerOwned(s, sa));
        // A successor the token controller never filled (a rotation that failed) does not displace a working token.
        Comparator<Secret> byFilled = Comparator.comparing(s -> !filled(s));
        // Compared within a group only: the same standing (listed, the worker's), so the direction is the same.
        Comparator<Secret> byAge = (a, b) -> {
            int older = Objects.toString(a.getMetadata().getCreationTimestamp(), "")
                    .compareTo(Objects.toString(b.getMetadata().getCreationTimestamp(), ""));
            return listed.contains(a.getMetadata().getName()) || workerOwned(a, sa) ? -older : older;
        };
        return secrets.stream()
                .filter(s -> belongsTo(s, sa) && !choice.retiring().contains(s.getMetadata().getName()))
                .min((choice.preferWorkerOwned() ? byWorker.thenComparing(byListed) : byListed.thenComparing(byWorker))
                        .thenComparing(byFilled).thenComparing(byAge).thenComparing(s -> s.getMetadata().getName()));
    }

    /**
     * How to choose the canonical token Secret: whether the worker's own come first (1.24 on), and which names are
     * pending revocation.
     */
    record Choice(boolean preferWorkerOwned, Set<String> retiring) {
    }

    static List<String> listed(ServiceAccount sa) {
        return sa.getSecrets() == null ? List.of()
                : sa.getSecrets().stream().map(ObjectReference::getName).filter(Objects::nonNull).toList();
    }

    /** Made by the worker (its label) and not listed by the account, so the legacy token cleaner never touches it. */
    static boolean workerOwned(Secret s, ServiceAccount sa) {
        return ReservedResources.LABELS.equals(s.getMetadata().getLabels())
                && !listed(sa).contains(s.getMetadata().getName());
    }

    /** The legacy token cleaner (1.29+) has marked it: its token is rejected from then on, then it is deleted. */
    static boolean invalidated(Secret s) {
        return s.getMetadata().getLabels() != null
                && s.getMetadata().getLabels().containsKey(ReservedResources.LEGACY_TOKEN_INVALID_SINCE);
    }

    /** A reserved token Secret left from an earlier account of the same name (another uid). */
    static boolean stale(Secret s, ServiceAccount sa) {
        String uid = s.getMetadata().getAnnotations() == null ? null
                : s.getMetadata().getAnnotations().get(ReservedResources.SA_UID_ANNOTATION);
        return reserved(s) && uid != null && !uid.equals(sa.getMetadata().getUid());
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
        return workerSecretName(sa, "");
    }

    /**
     * Another name of the same kind for a second Secret of the account (a rotation, a replacement): derived from the
     * uid and {@code salt}, so a retry of the same step finds the Secret it made.
     */
    static String workerSecretName(ServiceAccount sa, String salt) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256")
                    .digest((sa.getMetadata().getUid() + salt).getBytes(StandardCharsets.UTF_8));
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
        return workerSecret(workerSecretName(sa));
    }

    static Secret workerSecret(String name) {
        return new SecretBuilder()
                .withNewMetadata()
                .withNamespace(ReservedResources.NAMESPACE)
                .withName(name)
                .withLabels(ReservedResources.LABELS)
                .withAnnotations(Map.of(ReservedResources.SA_NAME_ANNOTATION, ReservedResources.SERVICE_ACCOUNT))
                .endMetadata()
                .withType(ReservedResources.TOKEN_SECRET_TYPE)
                .build();
    }
}

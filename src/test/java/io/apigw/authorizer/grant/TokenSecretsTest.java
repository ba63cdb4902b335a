package io.apigw.authorizer.grant;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;

/** Which token Secret is the one, and the name the worker gives its own: pure decisions. */
class TokenSecretsTest {

    private final ServiceAccount sa = GrantPlanTest.account();

    @Test
    void theSecretTheAccountListsWinsThenTheWorkersThenTheOldest() {
        Secret older = auto("apigw-ingress-token-aaaaa", "2026-01-01T00:00:00Z");
        Secret newer = auto("apigw-ingress-token-bbbbb", "2026-02-01T00:00:00Z");
        Secret mine = GrantPlanTest.token(sa, null);
        ServiceAccount listing = new ServiceAccountBuilder(sa).addNewSecret().withName("apigw-ingress-token-bbbbb")
                .endSecret().build();

        assertThat(TokenSecrets.canonical(List.of(older, mine, newer), listing, BEFORE_124)).contains(newer);
        assertThat(TokenSecrets.canonical(List.of(older, newer, mine), sa, BEFORE_124)).contains(mine);
        assertThat(TokenSecrets.canonical(List.of(newer, older), sa, BEFORE_124)).contains(older);
        // Whatever order the server returns them in.
        assertThat(TokenSecrets.canonical(List.of(older, newer), sa, BEFORE_124)).contains(older);
    }

    /** Issue 26, G2: a rotation's successor is listed beside the token it replaces; the successor is the one. */
    @Test
    void ofTwoListedSecretsBefore124TheNewestIsTheOne() {
        Secret older = auto("apigw-ingress-token-aaaaa", "2026-01-01T00:00:00Z");
        Secret newer = auto("apigw-ingress-token-bbbbb", "2026-02-01T00:00:00Z");
        ServiceAccount listingBoth = new ServiceAccountBuilder(sa).addNewSecret().withName("apigw-ingress-token-aaaaa")
                .endSecret().addNewSecret().withName("apigw-ingress-token-bbbbb").endSecret().build();

        assertThat(TokenSecrets.canonical(List.of(older, newer), listingBoth, BEFORE_124)).contains(newer);
        assertThat(TokenSecrets.canonical(List.of(newer, older), listingBoth, BEFORE_124)).contains(newer);
    }

    /** A rotation that failed leaves its successor unfilled: the working token stays the one. */
    @Test
    void anUnfilledSuccessorDoesNotDisplaceAFilledToken() {
        Secret older = new SecretBuilder(auto("apigw-ingress-token-aaaaa", "2026-01-01T00:00:00Z"))
                .addToData("token", "dG9rZW4=").build();
        Secret unfilled = auto("apigw-ingress-token-bbbbb", "2026-02-01T00:00:00Z");
        ServiceAccount listingBoth = new ServiceAccountBuilder(sa).addNewSecret().withName("apigw-ingress-token-aaaaa")
                .endSecret().addNewSecret().withName("apigw-ingress-token-bbbbb").endSecret().build();

        assertThat(TokenSecrets.canonical(List.of(unfilled, older), listingBoth, BEFORE_124)).contains(older);
    }

    @Test
    void from124TheWorkersOwnWinsOverTheListedLegacyOneAndARetiringSecretIsNeverChosen() {
        Secret legacy = auto("apigw-ingress-token-bbbbb", "2020-02-01T00:00:00Z");
        Secret mine = GrantPlanTest.token(sa, null);
        ServiceAccount listing = new ServiceAccountBuilder(sa).addNewSecret().withName("apigw-ingress-token-bbbbb")
                .endSecret().build();

        assertThat(TokenSecrets.canonical(List.of(legacy, mine), listing, FROM_124)).contains(mine);
        assertThat(TokenSecrets.canonical(List.of(legacy, mine), listing,
                new TokenSecrets.Choice(true, Set.of(mine.getMetadata().getName())))).contains(legacy);
        assertThat(TokenSecrets.canonical(List.of(legacy, mine), listing,
                new TokenSecrets.Choice(false, Set.of("apigw-ingress-token-bbbbb")))).contains(mine);
    }

    @Test
    void theLegacyCleanersLabelAndAnEarlierAccountsSecretAreRecognised() {
        Secret labelled = new SecretBuilder(auto("apigw-ingress-token-bbbbb", "2020-02-01T00:00:00Z")).editMetadata()
                .addToLabels(ReservedResources.LEGACY_TOKEN_INVALID_SINCE, "2026-01-01").endMetadata().build();
        Secret earlier = new SecretBuilder(auto("apigw-ingress-token-ccccc", "2020-01-01T00:00:00Z"))
                .editMetadata().addToAnnotations(ReservedResources.SA_UID_ANNOTATION, "other-uid").endMetadata().build();

        assertThat(TokenSecrets.invalidated(labelled)).isTrue();
        assertThat(TokenSecrets.invalidated(earlier)).isFalse();
        assertThat(TokenSecrets.stale(earlier, sa)).isTrue();
        assertThat(TokenSecrets.stale(labelled, sa)).isFalse();
    }

    @Test
    void aSaltedNameIsStableAndDiffersFromTheAccountsFirstName() {
        assertThat(TokenSecrets.workerSecretName(sa, "/rotation/req-1"))
                .isEqualTo(TokenSecrets.workerSecretName(sa, "/rotation/req-1"))
                .isNotEqualTo(TokenSecrets.workerSecretName(sa, "/rotation/req-2"))
                .isNotEqualTo(TokenSecrets.workerSecretName(sa));
    }

    private static final TokenSecrets.Choice BEFORE_124 = new TokenSecrets.Choice(false, Set.of());
    private static final TokenSecrets.Choice FROM_124 = new TokenSecrets.Choice(true, Set.of());

    @Test
    void secretsOfAnotherAccountOrBeingDeletedAreNeverChosen() {
        Secret foreignUid = new SecretBuilder(auto("apigw-ingress-token-ccccc", "2026-01-01T00:00:00Z"))
                .editMetadata().addToAnnotations(ReservedResources.SA_UID_ANNOTATION, "other-uid").endMetadata().build();
        Secret deleting = new SecretBuilder(auto("apigw-ingress-token-ddddd", "2026-01-01T00:00:00Z"))
                .editMetadata().withDeletionTimestamp("2026-03-01T00:00:00Z").endMetadata().build();
        Secret unprefixed = auto("other-token-eeeee", "2026-01-01T00:00:00Z");

        assertThat(TokenSecrets.canonical(List.of(foreignUid, deleting, unprefixed), sa, BEFORE_124)).isEmpty();
    }

    @Test
    void theWorkersSecretNameIsStableForOneAccountAndDiffersForAnother() {
        ServiceAccount other = new ServiceAccountBuilder(sa).editMetadata().withUid("uid-2").endMetadata().build();

        String name = TokenSecrets.workerSecretName(sa);
        assertThat(name).matches("apigw-ingress-token-[bcdfghjklmnpqrstvwxz2456789]{5}");
        assertThat(TokenSecrets.workerSecretName(sa)).isEqualTo(name);
        assertThat(TokenSecrets.workerSecretName(other)).isNotEqualTo(name);
        assertThat(TokenSecrets.reserved(TokenSecrets.workerSecret(sa))).isTrue();
    }

    @Test
    void filledMeansANonBlankToken() {
        assertThat(TokenSecrets.filled(GrantPlanTest.token(sa, null))).isFalse();
        assertThat(TokenSecrets.filled(GrantPlanTest.token(sa, " "))).isFalse();
        assertThat(TokenSecrets.filled(GrantPlanTest.token(sa, "dG9rZW4="))).isTrue();
    }

    private Secret auto(String name, String created) {
        return new SecretBuilder().withNewMetadata().withName(name).withNamespace(ReservedResources.NAMESPACE)
                .withCreationTimestamp(created)
                .addToAnnotations(ReservedResources.SA_NAME_ANNOTATION, ReservedResources.SERVICE_ACCOUNT)
                .addToAnnotations(ReservedResources.SA_UID_ANNOTATION, sa.getMetadata().getUid()).endMetadata()
                .withType(ReservedResources.TOKEN_SECRET_TYPE).build();
    }
}

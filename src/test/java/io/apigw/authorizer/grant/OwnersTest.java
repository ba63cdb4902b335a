package io.apigw.authorizer.grant;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.apigw.authorizer.marks.Marks;

/** Who relies on a cluster's reserved resources, from the marks on its ServiceAccount. */
class OwnersTest {

    static ServiceAccount account(Map<String, String> labels, Map<String, String> annotations) {
        return new ServiceAccountBuilder().withNewMetadata().withNamespace("kube-system").withName("apigw-ingress")
                .withLabels(labels).withAnnotations(annotations).endMetadata().build();
    }

    @Test
    void anAccountThisInstanceMadeIsItsAlone() {
        Owners owners = Owners.of(ReservedResources.serviceAccount("gw-a", Optional.of("1250000000")));

        assertThat(owners.includes("gw-a")).isTrue();
        assertThat(owners.others("gw-a")).isEmpty();
        assertThat(owners.others("gw-b")).containsExactly("gw-a");
    }

    @Test
    void aSecondInstanceJoinsAndLeavesWithoutTouchingTheFirst() {
        Owners first = Owners.of(ReservedResources.serviceAccount("gw-a", Optional.empty()));
        String joined = first.joined("gw-b");
        Owners both = Owners.of(account(ReservedResources.LABELS, Map.of(Marks.OWNERS, joined)));

        assertThat(joined).isEqualTo("gw-a,gw-b");
        assertThat(both.others("gw-a")).containsExactly("gw-b");
        assertThat(both.left("gw-b")).isEqualTo("gw-a");
        assertThat(both.joined("gw-a")).as("joining again changes nothing").isEqualTo(joined);
    }

    @Test
    void anAccountNoGatewayMadeIsPreExistingAndStaysSoOnceAdopted() {
        Owners foreign = Owners.of(account(Map.of(), Map.of()));

        assertThat(foreign.others("gw-a")).containsExactly(Owners.PRE_EXISTING);
        String adopted = foreign.joined("gw-a");
        assertThat(adopted).isEqualTo("gw-a," + Owners.PRE_EXISTING);
        Owners later = Owners.of(account(Map.of(), Map.of(Marks.OWNERS, adopted)));
        assertThat(later.others("gw-a")).as("deauthorize leaves it to its maker").containsExactly(Owners.PRE_EXISTING);
        assertThat(later.left("gw-a")).isEqualTo(Owners.PRE_EXISTING);
        assertThat(later.otherInstances("gw-a")).as("its token is renewed like ours").isEmpty();
    }

    @Test
    void onlyOtherGatewayInstancesHoldTheTokenAgainstARotation() {
        Owners owners = Owners.of(account(Map.of(), Map.of(Marks.OWNERS, "gw-a,gw-b," + Owners.PRE_EXISTING)));

        assertThat(owners.otherInstances("gw-a")).containsExactly("gw-b");
        assertThat(owners.others("gw-a")).containsExactly("gw-b", Owners.PRE_EXISTING);
    }

    @Test
    void anAccountAWorkerMadeBeforeOwnersWereMarkedCountsAsTheCurrentInstancesOwn() {
        Owners legacy = Owners.of(account(ReservedResources.LABELS, Map.of()));

        assertThat(legacy.others("gw-a")).isEmpty();
        assertThat(legacy.includes("gw-a")).as("so the next authorize marks it").isFalse();
        assertThat(legacy.joined("gw-a")).isEqualTo("gw-a");
    }

    @Test
    void marksAreReadLeniently() {
        Owners owners = Owners.of(account(ReservedResources.LABELS, Map.of(Marks.OWNERS, " gw-b, ,gw-a ")));

        assertThat(owners.ids()).containsExactly("gw-a", "gw-b");
        assertThat(Owners.of(null).others("gw-a")).as("no account: nothing to keep").isEmpty();
    }
}

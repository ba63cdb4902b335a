package io.apigw.authorizer.credential;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.apigw.authorizer.credential.Tenant.Standing;

class TenantTest {

    static Tenant of(String appId, String ownerUin) {
        return new Tenant(Optional.ofNullable(appId), Optional.ofNullable(ownerUin));
    }

    @Test
    void everyRecordedPartMustBeTheRequests() {
        Tenant recorded = of("1251111111", "100001");
        assertThat(recorded.owns(of("1251111111", "100001"))).isEqualTo(Standing.SAME);
        assertThat(recorded.owns(of("1252222222", "100001"))).isEqualTo(Standing.OTHER);
        assertThat(recorded.owns(of("1251111111", "100002"))).isEqualTo(Standing.OTHER);
        assertThat(recorded.owns(of("1251111111", null))).isEqualTo(Standing.OTHER);
        assertThat(recorded.owns(Tenant.NONE)).isEqualTo(Standing.OTHER);
    }

    @Test
    void aPartNotRecordedIsNotCompared() {
        assertThat(of("1251111111", null).owns(of("1251111111", "100001"))).isEqualTo(Standing.SAME);
        assertThat(of(null, "100001").owns(of("1252222222", "100001"))).isEqualTo(Standing.SAME);
        assertThat(of(null, "100001").owns(of(null, "100002"))).isEqualTo(Standing.OTHER);
    }

    @Test
    void aCredentialThatRecordsNoTenantIsUnrecordedForEveryone() {
        assertThat(Tenant.NONE.owns(Tenant.NONE)).isEqualTo(Standing.UNRECORDED);
        assertThat(Tenant.NONE.owns(of("1251111111", "100001"))).isEqualTo(Standing.UNRECORDED);
    }

    @Test
    void withoutTheDirectorysWordOnlyTheOwnTenantRemovesAndAnUnrecordedOneOnlyWhereThereAreNoTenants() {
        assertThat(of("1251111111", null).removableWithoutDirectory(of("1251111111", null), true)).isTrue();
        assertThat(of("1251111111", null).removableWithoutDirectory(of("1252222222", null), true)).isFalse();
        assertThat(of("1251111111", null).removableWithoutDirectory(of("1252222222", null), false)).isFalse();
        assertThat(Tenant.NONE.removableWithoutDirectory(of("1252222222", null), true)).isFalse();
        assertThat(Tenant.NONE.removableWithoutDirectory(Tenant.NONE, true)).isFalse();
        assertThat(Tenant.NONE.removableWithoutDirectory(Tenant.NONE, false)).isTrue();
    }
}

package io.apigw.authorizer.grant;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.apigw.authorizer.result.ResourceAction.Action;

/** Across attempts, the strongest action per object is what the result reports. */
class ChangeLogTest {

    @Test
    void whatAnEarlierAttemptMadeStaysMade() {
        ChangeLog log = new ChangeLog();
        log.record(Reserved.SERVICE_ACCOUNT.report(Action.created));
        log.record(Reserved.SERVICE_ACCOUNT.report(Action.unchanged));

        assertThat(log.actions()).containsExactly(Reserved.SERVICE_ACCOUNT.report(Action.created));
    }

    @Test
    void rankOrdersCreatedOverUpdatedOverDeletedOverUnchangedOverAbsent() {
        Action[] weakToStrong = { Action.absent, Action.unchanged, Action.deleted, Action.updated, Action.created };
        for (int i = 0; i < weakToStrong.length; i++) {
            for (int j = 0; j < weakToStrong.length; j++) {
                ChangeLog log = new ChangeLog();
                log.record(Reserved.CLUSTER_ROLE.report(weakToStrong[i]));
                log.record(Reserved.CLUSTER_ROLE.report(weakToStrong[j]));
                assertThat(log.actions()).as(weakToStrong[i] + " then " + weakToStrong[j])
                        .containsExactly(Reserved.CLUSTER_ROLE.report(weakToStrong[Math.max(i, j)]));
            }
        }
    }

    @Test
    void unreachableIsAsWeakAsAbsentAndObjectsAreKeptApartByKindAndName() {
        ChangeLog log = new ChangeLog();
        log.record(Reserved.TOKEN_SECRET.report("apigw-ingress-token-aaaaa", Action.deleted));
        log.record(Reserved.TOKEN_SECRET.report("apigw-ingress-token-aaaaa", Action.unreachable));
        log.record(Reserved.TOKEN_SECRET.report("apigw-ingress-token-bbbbb", Action.absent));

        assertThat(log.actions()).containsExactly(
                Reserved.TOKEN_SECRET.report("apigw-ingress-token-aaaaa", Action.deleted),
                Reserved.TOKEN_SECRET.report("apigw-ingress-token-bbbbb", Action.absent));
        assertThat(log.has("Secret")).isTrue();
        assertThat(log.has("ClusterRole")).isFalse();
    }
}

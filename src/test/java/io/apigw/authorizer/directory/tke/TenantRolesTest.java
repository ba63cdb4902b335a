package io.apigw.authorizer.directory.tke;

import static io.apigw.authorizer.directory.tke.TkeStub.ASSUME_ROLE;
import static io.apigw.authorizer.directory.tke.TkeStub.ENDPOINTS;
import static io.apigw.authorizer.directory.tke.TkeStub.KUBECONFIG;
import static io.apigw.authorizer.directory.tke.TkeStub.STATUS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.tencentcloudapi.common.Credential;

import io.apigw.authorizer.request.AuthorizationRequest;
import io.apigw.authorizer.request.RequestType;
import io.apigw.authorizer.request.Trigger;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.apigw.authorizer.testing.LogCapture;
import java.time.ZoneId;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** Tenants served through the role they granted (STS AssumeRole), against the TKE and STS stand-in. */
class TenantRolesTest {

    static final String WORKER_ID = "AKIDworker0000";
    static final String WORKER_KEY = "worker-own-secret-key";
    static final String UIN_A = "100000000001";
    static final String UIN_B = "100000000002";
    static final String ROLE_A = "qcs::cam::uin/" + UIN_A + ":roleName/APIGW_TKEAuthorizerRole";
    static final String ROLE_B = "qcs::cam::uin/" + UIN_B + ":roleName/APIGW_TKEAuthorizerRole";
    static final String CLUSTER_A = "cls-tenanta1";
    static final String CLUSTER_B = "cls-tenantb1";

    final TkeStub stub = TkeStub.start().stsCaller(WORKER_ID, WORKER_KEY);
    final LogCapture logs = LogCapture.install();
    final MovableClock clock = new MovableClock();

    @AfterEach
    void stop() {
        stub.close();
    }

    /** A clock the test moves: the stub's keys stay valid in real time, so only the worker's judgement moves. */
    static final class MovableClock extends Clock {
        volatile Instant now = Instant.now();

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }

    TkeDirectory directory(TestTkeConfig config) {
        // Endpoint caching off, so every resolve asks TKE and shows which keys signed.
        return new TkeDirectory(config.withCacheTtl(Duration.ZERO), () -> new Credential(WORKER_ID, WORKER_KEY),
                clock);
    }

    TkeDirectory directory() {
        return directory(TestTkeConfig.against(stub.endpoint()).withAssumeRole(true, Duration.ofMinutes(5)));
    }

    static AuthorizationRequest request(String requestId, String clusterId, String ownerUin) {
        return new AuthorizationRequest(RequestType.AUTHORIZE, requestId, clusterId, Optional.of("ap-guangzhou"),
                Optional.of("1250000000"), Optional.empty(), Optional.empty(), Trigger.console, Optional.empty(),
                Optional.empty(), Optional.ofNullable(ownerUin));
    }

    List<TkeStub.Call> tkeCalls() {
        return stub.calls().stream().filter(c -> !c.action().equals(ASSUME_ROLE)).toList();
    }

    @Test
    void theGrantedRoleIsAssumedWithTheWorkersOwnKeysAndItsTemporaryKeysSignTheTkeCalls() {
        stub.healthyCluster().grantRole(ROLE_A, CLUSTER_A);

        assertThat(directory().resolve(request("req-a/1", CLUSTER_A, UIN_A)).server()).isEqualTo("https://10.0.0.5");

        assertThat(stub.actions()).containsExactly(ASSUME_ROLE, STATUS, ENDPOINTS, KUBECONFIG);
        TkeStub.Call assume = stub.calls().get(0);
        assertThat(assume.signedWith(WORKER_ID, WORKER_KEY)).isTrue();
        assertThat(assume.body().get("RoleArn").asText()).isEqualTo(ROLE_A);
        assertThat(assume.body().get("RoleSessionName").asText()).as("the request, for the tenant's CloudAudit")
                .isEqualTo("apigw-req-a-1");
        assertThat(assume.body().get("DurationSeconds").asLong()).isEqualTo(3600);
        TkeStub.Issued keys = stub.issued().get(0);
        assertThat(tkeCalls()).hasSize(3).allSatisfy(c -> {
            assertThat(c.signedWith(keys.secretId(), keys.secretKey())).isTrue();
            assertThat(c.header("X-TC-Token")).isEqualTo(keys.token());
        });
    }

    @Test
    void aTenantWhoHasNotGrantedTheRoleIsToldToGrantItAndNoTkeCallIsMade() {
        stub.healthyCluster();

        AuthorizationException e = catchThrowableOfType(
                () -> directory().resolve(request("req-1", CLUSTER_A, UIN_A)), AuthorizationException.class);

        assertThat(e.code()).isEqualTo(FailureCode.PERMISSION_DENIED);
        assertThat(e.isTransient()).isFalse();
        assertThat(e.getMessage()).contains("uin " + UIN_A, "has not granted the role APIGW_TKEAuthorizerRole",
                "grant the role, then retry", "ResourceNotFound.RoleNotFound");
        assertThat(tkeCalls()).isEmpty();
    }

    @Test
    void stsThrottledOrDownIsRetryable() {
        stub.healthyCluster().grantRole(ROLE_A, CLUSTER_A);
        TkeDirectory directory = directory();

        stub.error(ASSUME_ROLE, "RequestLimitExceeded", "too many requests");
        AuthorizationException throttled = catchThrowableOfType(
                () -> directory.resolve(request("req-1", CLUSTER_A, UIN_A)), AuthorizationException.class);
        stub.reply(ASSUME_ROLE, 503, "Service Unavailable", Duration.ZERO);
        AuthorizationException down = catchThrowableOfType(
                () -> directory.resolve(request("req-2", CLUSTER_A, UIN_A)), AuthorizationException.class);

        for (AuthorizationException e : List.of(throttled, down)) {
            assertThat(e.isTransient()).isTrue();
            assertThat(e.code()).isEqualTo(FailureCode.INTERNAL);
            assertThat(e.getMessage()).contains("AssumeRole");
        }
        assertThat(tkeCalls()).isEmpty();
    }

    @Test
    void requestsOfOneTenantWhileStsStallsShareOneCallInsteadOfQueueingBehindEachOther() throws Exception {
        stub.healthyCluster().grantRole(ROLE_A, CLUSTER_A);
        // Longer than the 1 s read timeout: each call ends at the timeout, one after another if they queued.
        stub.reply(ASSUME_ROLE, 200, "{}", Duration.ofSeconds(5));
        TkeDirectory directory = directory();
        ExecutorService four = Executors.newFixedThreadPool(4);
        try {
            List<Future<AuthorizationException>> all = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                String id = "req-" + i;
                all.add(four.submit(() -> catchThrowableOfType(() -> directory.resolve(request(id, CLUSTER_A, UIN_A)),
                        AuthorizationException.class)));
            }
            for (var f : all) {
                AuthorizationException e = f.get(30, TimeUnit.SECONDS);
                assertThat(e.isTransient()).as(e.getMessage()).isTrue();
            }
        } finally {
            four.shutdownNow();
        }
        assertThat(stub.actions()).filteredOn(ASSUME_ROLE::equals).as("one call, shared").hasSize(1);
    }

    @Test
    void theWorkersOwnIdentityRefusedByStsIsTheOperatorsProblem() {
        stub.healthyCluster().grantRole(ROLE_A, CLUSTER_A).stsCaller(WORKER_ID, "another-key");

        AuthorizationException e = catchThrowableOfType(
                () -> directory().resolve(request("req-1", CLUSTER_A, UIN_A)), AuthorizationException.class);

        assertThat(e.code()).isEqualTo(FailureCode.INTERNAL);
        assertThat(e.isTransient()).isFalse();
        assertThat(e.getMessage()).contains("STS AssumeRole failed: AuthFailure.SignatureFailure");
    }

    @Test
    void credentialsAreKeptPerTenantUntilShortlyBeforeTheyExpireThenAssumedAgain() {
        stub.healthyCluster().grantRole(ROLE_A, CLUSTER_A).grantRole(ROLE_B, CLUSTER_B);
        TkeDirectory directory = directory();

        directory.resolve(request("req-1", CLUSTER_A, UIN_A));
        directory.resolve(request("req-2", CLUSTER_A, UIN_A));
        directory.resolve(request("req-3", CLUSTER_B, UIN_B));
        assertThat(stub.actions()).filteredOn(ASSUME_ROLE::equals).as("one per tenant").hasSize(2);

        clock.advance(Duration.ofMinutes(54));
        directory.resolve(request("req-4", CLUSTER_A, UIN_A));
        assertThat(stub.actions()).filteredOn(ASSUME_ROLE::equals).as("still fresh").hasSize(2);

        clock.advance(Duration.ofMinutes(2)); // 4 minutes left: inside refresh-before (5m)
        stub.forgetCalls();
        directory.resolve(request("req-5", CLUSTER_A, UIN_A));

        assertThat(stub.actions()).containsExactly(ASSUME_ROLE, STATUS, ENDPOINTS, KUBECONFIG);
        TkeStub.Issued renewed = stub.issued().stream().filter(k -> k.sessionName().equals("apigw-req-5"))
                .findFirst().orElseThrow();
        assertThat(tkeCalls()).allMatch(c -> c.signedWith(renewed.secretId(), renewed.secretKey()));
    }

    @Test
    void whenRenewalFailsTheKeysHeldAreUsedUntilTheyExpire() {
        stub.healthyCluster().grantRole(ROLE_A, CLUSTER_A);
        TkeDirectory directory = directory();
        directory.resolve(request("req-1", CLUSTER_A, UIN_A));
        stub.error(ASSUME_ROLE, "InternalError.SystemError", "busy");

        clock.advance(Duration.ofMinutes(57));
        assertThat(directory.resolve(request("req-2", CLUSTER_A, UIN_A)).server()).isEqualTo("https://10.0.0.5");

        clock.advance(Duration.ofMinutes(4)); // past ExpiredTime
        AuthorizationException e = catchThrowableOfType(
                () -> directory.resolve(request("req-3", CLUSTER_A, UIN_A)), AuthorizationException.class);
        assertThat(e.isTransient()).isTrue();
        assertThat(logs.lines()).anyMatch(l -> l.contains("renewal failed, keeping the credentials"));
    }

    @Test
    void keysTkeRefusesAreDroppedSoTheNextRequestAssumesTheRoleAgain() {
        stub.healthyCluster().grantRole(ROLE_A, CLUSTER_A);
        TkeDirectory directory = directory();
        directory.resolve(request("req-1", CLUSTER_A, UIN_A));
        stub.revokeIssued();

        AuthorizationException refused = catchThrowableOfType(
                () -> directory.resolve(request("req-2", CLUSTER_A, UIN_A)), AuthorizationException.class);
        assertThat(refused.code()).isEqualTo(FailureCode.PERMISSION_DENIED);

        stub.forgetCalls();
        assertThat(directory.resolve(request("req-3", CLUSTER_A, UIN_A)).server()).isEqualTo("https://10.0.0.5");
        assertThat(stub.actions()).containsExactly(ASSUME_ROLE, STATUS, ENDPOINTS, KUBECONFIG);
    }

    @Test
    void oneTenantsRoleNeverReachesAnotherTenantsCluster() {
        stub.healthyCluster().grantRole(ROLE_A, CLUSTER_A).grantRole(ROLE_B, CLUSTER_B);
        TkeDirectory directory = directory();

        AuthorizationException e = catchThrowableOfType(
                () -> directory.resolve(request("req-1", CLUSTER_B, UIN_A)), AuthorizationException.class);

        assertThat(e.code()).as("B's cluster is not in A's account").isEqualTo(FailureCode.CLUSTER_NOT_FOUND);
        assertThat(directory.resolve(request("req-2", CLUSTER_B, UIN_B)).server()).isEqualTo("https://10.0.0.5");
    }

    @Test
    void staticTenantKeysStillWinAndRequestsWithoutOwnerUinFollowRequireTenantCredentials() {
        stub.healthyCluster().grantRole(ROLE_A, CLUSTER_A);
        TkeDirectory directory = directory(TestTkeConfig.against(stub.endpoint())
                .withTenants(true, Map.of("1250000009", new TestTkeConfig.Keys("AKIDstatic", "static-key")))
                .withAssumeRole(true, Duration.ofMinutes(5)));

        AuthorizationException none = catchThrowableOfType(
                () -> directory.resolve(request("req-1", CLUSTER_A, null)), AuthorizationException.class);
        assertThat(none.code()).isEqualTo(FailureCode.CLUSTER_NOT_FOUND);
        assertThat(none.getMessage()).contains("requests with an ownerUin");
        assertThat(stub.calls()).isEmpty();

        AuthorizationRequest keyed = new AuthorizationRequest(RequestType.AUTHORIZE, "req-2", CLUSTER_A,
                Optional.of("ap-guangzhou"), Optional.of("1250000009"), Optional.empty());
        stub.stsCaller(null, null); // plain TKE: the static keys are checked by signature below
        directory.resolve(keyed);
        assertThat(stub.calls()).hasSize(3).allMatch(c -> c.signedWith("AKIDstatic", "static-key"));
    }

    @Test
    void settingsThatCannotWorkAreRefusedAtStart() {
        TestTkeConfig config = TestTkeConfig.against(stub.endpoint()).withAssumeRole(true, Duration.ofHours(2));

        assertThatThrownBy(() -> directory(config)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("refresh-before");
    }

    @Test
    void noWorkerKeyTemporaryKeyOrTokenInAnyLogLineOrMessage() {
        stub.healthyCluster().grantRole(ROLE_A, CLUSTER_A);
        TkeDirectory directory = directory();
        directory.resolve(request("req-1", CLUSTER_A, UIN_A));
        stub.revokeIssued();
        List<String> messages = new ArrayList<>();
        messages.add(catchThrowableOfType(() -> directory.resolve(request("req-2", CLUSTER_A, UIN_A)),
                AuthorizationException.class).getMessage());
        messages.add(catchThrowableOfType(() -> directory.resolve(request("req-3", CLUSTER_B, UIN_B)),
                AuthorizationException.class).getMessage());

        List<String> secrets = new ArrayList<>(List.of(WORKER_KEY));
        stub.issued().forEach(k -> secrets.addAll(List.of(k.secretKey(), k.token())));
        assertThat(secrets).hasSizeGreaterThan(2);
        for (String secret : secrets) {
            assertThat(logs.lines()).noneMatch(l -> l.contains(secret));
            assertThat(messages).noneMatch(m -> m.contains(secret));
        }
    }

    /** Issue 26, G12: a requester that varies ownerUin leaves nothing behind. */
    @Test
    void rolesThatHoldNoKeysAreNotKeptAndExpiredKeysAreDropped() {
        stub.healthyCluster().grantRole(ROLE_A, CLUSTER_A).grantRole(ROLE_B, CLUSTER_B);
        TestTkeConfig config = TestTkeConfig.against(stub.endpoint()).withAssumeRole(true, Duration.ofMinutes(5));
        TenantRoles roles = new TenantRoles(config.assumeRole(), CloudApi.sts(config), clock);
        TkeAccount worker = new TkeAccount("worker", new Credential(WORKER_ID, WORKER_KEY));

        for (int i = 0; i < 50; i++) {
            String bogus = "1000000099" + (10 + i);
            assertThatThrownBy(() -> roles.assume(bogus, "req-bogus", () -> worker))
                    .isInstanceOf(AuthorizationException.class);
        }
        assertThat(roles.held()).as("roles kept after 50 uins that granted nothing").isZero();

        roles.assume(UIN_A, "req-a", () -> worker);
        roles.assume(UIN_B, "req-b", () -> worker);
        assertThat(roles.held()).as("the roles whose keys are live").isEqualTo(2);
    }
}

package io.apigw.authorizer.directory.tke;

import static io.apigw.authorizer.directory.tke.TkeStub.ENDPOINTS;
import static io.apigw.authorizer.directory.tke.TkeStub.KUBECONFIG;
import static io.apigw.authorizer.directory.tke.TkeStub.STATUS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import com.tencentcloudapi.common.Credential;
import com.tencentcloudapi.common.exception.TencentCloudSDKException;

import io.apigw.authorizer.directory.ClusterAccess;
import io.apigw.authorizer.directory.PrivateAccessDisabledException;
import io.apigw.authorizer.request.AuthorizationRequest;
import io.apigw.authorizer.request.RequestType;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.apigw.authorizer.testing.FreePort;
import io.apigw.authorizer.testing.LogCapture;
import io.fabric8.kubernetes.client.Config;

/** The real directory against a stand-in TKE API on 127.0.0.1. */
class TkeDirectoryTest {

    static final String CLUSTER = "cls-7xq2m9ab";
    static final String REGION = "ap-guangzhou";
    static final String DEFAULT_ID = "AKIDdefault0000";
    static final String DEFAULT_KEY = "default-secret-key-0000";

    final TkeStub stub = TkeStub.start();
    final LogCapture logs = LogCapture.install();

    @AfterEach
    void stop() {
        stub.close();
    }

    TkeDirectory directory(TestTkeConfig config) {
        return new TkeDirectory(config, () -> new Credential(DEFAULT_ID, DEFAULT_KEY));
    }

    TkeDirectory directory() {
        return directory(TestTkeConfig.against(stub.endpoint()));
    }

    static AuthorizationRequest request(String appId) {
        return new AuthorizationRequest(RequestType.AUTHORIZE, "req-1", CLUSTER, Optional.of(REGION),
                Optional.ofNullable(appId), Optional.empty());
    }

    static AuthorizationException failure(TkeDirectory directory, AuthorizationRequest request) {
        return catchThrowableOfType(() -> directory.resolve(request), AuthorizationException.class);
    }

    @Test
    void createdEndpointGivesTheIntranetServerTheClusterCaAndTheAdminCertificate() {
        stub.healthyCluster();

        ClusterAccess access = directory().resolve(request(null));

        assertThat(access.clusterId()).isEqualTo(CLUSTER);
        assertThat(access.server()).isEqualTo("https://10.0.0.5");
        assertThat(access.caPem()).isEqualTo(TkeStub.CA_PEM + "\n");
        Config config = access.clientConfig();
        assertThat(config.getMasterUrl()).startsWith("https://10.0.0.5");
        assertThat(new String(Base64.getDecoder().decode(config.getCaCertData()), StandardCharsets.UTF_8))
                .isEqualTo(TkeStub.CA_PEM + "\n");
        assertThat(config.isTrustCerts()).isFalse();
        assertThat(config.isDisableHostnameVerification()).isFalse();
        assertThat(config.getClientCertData()).isEqualTo(TkeStub.CLIENT_CERT_DATA);
        assertThat(config.getClientKeyData()).isEqualTo(TkeStub.CLIENT_KEY_DATA);
        assertThat(config.getOauthToken()).as("the current context's user, not the read-only one").isNull();
        assertThat(access.toString()).doesNotContain(TkeStub.CLIENT_KEY_DATA);
        assertThat(stub.actions()).containsExactly(STATUS, ENDPOINTS, KUBECONFIG);
    }

    @Test
    void tokenKubeconfigGivesABearerToken() {
        stub.healthyCluster().kubeconfig(TkeStub.tokenKubeconfig("admin-token-123"));

        Config config = directory().resolve(request(null)).clientConfig();

        assertThat(config.getOauthToken()).isEqualTo("admin-token-123");
        assertThat(config.getClientCertData()).isNull();
    }

    @ParameterizedTest
    @CsvSource({ "10.0.0.5:6443, https://10.0.0.5:6443", "https://10.0.0.7, https://10.0.0.7",
            "fd00::1, https://[fd00::1]" })
    void intranetEndpointAddressFormats(String address, String server) {
        stub.healthyCluster().endpoints(address, TkeStub.CA_PEM);

        assertThat(directory().resolve(request(null)).server()).isEqualTo(server);
    }

    @Test
    void everyCallIsSignedForTheRequestRegionWithThePrivateEndpointAsked() {
        stub.healthyCluster();

        directory().resolve(request(null));

        assertThat(stub.calls()).hasSize(3).allSatisfy(call -> {
            assertThat(call.signedWith(DEFAULT_ID, DEFAULT_KEY)).as("TC3 signature of " + call.action()).isTrue();
            assertThat(call.signedWith(DEFAULT_ID, "another-key")).isFalse();
            assertThat(call.header("X-TC-Region")).isEqualTo(REGION);
            assertThat(call.header("X-TC-Version")).isEqualTo("2018-05-25");
            assertThat(call.body().get("ClusterId").asText()).isEqualTo(CLUSTER);
        });
        assertThat(stub.calls()).filteredOn(c -> !c.action().equals(ENDPOINTS))
                .allSatisfy(call -> assertThat(call.body().get("IsExtranet").isBoolean()
                        && !call.body().get("IsExtranet").asBoolean()).as("IsExtranet=false").isTrue());
    }

    @ParameterizedTest
    @ValueSource(strings = { "NotFound", "Deleted", "CreateFailed", "DeletedFailed" })
    void privateEndpointOffIsPrivateAccessDisabled(String status) {
        stub.healthyCluster().endpointStatus(status);

        assertThatThrownBy(() -> directory().resolve(request(null)))
                .isInstanceOf(PrivateAccessDisabledException.class).hasMessageContaining(status);
        assertThat(stub.actions()).containsExactly(STATUS);
    }

    @ParameterizedTest
    @CsvSource({ "Creating, being created", "Deleting, being deleted" })
    void privateEndpointInTransitionIsRetried(String status, String says) {
        stub.healthyCluster().endpointStatus(status);

        AuthorizationException e = failure(directory(), request(null));

        assertThat(e.isTransient()).isTrue();
        assertThat(e.code()).isEqualTo(FailureCode.API_SERVER_UNREACHABLE);
        assertThat(e.getMessage()).contains(says, status);
    }

    @Test
    void unknownEndpointStatusIsATransientInternalFailure() {
        stub.healthyCluster().endpointStatus("Upgrading");

        AuthorizationException e = failure(directory(), request(null));

        assertThat(e.isTransient()).isTrue();
        assertThat(e.code()).isEqualTo(FailureCode.INTERNAL);
    }

    @ParameterizedTest
    @CsvSource({
            "ResourceNotFound.ClusterNotFound, CLUSTER_NOT_FOUND, false",
            "ResourceNotFound, CLUSTER_NOT_FOUND, false",
            "InvalidParameter.ClusterNotFound, CLUSTER_NOT_FOUND, false",
            "InternalError.ClusterNotFound, CLUSTER_NOT_FOUND, false",
            "InvalidParameter.Param, CLUSTER_NOT_FOUND, false",
            "InvalidParameter, CLUSTER_NOT_FOUND, false",
            "UnauthorizedOperation.CamNoAuth, PERMISSION_DENIED, false",
            "AuthFailure.SecretIdNotFound, PERMISSION_DENIED, false",
            "AuthFailure.SignatureFailure, PERMISSION_DENIED, false",
            "InternalError.CamNoAuth, PERMISSION_DENIED, false",
            "AuthFailure.SignatureExpire, INTERNAL, true",
            "InternalError, INTERNAL, true",
            "InternalError.Db, INTERNAL, true",
            "RequestLimitExceeded, INTERNAL, true",
            "RequestLimitExceeded.UinLimitExceeded, INTERNAL, true",
            "ResourceUnavailable.ClusterState, INTERNAL, true",
            "FailedOperation.KubeClientConnection, API_SERVER_UNREACHABLE, true",
            "MissingParameter, INTERNAL, false",
            "UnsupportedOperation.ClusterNotSupport, INTERNAL, false",
            "SomethingNew.Entirely, INTERNAL, false" })
    void apiErrorCodesAreSortedIntoContractCodes(String cloudCode, FailureCode code, boolean transientFailure) {
        stub.healthyCluster();
        String requestId = stub.error(STATUS, cloudCode, "what the cloud says\nabout " + cloudCode);

        AuthorizationException e = failure(directory(), request(null));

        assertThat(e.code()).isEqualTo(code);
        assertThat(e.isTransient()).isEqualTo(transientFailure);
        assertThat(e.getMessage()).contains(STATUS, cloudCode, "RequestId " + requestId, "what the cloud says about")
                .doesNotContain("\n");
        assertThat(logs.lines()).anyMatch(l -> l.contains(requestId) && l.contains(CLUSTER));
    }

    @Test
    void errorsOfLaterCallsAreSortedToo() {
        stub.healthyCluster().error(KUBECONFIG, "UnauthorizedOperation.CamNoAuth", "no tke:DescribeClusterKubeconfig");

        AuthorizationException e = failure(directory(), request(null));

        assertThat(e.code()).isEqualTo(FailureCode.PERMISSION_DENIED);
        assertThat(e.getMessage()).contains(KUBECONFIG);
    }

    @Test
    void nonOkHttpAnswerIsTransient() {
        stub.healthyCluster().reply(STATUS, 502, "<html>Bad Gateway</html>", Duration.ZERO);

        AuthorizationException e = failure(directory(), request(null));

        assertThat(e.isTransient()).isTrue();
        assertThat(e.code()).isEqualTo(FailureCode.INTERNAL);
        assertThat(e.getMessage()).contains("502");
    }

    @ParameterizedTest
    @ValueSource(strings = { "not json at all", "", "{}" })
    void answerThatIsNoApiEnvelopeIsTransient(String body) {
        stub.healthyCluster().reply(ENDPOINTS, 200, body, Duration.ZERO);

        AuthorizationException e = failure(directory(), request(null));

        assertThat(e.isTransient()).isTrue();
        assertThat(e.code()).isEqualTo(FailureCode.INTERNAL);
    }

    @Test
    void slowApiIsCutOffByTheReadTimeout() {
        stub.healthyCluster().reply(STATUS, 200, "{\"Response\":{\"Status\":\"Created\"}}", Duration.ofSeconds(4));

        long started = System.nanoTime();
        AuthorizationException e = failure(directory(), request(null));

        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(3));
        assertThat(e.isTransient()).isTrue();
        assertThat(e.code()).isEqualTo(FailureCode.INTERNAL);
        assertThat(e.getMessage()).contains("SocketTimeoutException");
    }

    @Test
    void unreachableApiIsTransient() {
        TkeDirectory directory = directory(TestTkeConfig.against("127.0.0.1:" + FreePort.closed()));

        AuthorizationException e = failure(directory, request(null));

        assertThat(e.isTransient()).isTrue();
        assertThat(e.code()).isEqualTo(FailureCode.INTERNAL);
    }

    @Test
    void noIntranetAddressYetIsTransient() {
        stub.healthyCluster().endpoints("", TkeStub.CA_PEM);

        AuthorizationException e = failure(directory(), request(null));

        assertThat(e.isTransient()).isTrue();
        assertThat(e.code()).isEqualTo(FailureCode.API_SERVER_UNREACHABLE);
    }

    @Test
    void noCaIsNeverReplacedByTrustingEverything() {
        stub.healthyCluster().endpoints(TkeStub.INTRANET_IP, "");

        AuthorizationException e = failure(directory(), request(null));

        assertThat(e.code()).isEqualTo(FailureCode.INTERNAL);
        assertThat(e.getMessage()).contains("no CA certificate");
    }

    @Test
    void kubeconfigWithoutCredentialIsInternal() {
        stub.healthyCluster().kubeconfig("apiVersion: v1\nkind: Config\nusers:\n- name: x\n  user:\n"
                + "    username: bob\n");

        AuthorizationException e = failure(directory(), request(null));

        assertThat(e.code()).isEqualTo(FailureCode.INTERNAL);
        assertThat(e.isTransient()).isFalse();
        assertThat(e.getMessage()).contains("neither a token nor");
    }

    @Test
    void unparsableKubeconfigIsNotQuoted() {
        stub.healthyCluster().kubeconfig("users: [ {user: {token: secret-admin-token-xyz}} ::: ]]]");

        AuthorizationException e = failure(directory(), request(null));

        assertThat(e.code()).isEqualTo(FailureCode.INTERNAL);
        assertThat(e.getMessage()).contains("cannot be parsed").doesNotContain("secret-admin-token-xyz");
        assertThat(logs.lines()).noneMatch(l -> l.contains("secret-admin-token-xyz"));
    }

    @Test
    void tenantKeysSignTheirOwnRequests() {
        stub.healthyCluster();
        TkeDirectory directory = directory(TestTkeConfig.against(stub.endpoint()).withTenants(false, Map.of(
                "1250000000", new TestTkeConfig.Keys("AKIDtenantA", "key-of-tenant-a"),
                "1250000001", new TestTkeConfig.Keys("AKIDtenantB", "key-of-tenant-b"))));

        directory.resolve(request("1250000000"));
        assertThat(stub.calls()).hasSize(3).allMatch(c -> c.signedWith("AKIDtenantA", "key-of-tenant-a"));

        stub.forgetCalls();
        directory.resolve(request("1250000001"));
        assertThat(stub.calls()).hasSize(3).allMatch(c -> c.signedWith("AKIDtenantB", "key-of-tenant-b"));

        stub.forgetCalls();
        directory.resolve(request("1259999999"));
        assertThat(stub.calls()).as("unknown tenant, keys not required: the default account")
                .hasSize(3).allMatch(c -> c.signedWith(DEFAULT_ID, DEFAULT_KEY));
    }

    @Test
    void tenantWithoutKeysIsClusterNotFoundWhenKeysAreRequired() {
        stub.healthyCluster();
        TkeDirectory directory = directory(TestTkeConfig.against(stub.endpoint()).withTenants(true,
                Map.of("1250000000", new TestTkeConfig.Keys("AKIDtenantA", "key-of-tenant-a"))));

        for (String appId : new String[] { "1259999999", null }) {
            AuthorizationException e = failure(directory, request(appId));
            assertThat(e.code()).isEqualTo(FailureCode.CLUSTER_NOT_FOUND);
            assertThat(e.isTransient()).isFalse();
        }
        assertThat(stub.calls()).as("nobody else's keys are tried").isEmpty();
        assertThat(directory.resolve(request("1250000000")).server()).isEqualTo("https://10.0.0.5");
    }

    @Test
    void missingDefaultCredentialsAreReportedWithoutCallingTheApi() {
        stub.healthyCluster();
        TkeDirectory directory = new TkeDirectory(TestTkeConfig.against(stub.endpoint()), () -> {
            throw new TencentCloudSDKException("Environment variable secretId cannot be empty");
        });

        AuthorizationException e = failure(directory, request(null));

        assertThat(e.code()).isEqualTo(FailureCode.INTERNAL);
        assertThat(e.getMessage()).contains("no Tencent Cloud credentials");
        assertThat(stub.calls()).isEmpty();
    }

    @Test
    void disabledAnswerIsNotCachedSoEnablingWorksAtOnce() {
        stub.healthyCluster().endpointStatus("NotFound");
        TkeDirectory directory = directory();

        assertThatThrownBy(() -> directory.resolve(request(null))).isInstanceOf(PrivateAccessDisabledException.class);
        stub.endpointStatus("Created");

        assertThat(directory.resolve(request(null)).server()).isEqualTo("https://10.0.0.5");
    }

    @Test
    void transientFailureIsNotCached() {
        stub.healthyCluster().error(ENDPOINTS, "InternalError", "try later");
        TkeDirectory directory = directory();

        assertThat(failure(directory, request(null)).isTransient()).isTrue();
        stub.healthyCluster();

        assertThat(directory.resolve(request(null)).server()).isEqualTo("https://10.0.0.5");
    }

    @Test
    void successIsCachedPerTenantRegionAndClusterWithAFreshClientConfigEachTime() {
        stub.healthyCluster();
        TkeDirectory directory = directory();

        ClusterAccess first = directory.resolve(request(null));
        stub.forgetCalls();
        ClusterAccess second = directory.resolve(request(null));

        assertThat(stub.calls()).isEmpty();
        assertThat(second.server()).isEqualTo(first.server());
        assertThat(second.clientConfig()).isNotSameAs(first.clientConfig());
        assertThat(second.clientConfig().getClientKeyData()).isEqualTo(TkeStub.CLIENT_KEY_DATA);

        directory.resolve(request("1250000000"));
        directory.resolve(new AuthorizationRequest(RequestType.AUTHORIZE, "req-2", CLUSTER, Optional.of("ap-shanghai"),
                Optional.empty(), Optional.empty()));
        assertThat(stub.calls()).hasSize(6);
        assertThat(stub.calls().get(3).header("X-TC-Region")).isEqualTo("ap-shanghai");
    }

    @Test
    void cachedAccessExpires() throws InterruptedException {
        stub.healthyCluster();
        TkeDirectory directory = directory(TestTkeConfig.against(stub.endpoint()).withCacheTtl(Duration.ofMillis(100)));

        directory.resolve(request(null));
        Thread.sleep(200);
        stub.endpointStatus("Deleted");

        assertThatThrownBy(() -> directory.resolve(request(null))).isInstanceOf(PrivateAccessDisabledException.class);
    }

    @Test
    void zeroTtlTurnsTheCacheOff() {
        stub.healthyCluster();
        TkeDirectory directory = directory(TestTkeConfig.against(stub.endpoint()).withCacheTtl(Duration.ZERO));

        directory.resolve(request(null));
        directory.resolve(request(null));

        assertThat(stub.calls()).hasSize(6);
    }

    @Test
    void noKeyOrAdminCredentialInAnyLogLineOrMessage() {
        stub.healthyCluster();
        TkeDirectory directory = directory();
        directory.resolve(request(null));
        stub.error(KUBECONFIG, "AuthFailure.SignatureFailure", "signature mismatch");
        String failure = failure(directory(), request(null)).getMessage();

        List<String> secrets = List.of(DEFAULT_KEY, TkeStub.CLIENT_KEY_DATA, TkeStub.CLIENT_CERT_DATA, "MIIEadmin");
        for (String secret : secrets) {
            assertThat(logs.lines()).noneMatch(l -> l.contains(secret));
            assertThat(failure).doesNotContain(secret);
        }
    }
}

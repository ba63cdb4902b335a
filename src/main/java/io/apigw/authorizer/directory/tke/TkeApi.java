package io.apigw.authorizer.directory.tke;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.tencentcloudapi.common.CommonClient;
import com.tencentcloudapi.common.exception.TencentCloudSDKException;
import com.tencentcloudapi.common.profile.ClientProfile;
import com.tencentcloudapi.common.profile.HttpProfile;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;

/**
 * Calls of TKE API 3.0 (POST JSON, TC3-HMAC-SHA256 signed by the SDK), each bounded as a whole by connect + 2 x
 * read timeout.
 * Answers are returned as the {@code Response} object; errors as {@link AuthorizationException}s. Request bodies and
 * answers are never logged: a DescribeClusterKubeconfig answer holds an admin credential.
 */
final class TkeApi {

    static final String SERVICE = "tke";
    static final String VERSION = "2018-05-25";
    private static final Logger LOG = Logger.getLogger(TkeApi.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Calls run here so that the caller can stop waiting for one (see {@link #call}). */
    private static final ExecutorService CALLS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "tke-call");
        t.setDaemon(true);
        return t;
    });

    private final ClientProfile profile;
    private final Duration callLimit;
    /** One client per account and region: building one loads the TLS defaults again. */
    private final Map<String, CommonClient> clients = new ConcurrentHashMap<>();

    TkeApi(AuthorizerConfig.Directory.Tke config) {
        HttpProfile http = new HttpProfile();
        http.setEndpoint(config.endpoint());
        http.setProtocol(config.protocol() == AuthorizerConfig.Directory.Tke.Protocol.http ? HttpProfile.REQ_HTTP
                : HttpProfile.REQ_HTTPS);
        http.setConnTimeout(seconds(config.connectTimeout()));
        http.setReadTimeout(seconds(config.readTimeout()));
        http.setWriteTimeout(seconds(config.readTimeout()));
        this.profile = new ClientProfile(ClientProfile.SIGN_TC3_256, http);
        this.callLimit = config.connectTimeout().plus(config.readTimeout().multipliedBy(2));
    }

    static ObjectNode params(String clusterId) {
        return JSON.createObjectNode().put("ClusterId", clusterId);
    }

    JsonNode call(TkeAccount account, String region, String action, ObjectNode params) {
        CommonClient client = clients.computeIfAbsent(account.name() + "@" + region,
                k -> new CommonClient(SERVICE, VERSION, account.credential(), region, profile));
        String clusterId = params.path("ClusterId").asText();
        String body;
        Future<String> answer = CALLS.submit(() -> client.call(action, params.toString()));
        try {
            body = answer.get(callLimit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TencentCloudSDKException sdk) {
                throw logged(account, region, clusterId, TkeErrors.classify(action, sdk));
            }
            // The SDK fails this way on some malformed answers (e.g. an empty body) and on credential renewal errors.
            throw logged(account, region, clusterId, AuthorizationException.transientFailure(FailureCode.INTERNAL,
                    "TKE " + action + " gave no usable answer (" + e.getCause().getClass().getSimpleName() + ")"));
        } catch (TimeoutException | InterruptedException e) {
            // The SDK's timeouts bound connecting and each read, not a body that trickles in: give up on the call
            // (its thread ends with the SDK's next read timeout).
            answer.cancel(true);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw logged(account, region, clusterId, AuthorizationException.transientFailure(FailureCode.INTERNAL,
                    "TKE " + action + " did not answer within " + callLimit.toSeconds() + "s"));
        }
        JsonNode response;
        try {
            response = JSON.readTree(body).path("Response");
        } catch (JsonProcessingException e) {
            throw logged(account, region, clusterId, AuthorizationException.transientFailure(FailureCode.INTERNAL,
                    "TKE " + action + " gave no usable answer (not JSON)"));
        }
        LOG.debugf("TKE %s for %s in %s (%s): RequestId %s", action, clusterId, region, account,
                response.path("RequestId").asText("-"));
        return response;
    }

    private static AuthorizationException logged(TkeAccount account, String region, String clusterId,
            AuthorizationException e) {
        LOG.infof("cluster %s in %s (%s): %s", clusterId, region, account, e.getMessage());
        return e;
    }

    /** The SDK takes whole seconds; round up so that a sub-second setting never means "no timeout" (0). */
    private static int seconds(Duration d) {
        return (int) Math.max(1, (d.toMillis() + 999) / 1000);
    }
}

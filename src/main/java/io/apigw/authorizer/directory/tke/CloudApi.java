package io.apigw.authorizer.directory.tke;

import java.time.Duration;
import java.util.Map;
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
import io.apigw.authorizer.timing.DaemonThreads;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;

/**
 * Calls of one Tencent Cloud API 3.0 service, TKE or STS (POST JSON, TC3-HMAC-SHA256 signed by the SDK), each
 * bounded as a whole by connect + 2 x read timeout.
 * Answers are returned as the {@code Response} object; errors as {@link AuthorizationException}s. Request bodies and
 * answers are never logged: a DescribeClusterKubeconfig answer holds an admin credential, an AssumeRole answer keys.
 */
final class CloudApi {

    /** Sorts an API error of one action into a contract code. */
    interface Errors {
        AuthorizationException classify(String action, TencentCloudSDKException e);
    }

    private static final Logger LOG = Logger.getLogger(CloudApi.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Calls run here so that the caller can stop waiting for one (see {@link #call}). */
    private static final ExecutorService CALLS = Executors.newCachedThreadPool(DaemonThreads.named("tke-call"));

    private final String service;
    private final String version;
    private final Errors errors;
    private final ClientProfile profile;
    private final Duration callLimit;
    /** Clients kept: far more accounts and regions than are used at once. */
    static final int MAX_CLIENTS = 512;
    /** One client per account and region: building one loads the TLS defaults again. LRU, at most MAX_CLIENTS. */
    private final Map<String, CommonClient> clients = Collections.synchronizedMap(
            new LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, CommonClient> eldest) {
                    // An assumed role is an account of its own: one per tenant ever seen, so the least recently
                    // used go (issue 26, G12); a client is cheap to make again.
                    return size() > MAX_CLIENTS;
                }
            });

    private CloudApi(String service, String version, String endpoint, AuthorizerConfig.Directory.Tke config,
            Errors errors) {
        this.service = service;
        this.version = version;
        this.errors = errors;
        requireTls(config.protocol(), endpoint);
        HttpProfile http = new HttpProfile();
        http.setEndpoint(endpoint);
        http.setProtocol(config.protocol() == AuthorizerConfig.Directory.Tke.Protocol.http ? HttpProfile.REQ_HTTP
                : HttpProfile.REQ_HTTPS);
        http.setConnTimeout(seconds(config.connectTimeout()));
        http.setReadTimeout(seconds(config.readTimeout()));
        http.setWriteTimeout(seconds(config.readTimeout()));
        this.profile = new ClientProfile(ClientProfile.SIGN_TC3_256, http);
        this.callLimit = config.connectTimeout().plus(config.readTimeout().multipliedBy(2));
    }

    /**
     * Admin kubeconfigs and STS keys travel over this API: plain HTTP only to a stand-in on this machine (issue 26,
     * G13), refused at start-up otherwise.
     */
    static void requireTls(AuthorizerConfig.Directory.Tke.Protocol protocol, String endpoint) {
        if (protocol == AuthorizerConfig.Directory.Tke.Protocol.https) {
            return;
        }
        String host = endpoint.startsWith("[") ? endpoint.substring(0, endpoint.indexOf(']') + 1)
                : endpoint.replaceFirst(":[0-9]*$", "");
        boolean loopback = host.equals("localhost") || host.equals("[::1]")
                || host.matches("127\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}");
        if (!loopback) {
            throw new IllegalArgumentException("authorizer.directory.tke.protocol=http is for a local stand-in only: "
                    + "the endpoint " + endpoint + " is not a loopback address; use https");
        }
    }

    static CloudApi tke(AuthorizerConfig.Directory.Tke config) {
        return new CloudApi("tke", "2018-05-25", config.endpoint(), config, TkeErrors::classify);
    }

    static CloudApi sts(AuthorizerConfig.Directory.Tke config) {
        return new CloudApi("sts", "2018-08-13", config.assumeRole().endpoint(), config, TkeErrors::classifyAssumeRole);
    }

    static ObjectNode params(String clusterId) {
        return JSON.createObjectNode().put("ClusterId", clusterId);
    }

    /** @param subject what the call is about, for logs: {@code cluster <id>} or a role */
    JsonNode call(TkeAccount account, String region, String action, ObjectNode params, String subject) {
        // A client is kept per account and region while the account's keys stay the same (assumed roles renew).
        CommonClient client = clients.compute(account.name() + "@" + region,
                (k, kept) -> kept != null && kept.getCredential() == account.credential() ? kept
                        : new CommonClient(service, version, account.credential(), region, profile));
        String body;
        Future<String> answer = CALLS.submit(() -> client.call(action, params.toString()));
        try {
            body = answer.get(callLimit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TencentCloudSDKException sdk) {
                throw logged(account, region, subject, errors.classify(action, sdk));
            }
            // The SDK fails this way on some malformed answers (e.g. an empty body) and on credential renewal errors.
            throw logged(account, region, subject, AuthorizationException.transientFailure(FailureCode.INTERNAL,
                    name(action) + " gave no usable answer (" + e.getCause().getClass().getSimpleName() + ")"));
        } catch (TimeoutException | InterruptedException e) {
            // The SDK's timeouts bound connecting and each read, not a body that trickles in: give up on the call
            // (its thread ends with the SDK's next read timeout).
            answer.cancel(true);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw logged(account, region, subject, AuthorizationException.transientFailure(FailureCode.INTERNAL,
                    name(action) + " did not answer within " + callLimit.toSeconds() + "s"));
        }
        JsonNode response;
        try {
            response = JSON.readTree(body).path("Response");
        } catch (JsonProcessingException e) {
            throw logged(account, region, subject, AuthorizationException.transientFailure(FailureCode.INTERNAL,
                    name(action) + " gave no usable answer (not JSON)"));
        }
        LOG.debugf("%s for %s in %s (%s): RequestId %s", name(action), subject, region, account,
                response.path("RequestId").asText("-"));
        return response;
    }

    private String name(String action) {
        return service.toUpperCase(Locale.ROOT) + " " + action;
    }

    private static AuthorizationException logged(TkeAccount account, String region, String subject,
            AuthorizationException e) {
        LOG.infof("%s in %s (%s): %s", subject, region, account, e.getMessage());
        return e;
    }

    /** The SDK takes whole seconds; round up so that a sub-second setting never means "no timeout" (0). */
    private static int seconds(Duration d) {
        return (int) Math.max(1, (d.toMillis() + 999) / 1000);
    }
}

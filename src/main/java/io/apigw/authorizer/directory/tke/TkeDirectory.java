package io.apigw.authorizer.directory.tke;

import java.net.URI;
import java.time.Clock;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.tencentcloudapi.common.provider.CredentialsProvider;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.directory.ClusterAccess;
import io.apigw.authorizer.directory.ClusterDirectory;
import io.apigw.authorizer.directory.PrivateAccessDisabledException;
import io.apigw.authorizer.request.AuthorizationRequest;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import java.net.URISyntaxException;

/**
 * Clusters of Tencent Cloud TKE, found with the TKE API in the request's region and the account of its appId:
 * DescribeClusterEndpointStatus tells whether the private endpoint is on, DescribeClusterEndpoints gives its address
 * and CA, DescribeClusterKubeconfig the admin credential. The kubeconfig's own {@code server} is not used: it cannot
 * tell whether private access is on.
 */
public class TkeDirectory implements ClusterDirectory {

    private static final Logger LOG = Logger.getLogger(TkeDirectory.class);

    private final CloudApi api;
    private final TkeAccounts accounts;
    private final AccessCache cache;

    /**
     * @param defaultCredentials the worker's own identity: signs STS AssumeRole, and the TKE calls of requests
     *        without tenant credentials unless those are required
     */
    public TkeDirectory(AuthorizerConfig.Directory.Tke config, CredentialsProvider defaultCredentials) {
        this(config, defaultCredentials, Clock.systemUTC());
    }

    TkeDirectory(AuthorizerConfig.Directory.Tke config, CredentialsProvider defaultCredentials, Clock clock) {
        this.api = CloudApi.tke(config);
        TenantRoles roles = config.assumeRole().enabled()
                ? new TenantRoles(config.assumeRole(), CloudApi.sts(config), clock)
                : null;
        this.accounts = new TkeAccounts(config, defaultCredentials, roles);
        this.cache = new AccessCache(config.cacheTtl());
    }

    @Override
    public boolean knowsTenants() {
        return true;
    }

    @Override
    public ClusterAccess resolve(AuthorizationRequest request) {
        String clusterId = request.clusterId();
        String region = request.region().orElseThrow(() -> AuthorizationException
                .permanent(FailureCode.INVALID_REQUEST, "the tke cluster directory needs the cluster's region"));
        AccessCache.Key key = new AccessCache.Key(request.appId().orElse(""), request.ownerUin().orElse(""), region,
                clusterId);
        PrivateEndpoint endpoint = cache.get(key);
        if (endpoint == null) {
            TkeAccount account = accounts.forRequest(request);
            try {
                endpoint = lookUp(account, region, clusterId);
            } catch (AuthorizationException e) {
                if (e.code() == FailureCode.PERMISSION_DENIED) {
                    accounts.refused(account);
                }
                throw e;
            }
            cache.put(key, endpoint);
        }
        return endpoint.access(clusterId);
    }

    private PrivateEndpoint lookUp(TkeAccount account, String region, String clusterId) {
        JsonNode status = api.call(account, region, "DescribeClusterEndpointStatus",
                CloudApi.params(clusterId).put("IsExtranet", false), "cluster " + clusterId);
        requireCreated(status, account, region, clusterId);

        JsonNode endpoints = api.call(account, region, "DescribeClusterEndpoints", CloudApi.params(clusterId),
                "cluster " + clusterId);
        String address = text(endpoints, "ClusterIntranetEndpoint");
        if (address.isEmpty()) {
            throw AuthorizationException.transientFailure(FailureCode.API_SERVER_UNREACHABLE,
                    "TKE lists no private endpoint address for cluster " + clusterId + " yet" + requestId(endpoints));
        }
        String ca = text(endpoints, "CertificationAuthority");
        if (!ca.startsWith("-----BEGIN CERTIFICATE-----")) {
            throw AuthorizationException.transientFailure(FailureCode.INTERNAL,
                    "TKE returned no CA certificate for cluster " + clusterId + requestId(endpoints));
        }

        JsonNode kubeconfig = api.call(account, region, "DescribeClusterKubeconfig",
                CloudApi.params(clusterId).put("IsExtranet", false), "cluster " + clusterId);
        AdminCredential admin = AdminCredential.fromKubeconfig(text(kubeconfig, "Kubeconfig"), clusterId);
        return new PrivateEndpoint(serverUrl(address, clusterId), ca + "\n", admin);
    }

    private static void requireCreated(JsonNode answer, TkeAccount account, String region, String clusterId) {
        String status = text(answer, "Status");
        switch (status) {
            case "Created" -> {
                return;
            }
            case "NotFound", "Deleted", "CreateFailed", "DeletedFailed" -> {
                String error = text(answer, "ErrorMsg");
                String reason = "private endpoint status " + status
                        + (error.isEmpty() || error.equals(status) ? "" : ": " + TkeErrors.clean(error))
                        + requestId(answer);
                LOG.infof("cluster %s in %s (%s): %s", clusterId, region, account, reason);
                throw new PrivateAccessDisabledException(reason);
            }
            case "Creating", "Deleting" -> throw AuthorizationException.transientFailure(
                    FailureCode.API_SERVER_UNREACHABLE, "the private endpoint of cluster " + clusterId + " is being "
                            + (status.equals("Creating") ? "created" : "deleted") + " (status " + status + ")"
                            + requestId(answer));
            default -> throw AuthorizationException.transientFailure(FailureCode.INTERNAL,
                    "TKE reports an unknown private endpoint status '" + TkeErrors.clean(status) + "' for cluster "
                            + clusterId + requestId(answer));
        }
    }

    /**
     * {@code https://<ClusterIntranetEndpoint>}, port 443 unless TKE names one. The address (an IP) is dialled as it
     * is: the intranet domain needs private DNS or a hosts entry, and the API server certificate names the address.
     */
    private static String serverUrl(String address, String clusterId) {
        String hostPort = address.replaceFirst("^(?i)https?://", "").replaceFirst("/+$", "");
        if (hostPort.indexOf(':') != hostPort.lastIndexOf(':') && !hostPort.startsWith("[")) {
            hostPort = "[" + hostPort + "]"; // a bare IPv6 address
        }
        String url = "https://" + hostPort;
        try {
            URI uri = new URI(url);
            if (uri.getHost() != null && uri.getRawPath().isEmpty() && uri.getRawQuery() == null
                    && uri.getRawUserInfo() == null) {
                return url;
            }
        } catch (URISyntaxException e) {
            // reported below
        }
        throw AuthorizationException.permanent(FailureCode.INTERNAL,
                "TKE lists an unusable private endpoint address for cluster " + clusterId + ": "
                        + TkeErrors.clean(address));
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.path(field);
        return value.isTextual() ? value.asText().trim() : "";
    }

    private static String requestId(JsonNode answer) {
        String id = text(answer, "RequestId");
        return id.isEmpty() ? "" : " (RequestId " + id + ")";
    }
}

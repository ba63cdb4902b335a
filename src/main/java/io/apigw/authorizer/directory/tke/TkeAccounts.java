package io.apigw.authorizer.directory.tke;

import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

import org.jboss.logging.Logger;

import com.tencentcloudapi.common.Credential;
import com.tencentcloudapi.common.exception.TencentCloudSDKException;
import com.tencentcloudapi.common.provider.CredentialsProvider;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.request.AuthorizationRequest;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;

/**
 * Picks the account for a request: the tenant's own API keys when configured for its {@code appId}; else, with
 * assume-role on and an {@code ownerUin}, the role that account granted; otherwise, unless tenant credentials are
 * required, the worker's default credentials. A request is never served with another tenant's keys.
 */
final class TkeAccounts {

    private static final Logger LOG = Logger.getLogger(TkeAccounts.class);

    private final Map<String, TkeAccount> tenants;
    private final boolean tenantRequired;
    private final CredentialsProvider defaultChain;
    /** Null when assume-role is off. */
    private final TenantRoles roles;
    private volatile TkeAccount defaultAccount;

    TkeAccounts(AuthorizerConfig.Directory.Tke config, CredentialsProvider defaultChain, TenantRoles roles) {
        this.tenants = config.tenants().entrySet().stream().collect(Collectors.toUnmodifiableMap(Map.Entry::getKey,
                t -> new TkeAccount("appId " + t.getKey(),
                        new Credential(t.getValue().secretId(), t.getValue().secretKey()))));
        this.tenantRequired = config.requireTenantCredentials();
        this.defaultChain = defaultChain;
        this.roles = roles;
    }

    TkeAccount forRequest(AuthorizationRequest request) {
        Optional<String> appId = request.appId();
        TkeAccount tenant = appId.map(tenants::get).orElse(null);
        if (tenant != null) {
            return tenant;
        }
        if (roles != null && request.ownerUin().isPresent()) {
            return roles.assume(request.ownerUin().get(), request.requestId(), this::defaultAccount);
        }
        if (tenantRequired) {
            String served = roles == null ? "configured tenants" : "configured tenants and requests with an ownerUin";
            throw AuthorizationException.permanent(FailureCode.CLUSTER_NOT_FOUND, appId
                    .map(id -> "no Tencent Cloud account is configured for appId " + id + ", and this worker serves "
                            + served + " only")
                    .orElse("the request names no appId, and this worker serves " + served + " only"));
        }
        return defaultAccount();
    }

    /** After TKE refused an assumed role's keys: the next request assumes the role again. */
    void refused(TkeAccount account) {
        if (roles != null) {
            roles.forget(account);
        }
    }

    /** Resolved once: the SDK's role credentials renew themselves, and the chain may call the CVM metadata service. */
    private TkeAccount defaultAccount() {
        TkeAccount account = defaultAccount;
        if (account != null) {
            return account;
        }
        Credential credential = null;
        String reason = "none";
        try {
            credential = defaultChain.getCredentials();
        } catch (TencentCloudSDKException e) {
            reason = e.getMessage();
        } catch (RuntimeException e) {
            reason = e.getClass().getSimpleName();
        }
        if (credential == null) {
            LOG.errorf("no Tencent Cloud credentials found (TENCENTCLOUD_SECRET_ID/KEY, profile file, CVM role): %s",
                    reason);
            throw AuthorizationException.permanent(FailureCode.INTERNAL,
                    "the worker has no Tencent Cloud credentials for the TKE API");
        }
        account = new TkeAccount("default", credential);
        defaultAccount = account;
        return account;
    }
}

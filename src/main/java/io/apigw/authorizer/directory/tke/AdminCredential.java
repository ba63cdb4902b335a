package io.apigw.authorizer.directory.tke;

import java.util.List;
import java.util.Objects;

import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.fabric8.kubernetes.api.model.AuthInfo;
import io.fabric8.kubernetes.api.model.NamedAuthInfo;
import io.fabric8.kubernetes.api.model.NamedContext;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.internal.KubeConfigUtils;

/**
 * The admin credential of the kubeconfig that DescribeClusterKubeconfig returns: a bearer token or a client certificate
 * and key (base64 PEM, as in the kubeconfig). Only the user is taken from it: the server and CA come from
 * DescribeClusterEndpoints. Never logged; parse errors name no content, since parsers quote what they read.
 */
record AdminCredential(String token, String clientCertData, String clientKeyData) {

    static AdminCredential fromKubeconfig(String kubeconfig, String clusterId) {
        io.fabric8.kubernetes.api.model.Config parsed;
        try {
            parsed = KubeConfigUtils.parseConfigFromString(kubeconfig);
        } catch (RuntimeException e) {
            throw unusable(clusterId, "cannot be parsed (" + e.getClass().getSimpleName() + ")");
        }
        AuthInfo user = parsed == null ? null : currentUser(parsed);
        if (user == null) {
            throw unusable(clusterId, "names no user");
        }
        AdminCredential credential = new AdminCredential(blankToNull(user.getToken()),
                blankToNull(user.getClientCertificateData()), blankToNull(user.getClientKeyData()));
        if (credential.token == null && (credential.clientCertData == null || credential.clientKeyData == null)) {
            throw unusable(clusterId, "holds neither a token nor an embedded client certificate and key");
        }
        return credential;
    }

    void applyTo(Config config) {
        config.setOauthToken(token);
        config.setClientCertData(clientCertData);
        config.setClientKeyData(clientKeyData);
    }

    /** The current context's user, or the only user when the kubeconfig names no usable context. */
    private static AuthInfo currentUser(io.fabric8.kubernetes.api.model.Config kubeconfig) {
        List<NamedAuthInfo> users = Objects.requireNonNullElse(kubeconfig.getUsers(), List.of());
        String userName = Objects.requireNonNullElse(kubeconfig.getContexts(), List.<NamedContext> of()).stream()
                .filter(c -> Objects.equals(c.getName(), kubeconfig.getCurrentContext()) && c.getContext() != null)
                .map(c -> c.getContext().getUser()).findFirst().orElse(null);
        return users.stream().filter(u -> userName == null ? users.size() == 1 : userName.equals(u.getName()))
                .map(NamedAuthInfo::getUser).filter(Objects::nonNull).findFirst().orElse(null);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    private static AuthorizationException unusable(String clusterId, String why) {
        return AuthorizationException.permanent(FailureCode.INTERNAL,
                "the kubeconfig TKE returned for cluster " + clusterId + " " + why);
    }

    @Override
    public String toString() {
        return "AdminCredential[" + (token != null ? "token" : "client certificate") + "]";
    }
}

package io.apigw.authorizer.kube;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Objects;

import io.fabric8.kubernetes.client.Config;

/** The key a kept client is found by: everything that makes it another client, as a digest. */
final class ClientKey {

    private ClientKey() {
    }

    /**
     * A digest, so the map holds no credential. The cluster id keeps two contexts on one server apart; files are
     * hashed by content, so a certificate rotated in place gets a new client.
     */
    static String of(String role, String clusterId, Config c, String caPem) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            // A kubeconfig's token arrives as the "auto" token.
            for (String part : new String[] { role, clusterId, c.getMasterUrl(), c.getOauthToken(),
                    c.getAutoOAuthToken(), caPem, c.getCaCertData(), c.getCaCertFile(),
                    String.valueOf(c.getTrustCerts()), c.getClientCertData(), c.getClientKeyData(),
                    c.getClientCertFile(), c.getClientKeyFile(), c.getClientKeyPassphrase(), c.getUsername(),
                    c.getPassword(), String.valueOf(c.getAuthProvider()), c.getImpersonateUsername(),
                    c.getHttpProxy(), c.getHttpsProxy(), String.join(",", Objects.requireNonNullElse(c.getNoProxy(),
                            new String[0])), c.getProxyUsername(), c.getProxyPassword() }) {
                digest.update(Objects.toString(part, "").getBytes(StandardCharsets.UTF_8));
                digest.update((byte) 0);
            }
            for (String file : new String[] { c.getCaCertFile(), c.getClientCertFile(), c.getClientKeyFile() }) {
                digest.update(contents(file));
                digest.update((byte) 0);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static byte[] contents(String file) {
        if (file == null || file.isBlank()) {
            return new byte[0];
        }
        try {
            return Files.readAllBytes(Path.of(file));
        } catch (IOException | RuntimeException e) {
            return new byte[0]; // the client build then reports the file as unusable
        }
    }
}

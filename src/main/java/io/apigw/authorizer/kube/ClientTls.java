package io.apigw.authorizer.kube;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;

import javax.net.ssl.KeyManager;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.internal.SSLUtils;

/** A target client's TLS: the cluster's own CA and nothing else, and the admin's client certificate if it has one. */
final class ClientTls {

    private ClientTls() {
    }

    static TrustManager[] trustOnly(String caPem) {
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (Certificate ca : CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(caPem.getBytes(StandardCharsets.UTF_8)))) {
                store.setCertificateEntry("cluster-ca-" + i++, ca);
            }
            if (i == 0) {
                throw new CertificateException("no certificate in the cluster CA");
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            return factory.getTrustManagers();
        } catch (GeneralSecurityException | IOException e) {
            throw AuthorizationException.permanent(FailureCode.INTERNAL,
                    "the cluster CA cannot be used: " + e.getClass().getSimpleName());
        }
    }

    static KeyManager[] keyManagers(Config config) {
        try {
            return SSLUtils.keyManagers(config);
        } catch (GeneralSecurityException | IOException e) {
            throw AuthorizationException.permanent(FailureCode.INTERNAL,
                    "the admin client certificate cannot be used: " + e.getClass().getSimpleName());
        }
    }
}

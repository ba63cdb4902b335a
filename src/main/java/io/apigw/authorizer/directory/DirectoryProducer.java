package io.apigw.authorizer.directory;

import java.nio.file.Path;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;

import io.apigw.authorizer.config.AuthorizerConfig;

/** Chooses the cluster directory named by {@code authorizer.directory.type}. */
@ApplicationScoped
public class DirectoryProducer {

    @Produces
    @ApplicationScoped
    ClusterDirectory directory(AuthorizerConfig config) {
        return switch (config.directory().type()) {
            case kubeconfig -> new KubeconfigDirectory(kubeconfigPath(config));
            case tke -> throw new IllegalStateException(
                    "authorizer.directory.type=tke is not available in this build; use kubeconfig");
        };
    }

    static Path kubeconfigPath(AuthorizerConfig config) {
        return config.directory().kubeconfig().path().map(Path::of).orElseGet(() -> {
            String env = System.getenv("KUBECONFIG");
            if (env != null && !env.isBlank()) {
                return Path.of(env.split(java.io.File.pathSeparator)[0]);
            }
            return Path.of(System.getProperty("user.home"), ".kube", "config");
        });
    }
}

package io.apigw.authorizer.directory;

import java.nio.file.Path;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;

import com.tencentcloudapi.common.provider.DefaultCredentialsProvider;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.quarkus.runtime.Startup;
import io.apigw.authorizer.directory.tke.TkeDirectory;
import java.io.File;

/** Chooses the cluster directory named by {@code authorizer.directory.type}. */
@ApplicationScoped
public class DirectoryProducer {

    /** Made at start-up, so that settings which cannot work stop the worker before it reads a request. */
    @Produces
    @ApplicationScoped
    @Startup
    ClusterDirectory directory(AuthorizerConfig config) {
        return switch (config.directory().type()) {
            case kubeconfig -> new KubeconfigDirectory(kubeconfigPath(config));
            case tke -> new TkeDirectory(config.directory().tke(), new DefaultCredentialsProvider());
        };
    }

    static Path kubeconfigPath(AuthorizerConfig config) {
        return config.directory().kubeconfig().path().map(Path::of).orElseGet(() -> {
            String env = System.getenv("KUBECONFIG");
            if (env != null && !env.isBlank()) {
                return Path.of(env.split(File.pathSeparator)[0]);
            }
            return Path.of(System.getProperty("user.home"), ".kube", "config");
        });
    }
}

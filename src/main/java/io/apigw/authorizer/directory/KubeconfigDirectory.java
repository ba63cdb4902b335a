package io.apigw.authorizer.directory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import org.jboss.logging.Logger;

import io.apigw.authorizer.request.AuthorizationRequest;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.internal.KubeConfigUtils;

/**
 * Clusters from one kubeconfig file: the context named like the cluster id holds the API server, CA and admin
 * credentials. A context whose cluster has no {@code server} stands for a cluster whose private endpoint is off.
 * The file is re-read when it changes, so clusters can be added without a restart. It knows no tenants: {@code appId}
 * is not checked.
 */
public class KubeconfigDirectory implements ClusterDirectory {

    private static final Logger LOG = Logger.getLogger(KubeconfigDirectory.class);

    private final Path path;
    private volatile Loaded loaded;

    private record Loaded(Object fileKey, long modified, long size, KubeconfigIndex index) {
    }

    public KubeconfigDirectory(Path path) {
        this.path = path;
    }

    @Override
    public ClusterAccess resolve(AuthorizationRequest request) {
        String clusterId = request.clusterId();
        KubeconfigIndex.Entry entry = load().context(clusterId).filter(e -> e.context().getContext() != null)
                .orElseThrow(() -> AuthorizationException.permanent(FailureCode.CLUSTER_NOT_FOUND,
                        "no cluster " + clusterId + " in the cluster directory"));
        if (entry.cluster() == null || entry.cluster().getCluster() == null) {
            throw AuthorizationException.permanent(FailureCode.CLUSTER_NOT_FOUND,
                    "context " + clusterId + " names no cluster entry in the cluster directory");
        }
        String server = entry.cluster().getCluster().getServer();
        if (server == null || server.isBlank()) {
            throw new PrivateAccessDisabledException("the cluster directory lists no private API server endpoint");
        }
        if (Boolean.TRUE.equals(entry.cluster().getCluster().getInsecureSkipTlsVerify())) {
            throw ClusterAccess.tlsNotVerified("the cluster directory's entry for " + clusterId
                    + " sets insecure-skip-tls-verify");
        }
        Config config = Config.empty();
        try {
            KubeConfigUtils.merge(config, clusterId, entry.alone());
        } catch (RuntimeException e) {
            throw AuthorizationException.permanent(FailureCode.INTERNAL,
                    "context " + clusterId + " in the cluster directory cannot be used: " + e.getClass().getSimpleName());
        }
        String caPem = caPem(config, clusterId);
        // Cut the config loose from the file: fabric8 would "refresh" its token from the file every minute, and fall
        // back to the file's current context (another cluster's credential) if this context were gone by then.
        config.setCurrentContext(null);
        config.setContexts(List.of());
        return new ClusterAccess(clusterId, server, caPem, config, entry.mintsCredentials());
    }

    /** The file's index, parsed and built again only when the file has changed. */
    private KubeconfigIndex load() {
        try {
            BasicFileAttributes attrs = Files.readAttributes(path, BasicFileAttributes.class);
            Loaded current = loaded;
            if (current != null && Objects.equals(current.fileKey(), attrs.fileKey())
                    && current.modified() == attrs.lastModifiedTime().toMillis() && current.size() == attrs.size()) {
                return current.index();
            }
            KubeconfigIndex index = KubeconfigIndex.of(KubeConfigUtils.parseConfig(path.toFile()));
            loaded = new Loaded(attrs.fileKey(), attrs.lastModifiedTime().toMillis(), attrs.size(), index);
            return index;
        } catch (IOException | RuntimeException e) {
            LOG.errorf("cannot read the cluster directory kubeconfig %s (%s): point KUBECONFIG or "
                    + "authorizer.directory.kubeconfig.path at a kubeconfig with one context per cluster id", path,
                    e.getClass().getSimpleName());
            throw AuthorizationException.transientFailure(FailureCode.INTERNAL,
                    "the cluster directory (kubeconfig file) cannot be read");
        }
    }

    /** Whether the file can be read and parsed now. */
    @Override
    public boolean ready() {
        try {
            load();
            return true;
        } catch (AuthorizationException e) {
            return false;
        }
    }

    private static String caPem(Config config, String clusterId) {
        try {
            if (config.getCaCertData() != null && !config.getCaCertData().isBlank()) {
                return new String(Base64.getDecoder().decode(config.getCaCertData().trim()), StandardCharsets.UTF_8);
            }
            Optional<String> file = Optional.ofNullable(config.getCaCertFile()).filter(f -> !f.isBlank());
            return file.isPresent() ? Files.readString(Path.of(file.get())) : "";
        } catch (IOException | IllegalArgumentException e) {
            throw AuthorizationException.permanent(FailureCode.INTERNAL,
                    "the CA of cluster " + clusterId + " in the cluster directory cannot be read");
        }
    }
}

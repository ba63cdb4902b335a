package io.apigw.authorizer.directory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.apigw.authorizer.request.AuthorizationRequest;
import io.apigw.authorizer.request.RequestType;
import io.fabric8.kubernetes.client.Config;

/** What the kubeconfig directory tells about a cluster's admin credential. */
class KubeconfigDirectoryTest {

    @TempDir
    Path dir;

    @Test
    void aCredentialFromAnExecPluginIsMarkedAsMintedPerLookupAndAStaticTokenIsNot() throws Exception {
        Path kubeconfig = dir.resolve("kubeconfig");
        Files.writeString(kubeconfig, """
                apiVersion: v1
                kind: Config
                clusters:
                - name: c
                  cluster:
                    server: https://10.0.0.1:6443
                contexts:
                - name: cls-exec0001
                  context: {cluster: c, user: by-plugin}
                - name: cls-static01
                  context: {cluster: c, user: by-token}
                users:
                - name: by-plugin
                  user:
                    exec:
                      apiVersion: client.authentication.k8s.io/v1beta1
                      command: sh
                      args: ["-c", "echo '{\\"apiVersion\\":\\"client.authentication.k8s.io/v1beta1\\",\\"kind\\":\\"ExecCredential\\",\\"status\\":{\\"token\\":\\"minted-1\\"}}'"]
                - name: by-token
                  user:
                    token: static-token
                """);
        KubeconfigDirectory directory = new KubeconfigDirectory(kubeconfig);

        ClusterAccess minted = directory.resolve(request("cls-exec0001"));
        ClusterAccess fixed = directory.resolve(request("cls-static01"));

        assertThat(minted.mintedPerLookup()).isTrue();
        assertThat(minted.clientConfig().getAutoOAuthToken()).isEqualTo("minted-1");
        assertThat(fixed.mintedPerLookup()).isFalse();
        assertThat(fixed.clientConfig().getAutoOAuthToken()).isEqualTo("static-token");
    }

    @Test
    void aResolvedConfigNeverPicksUpAnotherContextOfTheFile() throws Exception {
        Path kubeconfig = dir.resolve("kubeconfig");
        String two = """
                apiVersion: v1
                kind: Config
                current-context: cls-other001
                clusters:
                - {name: a, cluster: {server: "https://10.0.0.1:6443"}}
                - {name: b, cluster: {server: "https://10.0.0.2:6443"}}
                contexts:
                - {name: cls-target01, context: {cluster: a, user: ua}}
                - {name: cls-other001, context: {cluster: b, user: ub}}
                users:
                - {name: ua, user: {token: token-of-target}}
                - {name: ub, user: {token: token-of-other}}
                """;
        Files.writeString(kubeconfig, two);
        ClusterAccess access = new KubeconfigDirectory(kubeconfig).resolve(request("cls-target01"));
        // The context disappears (a cluster detached by ops) while a client made from it is still in use.
        Files.writeString(kubeconfig, two.replace("- {name: cls-target01, context: {cluster: a, user: ua}}\n", ""));

        Config refreshed = access.clientConfig().refresh();

        assertThat(refreshed.getMasterUrl()).startsWith("https://10.0.0.1:6443");
        assertThat(refreshed.getAutoOAuthToken()).isEqualTo("token-of-target");
    }

    @Test
    void eachOfManyContextsGetsItsOwnClusterAndUserNeverTheFilesCurrentContextsAndTheFirstOfADuplicateName()
            throws Exception {
        StringBuilder clusters = new StringBuilder("clusters:\n");
        StringBuilder contexts = new StringBuilder("contexts:\n");
        StringBuilder users = new StringBuilder("users:\n");
        for (int i = 0; i < 300; i++) {
            clusters.append("- name: c").append(i).append("\n  cluster: {server: 'https://10.0.").append(i / 250)
                    .append('.').append(i % 250).append(":6443'}\n");
            contexts.append("- name: cls-").append(i).append("\n  context: {cluster: c").append(i).append(", user: u")
                    .append(i).append("}\n");
            users.append("- name: u").append(i).append("\n  user: {token: token-").append(i).append("}\n");
        }
        contexts.append("- name: cls-7\n  context: {cluster: c8, user: u8}\n");
        Path kubeconfig = dir.resolve("many");
        Files.writeString(kubeconfig, "apiVersion: v1\nkind: Config\ncurrent-context: cls-0\n" + clusters + contexts
                + users);
        KubeconfigDirectory directory = new KubeconfigDirectory(kubeconfig);

        for (int i : new int[] {0, 7, 251, 299}) {
            ClusterAccess access = directory.resolve(request("cls-" + i));
            assertThat(access.server()).isEqualTo("https://10.0." + i / 250 + "." + i % 250 + ":6443");
            assertThat(access.clientConfig().getAutoOAuthToken()).isEqualTo("token-" + i);
        }
        assertThatThrownBy(() -> directory.resolve(request("cls-300")))
                .hasMessageContaining("no cluster cls-300 in the cluster directory");
    }

    private static AuthorizationRequest request(String clusterId) {
        return new AuthorizationRequest(RequestType.AUTHORIZE, "req-1", clusterId, Optional.empty(), Optional.empty(),
                Optional.empty());
    }
}

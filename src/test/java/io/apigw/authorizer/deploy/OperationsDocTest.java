package io.apigw.authorizer.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/** docs/operations.md claims only config keys the application has, and the Dockerfile/manifest paths it names exist. */
class OperationsDocTest {

    @Test
    void everyAuthorizerKeyAndEnvVarInTheDocExists() throws IOException {
        String doc = Files.readString(Repo.root().resolve("docs/operations.md"));
        Set<String> keys = AppConfigKeys.authorizerKeys();

        Set<String> unknownKeys = new TreeSet<>();
        Matcher k = Pattern.compile("`(authorizer\\.[a-z0-9.-]+)`").matcher(doc);
        while (k.find()) {
            String key = k.group(1);
            boolean mapEntry = AppConfigKeys.authorizerLeaves().stream()
                    .anyMatch(l -> l.map() && key.startsWith(l.name() + "."));
            if (!keys.contains(key) && !mapEntry) {
                unknownKeys.add(key);
            }
        }
        assertThat(unknownKeys).as("keys in docs/operations.md that AuthorizerConfig does not have").isEmpty();

        Set<String> unknownEnv = new TreeSet<>();
        Matcher e = Pattern.compile("`(AUTHORIZER_[A-Z0-9_]+)`").matcher(doc);
        while (e.find()) {
            if (!AppConfigKeys.isAuthorizerEnv(e.group(1))) {
                unknownEnv.add(e.group(1));
            }
        }
        assertThat(unknownEnv).as("AUTHORIZER_* variables in docs/operations.md that map to no key").isEmpty();
    }

    @Test
    void everyRepositoryPathInTheDocExists() throws IOException {
        String doc = Files.readString(Repo.root().resolve("docs/operations.md"));
        Matcher p = Pattern.compile("`((?:k8s|src/main/docker)/[A-Za-z0-9_./-]+)`").matcher(doc);
        Set<String> missing = new TreeSet<>();
        while (p.find()) {
            if (!Files.exists(Repo.root().resolve(p.group(1)))) {
                missing.add(p.group(1));
            }
        }
        assertThat(missing).isEmpty();
    }
}

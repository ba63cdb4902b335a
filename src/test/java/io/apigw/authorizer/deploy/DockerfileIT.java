package io.apigw.authorizer.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * Checks the Dockerfiles against the packaged application, without a container engine: every COPY source of
 * Dockerfile.jvm exists in the Quarkus fast-jar output, the jar the image runs is among what is copied, and the
 * images run as a non-root user. Runs after {@code package} (failsafe, {@code mvn verify}); skipped with a message
 * when the application has not been packaged.
 */
class DockerfileIT {

    private static final Path DOCKER = Path.of("src/main/docker");

    @Test
    void jvmImageCopiesTheFastJarAndRunsItAsNonRoot() throws IOException {
        DockerfileInstructions jvm = DockerfileInstructions.read(Repo.root().resolve(DOCKER).resolve("Dockerfile.jvm"));

        assertThat(jvm.last("FROM")).hasValue("registry.access.redhat.com/ubi9/openjdk-17:1.21");
        String user = jvm.last("USER").orElseThrow(() -> new AssertionError("Dockerfile.jvm has no USER"));
        assertThat(DockerfileInstructions.isRoot(user)).as("USER %s", user).isFalse();
        assertThat(DockerfileInstructions.userPart(user)).isEqualTo("185");
        assertThat(jvm.all("EXPOSE")).anyMatch(e -> e.contains("8080"));
        assertThat(jvm.env("JAVA_OPTS_APPEND").orElseThrow()).contains("-Dquarkus.http.host=0.0.0.0",
                "-Djava.util.logging.manager=org.jboss.logmanager.LogManager");
        String appJar = jvm.env("JAVA_APP_JAR").orElseThrow();
        assertThat(appJar).isEqualTo("/deployments/quarkus-run.jar");

        List<DockerfileInstructions.Copy> copies = jvm.copies();
        assertThat(copies).hasSize(4);
        for (DockerfileInstructions.Copy copy : copies) {
            assertThat(copy.flags()).as("COPY %s", copy.sources()).contains("--chown=185");
        }

        Path quarkusApp = Repo.buildDir().resolve("quarkus-app");
        assumeTrue(Files.isRegularFile(quarkusApp.resolve("quarkus-run.jar")),
                "the application is not packaged (no " + quarkusApp + "/quarkus-run.jar): run `mvn package` first");

        // Where each source lands in the image; the Dockerfile's `target/` is the Maven build directory.
        Set<String> imagePaths = new HashSet<>();
        for (DockerfileInstructions.Copy copy : copies) {
            for (String source : copy.sources()) {
                assertThat(source).startsWith("target/quarkus-app/");
                List<Path> matches = resolve(source);
                assertThat(matches).as("COPY source %s in %s", source, Repo.buildDir()).isNotEmpty();
                for (Path m : matches) {
                    String dest = copy.destination();
                    imagePaths.add(dest.endsWith("/") && !Files.isDirectory(m) ? dest + m.getFileName() : dest);
                }
            }
        }
        assertThat(imagePaths).contains(appJar, "/deployments/lib/", "/deployments/app/", "/deployments/quarkus/");

        // Nothing of the fast-jar layout is left behind.
        try (Stream<Path> entries = Files.list(quarkusApp)) {
            for (Path entry : entries.toList()) {
                String name = entry.getFileName().toString();
                boolean copied = Files.isDirectory(entry) ? imagePaths.contains("/deployments/" + name + "/")
                        : imagePaths.contains("/deployments/" + name) || !name.endsWith(".jar");
                assertThat(copied).as("%s of quarkus-app is not copied into the image", name).isTrue();
            }
        }
    }

    @Test
    void nativeImageRunsTheRunnerAsNonRoot() throws IOException {
        DockerfileInstructions nat = DockerfileInstructions.read(Repo.root().resolve(DOCKER).resolve("Dockerfile.native"));
        assertThat(nat.last("FROM").orElseThrow()).startsWith("quay.io/quarkus/ubi9-quarkus-micro-image:");
        String user = nat.last("USER").orElseThrow(() -> new AssertionError("Dockerfile.native has no USER"));
        assertThat(DockerfileInstructions.isRoot(user)).as("USER %s", user).isFalse();
        List<DockerfileInstructions.Copy> copies = nat.copies();
        assertThat(copies).hasSize(1);
        assertThat(copies.get(0).sources()).containsExactly("target/*-runner");
        assertThat(copies.get(0).flags()).anyMatch(f -> f.startsWith("--chmod=") && f.endsWith("755"));

        List<Path> runners = resolve("target/*-runner");
        assumeTrue(!runners.isEmpty(), "no native executable in " + Repo.buildDir() + " (native build not run)");
        assertThat(runners).hasSize(1);
    }

    /** A COPY source (relative to the build context, `target/` = the Maven build directory), globs expanded. */
    private static List<Path> resolve(String source) throws IOException {
        String relative = source.substring("target/".length());
        String trimmed = relative.endsWith("/") ? relative.substring(0, relative.length() - 1) : relative;
        Path build = Repo.buildDir();
        if (!trimmed.contains("*") && !trimmed.contains("?")) {
            Path p = build.resolve(trimmed);
            return Files.exists(p) ? List.of(p) : List.of();
        }
        Path parent = build.resolve(trimmed).getParent();
        if (!Files.isDirectory(parent)) {
            return List.of();
        }
        PathMatcher glob = FileSystems.getDefault().getPathMatcher("glob:" + build.resolve(trimmed));
        try (Stream<Path> children = Files.list(parent)) {
            return children.filter(glob::matches).toList();
        }
    }
}

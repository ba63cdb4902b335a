package io.apigw.authorizer.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.apigw.authorizer.testing.FreePort;
import io.apigw.authorizer.testing.WorkerProcess;
import java.util.ArrayList;

/**
 * What the build says about what it built: the CycloneDX SBOM names every jar the application ships (and nothing of
 * the test scope), and the packaged worker tells its version and commit on {@code /q/info}.
 */
class SupplyChainIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static String pomVersion() throws IOException {
        String pom = Files.readString(Repo.root().resolve("pom.xml"));
        // The project's own <version>: the first one after its <artifactId>.
        int artifact = pom.indexOf("<artifactId>apigw-tke-authorizer</artifactId>");
        int start = pom.indexOf("<version>", artifact) + "<version>".length();
        return pom.substring(start, pom.indexOf("</version>", start));
    }

    @Test
    void theSbomListsEveryShippedJarAndNoTestDependency() throws IOException {
        String version = pomVersion();
        Path sbom = Repo.buildDir().resolve("apigw-tke-authorizer-" + version + "-sbom.json");
        assumeTrue(Files.isRegularFile(sbom), "no " + sbom + ": run `mvn package` first");
        JsonNode bom = JSON.readTree(sbom.toFile());
        assertThat(bom.path("bomFormat").asText()).isEqualTo("CycloneDX");
        assertThat(bom.at("/metadata/component/name").asText()).isEqualTo("apigw-tke-authorizer");
        assertThat(bom.at("/metadata/component/version").asText()).isEqualTo(version);

        // Quarkus names each shipped jar <group>.<artifact>-<version>[-<classifier>].jar.
        Set<String> listed = new HashSet<>();
        for (JsonNode c : bom.path("components")) {
            String purl = c.path("purl").asText();
            String classifier = purl.contains("classifier=") ? "-" + purl.replaceAll(".*classifier=([^&]+).*", "$1") : "";
            listed.add(c.path("group").asText() + "." + c.path("name").asText() + "-" + c.path("version").asText()
                    + classifier + ".jar");
        }
        Path lib = Repo.buildDir().resolve("quarkus-app/lib");
        try (Stream<Path> jars = Stream.concat(Files.list(lib.resolve("main")), Files.list(lib.resolve("boot")))) {
            List<String> shipped = jars.map(p -> p.getFileName().toString()).toList();
            assertThat(shipped).hasSizeGreaterThan(50);
            assertThat(listed).as("components of %s", sbom).containsAll(shipped);
        }
        assertThat(listed).noneMatch(j -> j.startsWith("org.junit.") || j.startsWith("org.apache.kafka.kafka-server")
                || j.startsWith("io.smallrye.reactive.smallrye-reactive-messaging-kafka-test-companion"));
    }

    @Test
    void theWorkerTellsItsVersionAndCommitOnQInfo() throws Exception {
        String head = git("rev-parse", "HEAD");
        try (WorkerProcess w = WorkerProcess.start("info",
                Map.of("kafka.bootstrap.servers", "127.0.0.1:" + FreePort.closed()))) {
            // No broker: the worker is not ready, but it serves /q/info.
            WorkerProcess.Answer info = Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
                    .ignoreExceptions().until(() -> w.get("/q/info"), a -> a.status() == 200);
            JsonNode body = JSON.readTree(info.body());
            assertThat(body.at("/build/version").asText()).isEqualTo(pomVersion());
            assertThat(body.at("/build/artifact").asText()).isEqualTo("apigw-tke-authorizer");
            assertThat(body.at("/git/commit/id").asText()).matches("[0-9a-f]{40}");
            if (head != null) {
                assertThat(body.at("/git/commit/id").asText()).as("the commit the jar was built from").isEqualTo(head);
            }
        }
    }

    /** {@code git <args>} in the checkout, or null where git is not there. */
    private static String git(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("git", "-C", Repo.root().toString()));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).strip();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : null;
        } catch (IOException e) {
            return null;
        }
    }
}

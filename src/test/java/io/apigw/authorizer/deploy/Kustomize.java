package io.apigw.authorizer.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.File;

/** Renders a kustomization with {@code kubectl kustomize} and parses the documents. */
final class Kustomize {

    static final YAMLMapper YAML = new YAMLMapper();
    private static final Map<Path, Rendered> CACHE = new ConcurrentHashMap<>();

    private Kustomize() {
    }

    /** kubectl at /usr/bin/kubectl or on the PATH. */
    static Optional<Path> kubectl() {
        List<Path> candidates = new ArrayList<>();
        candidates.add(Path.of("/usr/bin/kubectl"));
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                if (!dir.isBlank()) {
                    candidates.add(Path.of(dir, "kubectl"));
                }
            }
        }
        return candidates.stream().filter(Files::isExecutable).findFirst();
    }

    /** Every overlay directory under k8s/overlays. */
    static List<String> overlays() {
        try (Stream<Path> dirs = Files.list(Repo.root().resolve("k8s/overlays"))) {
            return dirs.filter(d -> Files.isRegularFile(d.resolve("kustomization.yaml")))
                    .map(d -> d.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Rendered render(String relativeDir) {
        Path dir = Repo.root().resolve(relativeDir).normalize();
        return CACHE.computeIfAbsent(dir, Kustomize::run);
    }

    private static Rendered run(Path dir) {
        Path kubectl = kubectl().orElseThrow();
        try {
            Path out = Files.createTempFile("kustomize", ".yaml");
            Path err = Files.createTempFile("kustomize", ".err");
            try {
                Process p = new ProcessBuilder(kubectl.toString(), "kustomize", dir.toString())
                        .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
                if (!p.waitFor(60, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError("kubectl kustomize " + dir + " did not finish in 60 s");
                }
                String yaml = Files.readString(out, StandardCharsets.UTF_8);
                if (p.exitValue() != 0) {
                    throw new AssertionError("kubectl kustomize " + dir + " failed (exit " + p.exitValue() + "):\n"
                            + Files.readString(err, StandardCharsets.UTF_8));
                }
                return new Rendered(yaml, parse(yaml));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static List<JsonNode> parse(String yaml) throws IOException {
        List<JsonNode> docs = new ArrayList<>();
        for (JsonNode doc : YAML.readerFor(JsonNode.class).<JsonNode> readValues(yaml).readAll()) {
            if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
                docs.add(doc);
            }
        }
        return docs;
    }

    /** The rendered stream: its raw text and its documents. */
    record Rendered(String text, List<JsonNode> docs) {

        List<JsonNode> ofKind(String kind) {
            return docs.stream().filter(d -> kind.equals(d.path("kind").asText())).toList();
        }

        JsonNode one(String kind) {
            List<JsonNode> all = ofKind(kind);
            if (all.size() != 1) {
                throw new AssertionError("expected exactly one " + kind + ", found " + all.size());
            }
            return all.get(0);
        }
    }
}

package io.apigw.authorizer.contract;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.dialect.Dialect;
import com.networknt.schema.dialect.Dialects;
import com.networknt.schema.keyword.AnnotationKeyword;

/**
 * The event contract as shipped in the jar: {@code contract/asyncapi.yaml} and the JSON Schemas it references, read
 * from the classpath, with the schemas compiled by a JSON Schema 2020-12 validator that also asserts {@code format}.
 */
public final class Contract {

    public static final String ASYNCAPI = "contract/asyncapi.yaml";
    public static final String SCHEMA_DIR = "contract/schemas/";
    public static final String DIALECT = "https://json-schema.org/draft/2020-12/schema";

    /** Strict JSON, as the worker's reader: duplicate keys are an error, not "last one wins". */
    public static final ObjectMapper JSON = new ObjectMapper(
            JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    /** Draft 2020-12, {@code format} asserted, and the contract's own {@code x-since} marker known as an annotation. */
    private static final SchemaRegistry REGISTRY = SchemaRegistry.withDialect(
            Dialect.builder(Dialects.getDraft202012()).keyword(new AnnotationKeyword("x-since")).build(),
            (Consumer<SchemaRegistry.Builder>) b -> b.schemaRegistryConfig(
                    SchemaRegistryConfig.builder().formatAssertionsEnabled(true).build()));

    private static volatile Contract instance;

    private final JsonNode asyncapi;
    private final Map<String, Schema> compiled = new ConcurrentHashMap<>();

    private Contract(JsonNode asyncapi) {
        this.asyncapi = asyncapi;
    }

    public static Contract load() {
        if (instance == null) {
            instance = new Contract(readYaml(ASYNCAPI));
        }
        return instance;
    }

    public JsonNode document() {
        return asyncapi;
    }

    // --- reading ------------------------------------------------------------------------------------------------

    public static URL resource(String path) {
        URL url = Thread.currentThread().getContextClassLoader().getResource(path);
        if (url == null) {
            throw new AssertionError("not on the classpath: " + path);
        }
        return url;
    }

    static JsonNode readYaml(String path) {
        try (InputStream in = resource(path).openStream()) {
            return YAML.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(path, e);
        }
    }

    public static JsonNode readJson(String path) {
        try (InputStream in = resource(path).openStream()) {
            return JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(path, e);
        }
    }

    public static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new AssertionError("not strict JSON: " + json, e);
        }
    }

    public static Properties applicationProperties() {
        Properties p = new Properties();
        try (InputStream in = resource("application.properties").openStream()) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }

    // --- references ---------------------------------------------------------------------------------------------

    /** A local {@code #/a/b} reference of the AsyncAPI document; fails when it points nowhere. */
    public JsonNode pointer(String ref) {
        if (!ref.startsWith("#/")) {
            throw new AssertionError("not a local reference: " + ref);
        }
        JsonNode node = asyncapi.at(ref.substring(1));
        if (node.isMissingNode()) {
            throw new AssertionError("reference resolves to nothing: " + ref);
        }
        return node;
    }

    /** The classpath path of a file reference made from asyncapi.yaml, e.g. {@code ./schemas/Failed.json}. */
    public static String filePath(String ref) {
        String path = ref.startsWith("./") ? ref.substring(2) : ref;
        if (path.contains("#") || path.startsWith("/") || path.contains(":")) {
            throw new AssertionError("unsupported file reference: " + ref);
        }
        return "contract/" + path;
    }

    /** A copy of {@code node} with every local {@code $ref} replaced by (a copy of) what it points to. */
    public JsonNode inline(JsonNode node) {
        return inline(node, 0);
    }

    private JsonNode inline(JsonNode node, int depth) {
        if (depth > 32) {
            throw new AssertionError("reference cycle in " + ASYNCAPI);
        }
        if (node.isObject()) {
            JsonNode ref = node.get("$ref");
            if (ref != null && ref.isTextual() && ref.textValue().startsWith("#/")) {
                return inline(pointer(ref.textValue()), depth + 1);
            }
            ObjectNode out = JSON.createObjectNode();
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                out.set(e.getKey(), inline(e.getValue(), depth));
            }
            return out;
        }
        if (node.isArray()) {
            ArrayNode out = JSON.createArrayNode();
            node.forEach(n -> out.add(inline(n, depth)));
            return out;
        }
        return node;
    }

    /** Every {@code $ref} value anywhere in the document. */
    public List<String> allRefs() {
        List<String> refs = new ArrayList<>();
        collectRefs(asyncapi, refs);
        return refs;
    }

    private static void collectRefs(JsonNode node, List<String> out) {
        if (node.isObject()) {
            node.fields().forEachRemaining(e -> {
                if (e.getKey().equals("$ref") && e.getValue().isTextual()) {
                    out.add(e.getValue().textValue());
                } else {
                    collectRefs(e.getValue(), out);
                }
            });
        } else if (node.isArray()) {
            node.forEach(n -> collectRefs(n, out));
        }
    }

    // --- messages -----------------------------------------------------------------------------------------------

    /** A message of {@code components.messages}, by name (= its CloudEvents type). */
    public JsonNode message(String name) {
        JsonNode m = asyncapi.path("components").path("messages").path(name);
        if (m.isMissingNode()) {
            throw new AssertionError("no message " + name + " in " + ASYNCAPI);
        }
        return m;
    }

    /** Names of the messages a channel carries (the names of the components they reference). */
    public List<String> channelMessages(String channel) {
        List<String> names = new ArrayList<>();
        asyncapi.path("channels").path(channel).path("messages").forEach(m -> {
            JsonNode target = m.has("$ref") ? pointer(m.get("$ref").textValue()) : m;
            names.add(target.path("name").asText());
        });
        return names;
    }

    public Schema headerSchema(String message) {
        return compiled.computeIfAbsent("headers:" + message,
                k -> compile(inline(message(message).path("headers")), k));
    }

    public JsonNode headerDefinition(String message) {
        return inline(message(message).path("headers"));
    }

    public Schema keySchema(String message) {
        return compiled.computeIfAbsent("key:" + message,
                k -> compile(inline(message(message).path("bindings").path("kafka").path("key")), k));
    }

    /** The classpath path of the JSON Schema file of a message's payload. */
    public String payloadFile(String message) {
        JsonNode payload = message(message).path("payload");
        JsonNode ref = payload.path("schema").path("$ref");
        if (!ref.isTextual()) {
            throw new AssertionError("payload of " + message + " references no schema file");
        }
        return filePath(ref.textValue());
    }

    public Schema payloadSchema(String message) {
        return schemaFile(payloadFile(message));
    }

    public Schema schemaFile(String path) {
        return compiled.computeIfAbsent("file:" + path, k -> compile(readJson(path), path));
    }

    // --- validation ---------------------------------------------------------------------------------------------

    public static Schema compile(JsonNode schema, String name) {
        ObjectNode copy = schema.deepCopy();
        if (!copy.has("$schema")) {
            copy.put("$schema", DIALECT);
        }
        Schema compiled;
        try {
            compiled = REGISTRY.getSchema(copy);
            compiled.initializeValidators();
        } catch (RuntimeException e) {
            throw new AssertionError("schema " + name + " does not compile: " + e, e);
        }
        return compiled;
    }

    /** Violations of {@code schema} by {@code instance}, empty when it conforms. */
    public static List<String> violations(Schema schema, JsonNode instance) {
        return schema.validate(instance).stream().map(Object::toString).toList();
    }

    /** Violations of the JSON Schema 2020-12 meta-schema by a schema document. */
    public static List<String> metaSchemaViolations(JsonNode schema) {
        return violations(META.get(), schema);
    }

    private static final class META {
        private static final Schema SCHEMA = REGISTRY.getSchema(SchemaLocation.of(DIALECT));

        static Schema get() {
            return SCHEMA;
        }
    }
}

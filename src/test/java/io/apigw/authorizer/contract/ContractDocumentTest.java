package io.apigw.authorizer.contract;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.RecordComponent;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Schema;

import io.apigw.authorizer.result.ResourceAction;
import io.apigw.authorizer.request.RequestReader;
import io.apigw.authorizer.result.FailureCode;
import io.apigw.authorizer.result.Result;

/**
 * The contract document itself: shipped as a main resource, a well-formed AsyncAPI 3 document whose channels are the
 * worker's configured topics, whose references all resolve, and whose JSON Schemas compile, accept their examples,
 * reject what the worker would never accept or publish, and agree with the code's enums and patterns.
 */
class ContractDocumentTest {

    private static final List<String> REQUESTS = List.of("ClusterAuthorizationRequested",
            "ClusterAuthorizationCheckRequested", "ClusterDeauthorizationRequested",
            "ClusterCredentialRotationRequested");
    private static final List<String> RESULTS = List.of("Authorized", "PrivateAccessDisabled", "Failed",
            "NotAuthorized", "Deauthorized", "CredentialRotated", "AuthorizationSkipped");
    private static final Set<String> V1_1 = Set.of("ClusterAuthorizationCheckRequested",
            "ClusterDeauthorizationRequested", "NotAuthorized", "Deauthorized");
    private static final Set<String> V1_2 = Set.of("ClusterCredentialRotationRequested", "CredentialRotated");
    private static final Set<String> V1_3 = Set.of("AuthorizationSkipped");
    /** Result fields the publisher adds to every result type, beyond the record's own components (v1.3). */
    private static final Set<String> PUBLISHED_WITH_EVERY_RESULT = Set.of("trigger");

    private final Contract contract = Contract.load();
    private final JsonNode doc = contract.document();

    // --- the document -------------------------------------------------------------------------------------------

    @Test
    void shipsAsAMainResourceNotATestResource() {
        String url = Contract.resource(Contract.ASYNCAPI).toString();
        // target/classes is what the jar is built from; test-classes is not packaged.
        assertThat(url).doesNotContain("test-classes");
        assertThat(Contract.resource(Contract.SCHEMA_DIR + "Authorized.json").toString()).doesNotContain("test-classes");
    }

    @Test
    void isAsyncApi3WithTitleAndVersion() {
        assertThat(doc.path("asyncapi").asText()).matches("3\\.\\d+\\.\\d+");
        assertThat(doc.path("info").path("title").asText()).isNotBlank();
        assertThat(doc.path("info").path("version").asText()).matches("\\d+\\.\\d+\\.\\d+");
    }

    @Test
    void channelsAreExactlyTheConfiguredKafkaChannelsAtTheirConfiguredTopics() {
        Properties app = Contract.applicationProperties();
        Map<String, String> configured = new LinkedHashMap<>();
        for (String key : app.stringPropertyNames()) {
            var m = Pattern.compile("mp\\.messaging\\.(incoming|outgoing)\\.([^.]+)\\.topic").matcher(key);
            if (m.matches()) {
                configured.put(m.group(2), app.getProperty(key));
            }
        }
        assertThat(configured).hasSize(6);

        Map<String, String> documented = new LinkedHashMap<>();
        doc.path("channels").fields().forEachRemaining(e -> documented.put(e.getKey(), e.getValue().path("address").asText()));
        assertThat(documented).isEqualTo(configured);
        doc.path("channels").fields().forEachRemaining(e -> assertThat(
                e.getValue().path("bindings").path("kafka").path("topic").asText())
                .as("kafka binding topic of %s", e.getKey()).isEqualTo(e.getValue().path("address").asText()));
        assertThat(documented.values()).containsExactlyInAnyOrder("apigw.tke-authorization.requests",
                "apigw.tke-authorization.results", "apigw.tke-authorization.requests.dlq",
                "apigw.tke-authorization.sweeps", "apigw.tke-authorization.sweeps", "apigw.tke-authorization.requests");
        // The consumer group the document names is the one the worker joins.
        assertThat(doc.at("/operations/receiveRequests/bindings/kafka/groupId/enum/0").asText())
                .isEqualTo(app.getProperty("mp.messaging.incoming.authorization-requests.group.id"));
    }

    @Test
    void operationsReceiveRequestsSendResultsAndDeadLetters() {
        Map<String, String> directions = Map.of("authorization-requests", "receive", "authorization-results", "send",
                "authorization-dead-letters", "send", "sweep-checks", "send", "sweep-requests", "receive",
                "repair-requests", "send");
        Map<String, String> seen = new LinkedHashMap<>();
        doc.path("operations").fields().forEachRemaining(e -> {
            JsonNode op = e.getValue();
            String channelRef = op.path("channel").path("$ref").asText();
            assertThat(channelRef).startsWith("#/channels/");
            contract.pointer(channelRef);
            String channel = channelRef.substring("#/channels/".length());
            seen.put(channel, op.path("action").asText());
            // An operation's messages must be messages of its own channel (AsyncAPI 3 rule).
            assertThat(op.path("messages")).isNotEmpty();
            op.path("messages").forEach(m -> assertThat(m.path("$ref").asText())
                    .as("message of operation %s", e.getKey()).startsWith(channelRef + "/messages/"));
            JsonNode reply = op.path("reply");
            if (!reply.isMissingNode()) {
                String replyChannel = reply.path("channel").path("$ref").asText();
                reply.path("messages").forEach(m -> assertThat(m.path("$ref").asText()).startsWith(replyChannel + "/messages/"));
            }
        });
        assertThat(seen).isEqualTo(directions);
    }

    @Test
    void channelsCarryTheContractsEvents() {
        assertThat(contract.channelMessages("authorization-requests")).containsExactlyInAnyOrderElementsOf(REQUESTS);
        assertThat(contract.channelMessages("authorization-results")).containsExactlyInAnyOrderElementsOf(RESULTS);
        assertThat(contract.channelMessages("authorization-dead-letters")).containsExactly("DeadLetter");
        assertThat(contract.channelMessages("sweep-checks")).containsExactly("ClusterAuthorizationCheckRequested");
        assertThat(contract.channelMessages("sweep-requests")).containsExactly("ClusterAuthorizationCheckRequested");
        assertThat(contract.channelMessages("repair-requests")).containsExactly("ClusterAuthorizationRequested");
    }

    @Test
    void everyReferenceResolves() {
        List<String> refs = contract.allRefs();
        assertThat(refs).isNotEmpty();
        List<String> files = new ArrayList<>();
        for (String ref : refs) {
            if (ref.startsWith("#/")) {
                assertThat(contract.pointer(ref)).as(ref).isNotNull();
            } else {
                String path = Contract.filePath(ref);
                assertThat(path).startsWith(Contract.SCHEMA_DIR).endsWith(".json");
                contract.schemaFile(path); // exists, parses, compiles
                files.add(path);
            }
        }
        // Every message payload is a JSON Schema file, in a format that says which dialect it is.
        for (String name : messageNames()) {
            if (name.equals("DeadLetter")) {
                continue;
            }
            JsonNode payload = contract.message(name).path("payload");
            assertThat(payload.path("schemaFormat").asText()).as(name).isEqualTo(
                    "application/schema+json;version=draft-2020-12");
            assertThat(files).contains(contract.payloadFile(name));
        }
    }

    @Test
    void messagesCarryCloudEventsHeadersAndTheClusterIdKey() {
        for (String name : messageNames()) {
            JsonNode headers = contract.headerDefinition(name);
            Contract.compile(headers, name + " headers");
            assertThat(Contract.metaSchemaViolations(headers)).as("%s headers", name).isEmpty();
            if (name.equals("DeadLetter")) {
                continue;
            }
            Set<String> declared = new TreeSet<>();
            collectProperties(headers, declared);
            assertThat(declared).as(name).contains("ce_specversion", "ce_type", "ce_id", "ce_source", "ce_subject",
                    "ce_time", "content-type");
            // The ce_type of the message is its name.
            ObjectNode h = Contract.JSON.createObjectNode().put("ce_specversion", "1.0").put("ce_type", name)
                    .put("ce_id", "3b2c5a8e-6a1e-3c55-9b8e-7d1f2a3b4c5d").put("ce_source", "/apigw/tke-authorizer")
                    .put("ce_subject", "cls-7xq2m9ab").put("ce_time", "2026-11-28T10:00:01.123Z")
                    .put("content-type", "application/json");
            assertThat(Contract.violations(contract.headerSchema(name), h)).as(name).isEmpty();
            h.put("ce_type", name.equals("Failed") ? "Authorized" : "Failed");
            assertThat(Contract.violations(contract.headerSchema(name), h)).as(name).isNotEmpty();
            Schema key = contract.keySchema(name);
            assertThat(Contract.violations(key, Contract.JSON.getNodeFactory().textNode("cls-7xq2m9ab"))).isEmpty();
            // Only a Failed (INVALID_REQUEST) may answer a request under the clusterId it gave, pattern or not.
            h.put("ce_type", name).put("ce_subject", "CLS_1");
            if (name.equals("Failed")) {
                assertThat(Contract.violations(key, Contract.JSON.getNodeFactory().textNode("CLS_1"))).isEmpty();
                assertThat(Contract.violations(contract.headerSchema(name), h)).isEmpty();
                for (String bad : List.of("", "cls\n1", "c".repeat(1025))) {
                    assertThat(Contract.violations(key, Contract.JSON.getNodeFactory().textNode(bad))).isNotEmpty();
                }
            } else {
                assertThat(Contract.violations(key, Contract.JSON.getNodeFactory().textNode("CLS_1"))).isNotEmpty();
                assertThat(Contract.violations(contract.headerSchema(name), h)).as(name).isNotEmpty();
            }
        }
    }

    @Test
    void lifecycleEventsOfSection8AreMarkedV11() {
        for (String name : messageNames()) {
            JsonNode m = contract.message(name);
            String since = V1_3.contains(name) ? "1.3" : V1_2.contains(name) ? "1.2" : V1_1.contains(name) ? "1.1"
                    : "1.0";
            assertThat(m.path("x-since").asText()).as(name).isEqualTo(since);
            assertThat(m.path("tags").findValuesAsText("name")).as(name).contains("v" + since);
        }
        assertThat(Contract.readJson(Contract.SCHEMA_DIR + "NotAuthorized.json").path("x-since").asText()).isEqualTo("1.1");
        assertThat(Contract.readJson(Contract.SCHEMA_DIR + "Deauthorized.json").path("x-since").asText()).isEqualTo("1.1");
    }

    // --- the schemas --------------------------------------------------------------------------------------------

    @Test
    void everySchemaFileIsValidDraft2020_12CompilesAndIsUsed() throws IOException, URISyntaxException {
        List<String> files = schemaFiles();
        assertThat(files).containsExactlyInAnyOrder("Authorized.json", "ClusterAuthorizationRequested.json",
                "Deauthorized.json", "Failed.json", "NotAuthorized.json", "PrivateAccessDisabled.json",
                "CredentialRotated.json", "AuthorizationSkipped.json");
        Set<String> referenced = messageNames().stream().filter(n -> !n.equals("DeadLetter"))
                .map(contract::payloadFile).collect(Collectors.toSet());
        for (String file : files) {
            JsonNode schema = Contract.readJson(Contract.SCHEMA_DIR + file);
            assertThat(schema.path("$schema").asText()).as(file).isEqualTo(Contract.DIALECT);
            assertThat(Contract.metaSchemaViolations(schema)).as(file).isEmpty();
            contract.schemaFile(Contract.SCHEMA_DIR + file);
            assertThat(referenced).as("referenced by a message").contains(Contract.SCHEMA_DIR + file);
        }
    }

    @Test
    void examplesConform() {
        for (String file : List.of("ClusterAuthorizationRequested", "Authorized", "PrivateAccessDisabled", "Failed",
                "NotAuthorized", "Deauthorized", "CredentialRotated", "AuthorizationSkipped")) {
            JsonNode schema = Contract.readJson(Contract.SCHEMA_DIR + file + ".json");
            assertThat(schema.path("examples")).as(file).isNotEmpty();
            for (JsonNode example : schema.path("examples")) {
                assertThat(Contract.violations(schema(file), example)).as(file).isEmpty();
            }
        }
    }

    @Test
    void resultsShareTheCommonFieldsAndAllowNothingElse() {
        JsonNode first = null;
        for (String result : RESULTS) {
            JsonNode schema = Contract.readJson(Contract.SCHEMA_DIR + result + ".json");
            assertThat(schema.path("additionalProperties").asBoolean(true)).as(result).isFalse();
            assertThat(texts(schema.path("required"))).as(result).contains("requestId", "clusterId", "completedAt",
                    "attempts").doesNotContain("region");
            ObjectNode common = Contract.JSON.createObjectNode();
            for (String def : List.of("requestId", "clusterId", "region", "completedAt", "attempts", "retryable")) {
                common.set(def, schema.path("$defs").path(def));
            }
            if (first == null) {
                first = common;
            }
            assertThat(common).as("common definitions of %s", result).isEqualTo(first);
        }
        JsonNode request = Contract.readJson(Contract.SCHEMA_DIR + "ClusterAuthorizationRequested.json");
        assertThat(request.path("additionalProperties").asBoolean(false)).isTrue();
        assertThat(texts(request.path("required"))).containsExactlyInAnyOrder("requestId", "clusterId");
    }

    @Test
    void requestSchemaAcceptsWhatTheReaderAcceptsAndRejectsWhatItRejects() {
        Schema s = schema("ClusterAuthorizationRequested");
        assertThat(violations(s, "{\"requestId\":\"r-1\",\"clusterId\":\"cls-1\"}")).isEmpty();
        assertThat(violations(s, "{\"requestId\":\"a.b:c_D-9\",\"clusterId\":\"cls-1\",\"region\":\"ap-guangzhou\","
                + "\"appId\":1250000000,\"requestedBy\":100000000002,\"somethingNew\":{\"x\":1}}")).isEmpty();
        assertThat(violations(s, "{\"requestId\":\"r-1\",\"clusterId\":\"cls-1\",\"region\":null,\"appId\":null}")).isEmpty();
        assertThat(violations(s, "{\"requestId\":\"" + "r".repeat(128) + "\",\"clusterId\":\"" + "c".repeat(63) + "\"}"))
                .isEmpty();

        for (String bad : List.of(
                "{\"clusterId\":\"cls-1\"}",
                "{\"requestId\":\"r-1\"}",
                "{\"requestId\":\"" + "r".repeat(129) + "\",\"clusterId\":\"cls-1\"}",
                "{\"requestId\":\"r 1\",\"clusterId\":\"cls-1\"}",
                "{\"requestId\":42,\"clusterId\":\"cls-1\"}",
                "{\"requestId\":\"r-1\",\"clusterId\":\"-cls\"}",
                "{\"requestId\":\"r-1\",\"clusterId\":\"Cls-1\"}",
                "{\"requestId\":\"r-1\",\"clusterId\":\"" + "c".repeat(64) + "\"}",
                "{\"requestId\":\"r-1\",\"clusterId\":\"cls-1\",\"region\":\"Guangzhou\"}",
                "{\"requestId\":\"r-1\",\"clusterId\":\"cls-1\",\"region\":\"guangzhou\"}",
                "{\"requestId\":\"r-1\",\"clusterId\":\"cls-1\",\"appId\":\"\"}",
                "{\"requestId\":\"r-1\",\"clusterId\":\"cls-1\",\"appId\":\"12 34\"}",
                "{\"requestId\":\"r-1\",\"clusterId\":\"cls-1\",\"appId\":true}",
                "{\"requestId\":\"r-1\",\"clusterId\":\"cls-1\",\"requestedBy\":\"" + "u".repeat(257) + "\"}",
                "{\"requestId\":\"r-1\",\"clusterId\":\"cls-1\",\"requestedBy\":{}}",
                "[]")) {
            assertThat(violations(s, bad)).as(bad).isNotEmpty();
        }
    }

    @Test
    void resultSchemasRejectLeaksAndInconsistencies() {
        JsonNode authorized = example("Authorized");
        assertThat(violations(schema("Authorized"), with(authorized, "token", "eyJhbGciOi..."))).isNotEmpty();
        assertThat(violations(schema("Authorized"), with(authorized, "alreadyAuthorized", true)))
                .as("alreadyAuthorized with created resources").isNotEmpty();
        ObjectNode threeResources = authorized.deepCopy();
        threeResources.withArray("resources").remove(3);
        assertThat(violations(schema("Authorized"), threeResources)).isNotEmpty();
        ObjectNode twoRoles = authorized.deepCopy();
        twoRoles.withArray("resources").set(0, twoRoles.withArray("resources").get(1).deepCopy());
        assertThat(violations(schema("Authorized"), twoRoles)).as("four entries but one kind missing").isNotEmpty();
        ObjectNode deletedAction = authorized.deepCopy();
        ((ObjectNode) deletedAction.withArray("resources").get(0)).put("action", "deleted");
        assertThat(violations(schema("Authorized"), deletedAction)).isNotEmpty();
        assertThat(violations(schema("Authorized"), with(authorized, "completedAt", "2026-11-28T18:00:01+08:00")))
                .as("not UTC").isNotEmpty();
        assertThat(violations(schema("Authorized"), with(authorized, "completedAt", "2026-13-28T10:00:01Z")))
                .as("not a date-time").isNotEmpty();
        assertThat(violations(schema("Authorized"), with(authorized, "region", null))).as("null region").isNotEmpty();

        JsonNode failed = example("Failed");
        assertThat(violations(schema("Failed"), with(failed, "code", "TIMEOUT"))).isNotEmpty();
        assertThat(violations(schema("Failed"), with(failed, "retryable", false))).isNotEmpty();
        ObjectNode invalid = with(failed, "code", "INVALID_REQUEST");
        invalid.put("retryable", false);
        assertThat(violations(schema("Failed"), invalid)).as("INVALID_REQUEST after tries").isNotEmpty();
        invalid.put("attempts", 0);
        assertThat(violations(schema("Failed"), invalid)).isEmpty();
        assertThat(violations(schema("Failed"), with(failed, "attempts", -1))).isNotEmpty();
        // INVALID_REQUEST echoes the ids a request gave, bounded; every other code carries valid ids only.
        for (String field : List.of("requestId", "clusterId")) {
            assertThat(violations(schema("Failed"), with(invalid, field, "../Cls 1"))).as(field).isEmpty();
            assertThat(violations(schema("Failed"), with(invalid, field, "x".repeat(1024)))).as(field).isEmpty();
            assertThat(violations(schema("Failed"), with(invalid, field, "x".repeat(1025)))).as(field).isNotEmpty();
            assertThat(violations(schema("Failed"), with(invalid, field, "cls-a\r\nX: y"))).as(field).isNotEmpty();
            assertThat(violations(schema("Failed"), with(invalid, field, ""))).as(field).isNotEmpty();
            assertThat(violations(schema("Failed"), with(invalid, field, 7))).as(field).isNotEmpty();
            assertThat(violations(schema("Failed"), with(failed, field, "../Cls 1"))).as(field).isNotEmpty();
        }
        ObjectNode noMessage = failed.deepCopy();
        noMessage.remove("message");
        assertThat(violations(schema("Failed"), noMessage)).isNotEmpty();

        assertThat(violations(schema("PrivateAccessDisabled"), with(example("PrivateAccessDisabled"), "retryable", false)))
                .isNotEmpty();

        ObjectNode allFine = example("NotAuthorized").deepCopy();
        allFine.putArray("missing");
        allFine.putArray("drifted");
        allFine.put("credentialValid", true);
        assertThat(violations(schema("NotAuthorized"), allFine)).as("nothing wrong is not NotAuthorized").isNotEmpty();
        allFine.put("credentialValid", false);
        assertThat(violations(schema("NotAuthorized"), allFine)).isEmpty();

        ObjectNode created = example("Deauthorized").deepCopy();
        ((ObjectNode) created.withArray("resources").get(0)).put("action", "created");
        assertThat(violations(schema("Deauthorized"), created)).isNotEmpty();
    }

    // --- agreement with the code --------------------------------------------------------------------------------

    @Test
    void failureCodesAndRetryabilityMatchTheCode() {
        List<String> codes = texts(Contract.readJson(Contract.SCHEMA_DIR + "Failed.json").at("/properties/code/enum"));
        assertThat(codes).containsExactlyElementsOf(Arrays.stream(FailureCode.values()).map(Enum::name).toList());
        JsonNode failed = example("Failed");
        for (FailureCode code : FailureCode.values()) {
            ObjectNode f = with(failed, "code", code.name());
            f.put("attempts", code == FailureCode.INVALID_REQUEST ? 0 : 1);
            f.put("retryable", code.retryable());
            assertThat(violations(schema("Failed"), f)).as(code.name()).isEmpty();
            f.put("retryable", !code.retryable());
            assertThat(violations(schema("Failed"), f)).as(code.name()).isNotEmpty();
        }
    }

    @Test
    void resourceActionsMatchTheCode() {
        Set<String> documented = new TreeSet<>();
        documented.addAll(texts(Contract.readJson(Contract.SCHEMA_DIR + "Authorized.json").at("/$defs/authorizeAction/enum")));
        documented.addAll(texts(Contract.readJson(Contract.SCHEMA_DIR + "Deauthorized.json")
                .at("/properties/resources/items/properties/action/enum")));
        assertThat(documented).isEqualTo(Arrays.stream(ResourceAction.Action.values()).map(Enum::name)
                .collect(Collectors.toCollection(TreeSet::new)));
    }

    @Test
    void everyResultTheCodeCanPublishHasASchemaWithExactlyItsFields() {
        for (Class<?> type : Result.class.getPermittedSubclasses()) {
            String name = type.getSimpleName();
            assertThat(RESULTS).as("result type %s is documented", name).contains(name);
            JsonNode schema = Contract.readJson(Contract.SCHEMA_DIR + name + ".json");
            Set<String> fields = Arrays.stream(type.getRecordComponents()).map(RecordComponent::getName)
                    .collect(Collectors.toCollection(TreeSet::new));
            Set<String> properties = new TreeSet<>();
            schema.path("properties").fieldNames().forEachRemaining(properties::add);
            assertThat(properties).as("fields of %s", name).containsAll(PUBLISHED_WITH_EVERY_RESULT);
            properties.removeAll(PUBLISHED_WITH_EVERY_RESULT);
            assertThat(properties).as("fields of %s", name).isEqualTo(fields);
        }
    }

    @Test
    void requestPatternsAndLimitsMatchTheReader() throws ReflectiveOperationException {
        JsonNode props = Contract.readJson(Contract.SCHEMA_DIR + "ClusterAuthorizationRequested.json").path("properties");
        assertThat(props.at("/requestId/pattern").asText()).isEqualTo(anchored(readerField("REQUEST_ID")));
        assertThat(props.at("/clusterId/pattern").asText()).isEqualTo(anchored(readerField("CLUSTER_ID")));
        assertThat(props.at("/region/pattern").asText()).isEqualTo(anchored(readerField("REGION")));
        assertThat(props.at("/appId/pattern").asText()).isEqualTo(anchored(readerField("APP_ID")));
        assertThat(props.at("/requestedBy/maxLength").asInt()).isEqualTo((Integer) readerField("MAX_REQUESTED_BY"));
        // The result schemas use the same patterns for the echoed fields.
        for (String result : RESULTS) {
            JsonNode defs = Contract.readJson(Contract.SCHEMA_DIR + result + ".json").path("$defs");
            assertThat(defs.at("/requestId/pattern").asText()).isEqualTo(props.at("/requestId/pattern").asText());
            assertThat(defs.at("/clusterId/pattern").asText()).isEqualTo(props.at("/clusterId/pattern").asText());
            assertThat(defs.at("/region/pattern").asText()).isEqualTo(props.at("/region/pattern").asText());
        }
    }

    @Test
    void requestTypesMatchTheReader() throws ReflectiveOperationException {
        Set<String> accepted = new TreeSet<>();
        try {
            // Contract section 8 (v1.1): one request type per lifecycle step.
            Class<?> types = Class.forName("io.apigw.authorizer.request.RequestType");
            for (Object t : types.getEnumConstants()) {
                accepted.add((String) types.getMethod("eventType").invoke(t));
            }
        } catch (ClassNotFoundException e) {
            accepted.add((String) RequestReader.class.getField("REQUEST_TYPE").get(null));
        }
        assertThat(REQUESTS).containsAll(accepted);
        assertThat(texts(doc.at("/components/schemas/RequestHeaders/properties/ce_type/enum")))
                .containsExactlyInAnyOrderElementsOf(REQUESTS);
    }

    // --- helpers ------------------------------------------------------------------------------------------------

    private List<String> messageNames() {
        List<String> names = new ArrayList<>();
        doc.path("components").path("messages").fieldNames().forEachRemaining(names::add);
        assertThat(names).containsExactlyInAnyOrderElementsOf(
                Stream.concat(Stream.concat(REQUESTS.stream(), RESULTS.stream()), Stream.of("DeadLetter")).toList());
        return names;
    }

    private static List<String> schemaFiles() throws IOException, URISyntaxException {
        Path dir = Path.of(Contract.resource(Contract.SCHEMA_DIR).toURI());
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static void collectProperties(JsonNode schema, Set<String> out) {
        schema.path("properties").fieldNames().forEachRemaining(out::add);
        schema.path("allOf").forEach(s -> collectProperties(s, out));
    }

    private Schema schema(String name) {
        return contract.schemaFile(Contract.SCHEMA_DIR + name + ".json");
    }

    private static JsonNode example(String name) {
        return Contract.readJson(Contract.SCHEMA_DIR + name + ".json").path("examples").get(0);
    }

    private static ObjectNode with(JsonNode node, String field, Object value) {
        ObjectNode copy = node.deepCopy();
        copy.set(field, Contract.JSON.valueToTree(value));
        return copy;
    }

    private static List<String> violations(Schema schema, String json) {
        return Contract.violations(schema, Contract.parse(json));
    }

    private static List<String> violations(Schema schema, JsonNode json) {
        return Contract.violations(schema, json);
    }

    private static List<String> texts(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).map(JsonNode::asText).toList();
    }

    private static Object readerField(String name) throws ReflectiveOperationException {
        Field f = RequestReader.class.getDeclaredField(name);
        f.setAccessible(true);
        return f.get(null);
    }

    private static String anchored(Object pattern) {
        return "^" + ((Pattern) pattern).pattern() + "$";
    }
}

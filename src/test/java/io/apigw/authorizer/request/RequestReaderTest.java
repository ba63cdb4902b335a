package io.apigw.authorizer.request;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.apigw.authorizer.config.AuthorizerConfig.DirectoryType;

class RequestReaderTest {

    private final RequestReader kubeconfigReader = new RequestReader(1024, DirectoryType.kubeconfig);
    private final RequestReader tkeReader = new RequestReader(1024, DirectoryType.tke);

    private static final String VALID = "{\"requestId\":\"7f9c2ba4-e88f\",\"clusterId\":\"cls-7xq2m9ab\","
            + "\"region\":\"ap-guangzhou\",\"appId\":\"1250000000\",\"requestedBy\":\"100000000002\",\"extra\":1}";

    private static RecordHeaders binary(String type) {
        RecordHeaders h = new RecordHeaders();
        h.add("ce_specversion", bytes("1.0"));
        h.add("ce_type", bytes(type));
        h.add("ce_id", bytes("e-1"));
        h.add("ce_source", bytes("/console"));
        return h;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static AuthorizationRequest accepted(ReadResult r) {
        assertThat(r).isInstanceOf(ReadResult.Accepted.class);
        return ((ReadResult.Accepted) r).request();
    }

    private static ReadResult.Rejected rejected(ReadResult r) {
        assertThat(r).isInstanceOf(ReadResult.Rejected.class);
        return (ReadResult.Rejected) r;
    }

    @Test
    void binaryModeRequestIsAcceptedWithAllFieldsAndUnknownFieldsIgnored() {
        AuthorizationRequest r = accepted(kubeconfigReader.read(binary("ClusterAuthorizationRequested"), bytes(VALID)));
        assertThat(r).isEqualTo(new AuthorizationRequest(RequestType.AUTHORIZE, "7f9c2ba4-e88f", "cls-7xq2m9ab", Optional.of("ap-guangzhou"),
                Optional.of("1250000000"), Optional.of("100000000002")));
    }

    /** A structured-mode record of this type whose event carries {@code attributes} (",\"k\":v" members) and VALID. */
    private ReadResult readStructured(String type, String attributes) {
        RecordHeaders h = new RecordHeaders();
        h.add("content-type", bytes("application/cloudevents+json; charset=UTF-8"));
        String event = "{\"specversion\":\"1.0\",\"type\":\"" + type + "\",\"id\":\"e\",\"source\":\"/console\""
                + attributes + ",\"data\":" + VALID + "}";
        return kubeconfigReader.read(h, bytes(event));
    }

    @Test
    void structuredModeRequestIsAccepted() {
        ReadResult r = readStructured("ClusterAuthorizationRequested",
                ",\"subject\":\"cls-7xq2m9ab\",\"datacontenttype\":\"application/json\"");
        assertThat(accepted(r).clusterId()).isEqualTo("cls-7xq2m9ab");
    }

    @Test
    void plainObjectWithoutCloudEventsIsReadAsTheRequest() {
        assertThat(accepted(kubeconfigReader.read(new RecordHeaders(), bytes(VALID))).requestId())
                .isEqualTo("7f9c2ba4-e88f");
    }

    @Test
    void regionIsOptionalForKubeconfigButRequiredForTke() {
        String noRegion = "{\"requestId\":\"r1\",\"clusterId\":\"cls-a\"}";
        assertThat(accepted(kubeconfigReader.read(new RecordHeaders(), bytes(noRegion))).region()).isEmpty();
        ReadResult.Rejected r = rejected(tkeReader.read(new RecordHeaders(), bytes(noRegion)));
        assertThat(r.reason()).isEqualTo("region is required");
        assertThat(r.unreadable()).isFalse();
        assertThat(r.answerable()).isTrue();
    }

    @Test
    void numericAppIdIsAccepted() {
        String body = "{\"requestId\":\"r1\",\"clusterId\":\"cls-a\",\"appId\":1250000000}";
        assertThat(accepted(kubeconfigReader.read(new RecordHeaders(), bytes(body))).appId()).contains("1250000000");
    }

    @Test
    void theOwnerUinIsTakenAsTextOrNumber() {
        for (String uin : new String[] { "\"100000000001\"", "100000000001" }) {
            String body = "{\"requestId\":\"r1\",\"clusterId\":\"cls-a\",\"ownerUin\":" + uin + "}";
            assertThat(accepted(kubeconfigReader.read(new RecordHeaders(), bytes(body))).ownerUin())
                    .contains("100000000001");
        }
        assertThat(accepted(kubeconfigReader.read(binary("ClusterAuthorizationRequested"), bytes(VALID))).ownerUin())
                .isEmpty();
    }

    /** Each rule of contract section 3: the ids are readable, so the request is answered INVALID_REQUEST. */
    @Test
    void aRolloutNamesThePolicyVersionItMovesTheClusterTo() {
        String rollout = VALID.replace("\"extra\":1",
                "\"trigger\":\"rollout\",\"ifCredentialVersion\":\"48213\",\"policyVersion\":2");
        AuthorizationRequest r = accepted(kubeconfigReader.read(binary("ClusterAuthorizationRequested"),
                bytes(rollout)));
        assertThat(r.trigger()).isEqualTo(Trigger.rollout);
        assertThat(r.policyVersion()).contains(2);
        assertThat(accepted(kubeconfigReader.read(binary("ClusterAuthorizationRequested"), bytes(VALID)))
                .policyVersion()).as("the console's keep the cluster's own").isEmpty();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "\"region\":\"Guangzhou\"                  | region must be a region such as ap-guangzhou",
            "\"region\":7                             | region must be a string",
            "\"appId\":\"12 34\"                       | appId must be 1-64 characters of [A-Za-z0-9_-]",
            "\"appId\":{\"a\":1}                        | appId must be 1-64 characters of [A-Za-z0-9_-]",
            "\"ownerUin\":\"uin-100\"                  | ownerUin must be the account's uin: 1-20 digits",
            "\"ownerUin\":\"123456789012345678901\"    | ownerUin must be the account's uin: 1-20 digits",
            "\"ownerUin\":-1                         | ownerUin must be the account's uin: 1-20 digits",
            "\"requestedBy\":[1]                      | requestedBy must be a string of at most 256 characters",
    })
    void invalidOptionalFieldsAreAnsweredInvalidRequest(String field, String reason) {
        String body = "{\"requestId\":\"r1\",\"clusterId\":\"cls-a\"," + field + "}";
        ReadResult.Rejected r = rejected(kubeconfigReader.read(new RecordHeaders(), bytes(body)));
        assertThat(r.reason()).isEqualTo(reason);
        assertThat(r.unreadable()).isFalse();
        assertThat(r.answerable()).isTrue();
    }

    /**
     * Ids that are strings but break their patterns: the record is dead-lettered, and (contract section 4: every
     * readable request gets a result) answered Failed/INVALID_REQUEST with both ids exactly as sent.
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "a b       | cls-a      | requestId must be 1-128 characters of [A-Za-z0-9._:-]",
            "r1        | -cls       | clusterId must be a DNS label: 1-63 characters of [a-z0-9-], no leading or trailing '-'",
            "r1        | cls-       | clusterId must be a DNS label: 1-63 characters of [a-z0-9-], no leading or trailing '-'",
            "r1        | CLS-A      | clusterId must be a DNS label: 1-63 characters of [a-z0-9-], no leading or trailing '-'",
            "r1        | ../../etc  | clusterId must be a DNS label: 1-63 characters of [a-z0-9-], no leading or trailing '-'",
            "../r1     | cls/a b    | requestId must be 1-128 characters of [A-Za-z0-9._:-]",
    })
    void idsThatBreakTheirPatternsAreDeadLetteredAndAnsweredWithTheIdsAsSent(String requestId, String clusterId,
            String reason) {
        String body = "{\"requestId\":\"" + requestId + "\",\"clusterId\":\"" + clusterId + "\"}";
        ReadResult.Rejected r = rejected(kubeconfigReader.read(new RecordHeaders(), bytes(body)));
        assertThat(r.reason()).isEqualTo(reason);
        assertThat(r.unreadable()).isTrue();
        assertThat(r.answerable()).isTrue();
        assertThat(r.requestId()).contains(requestId);
        assertThat(r.clusterId()).contains(clusterId);
    }

    @Test
    void tooLongIdsAreEchoedUpToOneKibibyteOfUtf8() {
        RequestReader reader = new RequestReader(65536, DirectoryType.kubeconfig);
        String longest = "\u00e9".repeat(512); // 1024 bytes of UTF-8
        ReadResult.Rejected r = rejected(reader.read(new RecordHeaders(),
                bytes("{\"requestId\":\"" + "r".repeat(1024) + "\",\"clusterId\":\"" + longest + "\"}")));
        assertThat(r.requestId()).contains("r".repeat(1024));
        assertThat(r.clusterId()).contains(longest);
        ReadResult.Rejected over = rejected(reader.read(new RecordHeaders(),
                bytes("{\"requestId\":\"r1\",\"clusterId\":\"" + longest + "x\"}")));
        assertThat(over.clusterId()).isEmpty();
        assertThat(over.answerable()).isFalse();
        assertThat(over.unreadable()).isTrue();
    }

    /** Without a requestId and clusterId that can be echoed, no result can be correlated: only the dead letter. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{\"clusterId\":\"cls-a\"}                                  | requestId is required",
            "{\"requestId\":null,\"clusterId\":\"cls-a\"}               | requestId is required",
            "{\"requestId\":\"\",\"clusterId\":\"cls-a\"}                | requestId must be 1-128 characters of [A-Za-z0-9._:-]",
            "{\"requestId\":5,\"clusterId\":\"cls-a\"}                  | requestId must be a string",
            "{\"requestId\":\"r1\"}                                     | clusterId is required",
            "{\"requestId\":\"r1\",\"clusterId\":[\"cls-a\"]}            | clusterId must be a string",
            "{\"requestId\":\"r1\",\"clusterId\":\"cls-a\\n\"}            | clusterId must be a DNS label: 1-63 characters of [a-z0-9-], no leading or trailing '-'",
            "{\"requestId\":\"r\\u0000\",\"clusterId\":\"cls-a\"}         | requestId must be 1-128 characters of [A-Za-z0-9._:-]",
            "{\"requestId\":\"r1\",\"clusterId\":\"cls-\\u202eab\"}       | clusterId must be a DNS label: 1-63 characters of [a-z0-9-], no leading or trailing '-'",
            "{\"requestId\":\"r1\",\"clusterId\":\"cls-\\ud800\"}         | clusterId must be a DNS label: 1-63 characters of [a-z0-9-], no leading or trailing '-'",
    })
    void idsThatCannotBeEchoedAreOnlyDeadLettered(String body, String reason) {
        ReadResult.Rejected r = rejected(kubeconfigReader.read(new RecordHeaders(), bytes(body)));
        assertThat(r.reason()).isEqualTo(reason);
        assertThat(r.unreadable()).isTrue();
        assertThat(r.answerable()).isFalse();
    }

    @Test
    void anInvalidIdIsEchoedWhenTheEnvelopeIsBrokenToo() {
        ReadResult.Rejected r = rejected(kubeconfigReader.read(binary("SomethingElse"),
                bytes("{\"requestId\":\"r1\",\"clusterId\":\"Cls_1\"}")));
        assertThat(r.reason()).isEqualTo("unknown event type SomethingElse");
        assertThat(r.clusterId()).contains("Cls_1");
        assertThat(r.answerable()).isTrue();
    }

    @Test
    void idLengthLimitsAreExact() {
        String ok = "{\"requestId\":\"" + "r".repeat(128) + "\",\"clusterId\":\"" + "c".repeat(63) + "\"}";
        accepted(kubeconfigReader.read(new RecordHeaders(), bytes(ok)));
        String tooLong = "{\"requestId\":\"" + "r".repeat(129) + "\",\"clusterId\":\"c\"}";
        assertThat(rejected(kubeconfigReader.read(new RecordHeaders(), bytes(tooLong))).unreadable()).isTrue();
        String clusterTooLong = "{\"requestId\":\"r\",\"clusterId\":\"" + "c".repeat(64) + "\"}";
        assertThat(rejected(kubeconfigReader.read(new RecordHeaders(), bytes(clusterTooLong))).unreadable()).isTrue();
    }

    @Test
    void checkAndDeauthorizeRequestsCarryTheirType() {
        assertThat(accepted(kubeconfigReader.read(binary("ClusterAuthorizationCheckRequested"), bytes(VALID))).type())
                .isEqualTo(RequestType.CHECK);
        assertThat(accepted(kubeconfigReader.read(binary("ClusterDeauthorizationRequested"), bytes(VALID))).type())
                .isEqualTo(RequestType.DEAUTHORIZE);
        assertThat(accepted(kubeconfigReader.read(new RecordHeaders(), bytes(VALID))).type())
                .isEqualTo(RequestType.AUTHORIZE);
    }

    @Test
    void unknownEventTypeIsDeadLetteredAndStillAnswered() {
        ReadResult.Rejected r = rejected(kubeconfigReader.read(binary("SomethingElse"), bytes(VALID)));
        assertThat(r.reason()).isEqualTo("unknown event type SomethingElse");
        assertThat(r.unreadable()).isTrue();
        assertThat(r.answerable()).isTrue();
    }

    @Test
    void cloudEventMissingARequiredAttributeIsRejected() {
        RecordHeaders h = new RecordHeaders();
        h.add("ce_specversion", bytes("1.0"));
        h.add("ce_type", bytes("ClusterAuthorizationRequested"));
        ReadResult.Rejected r = rejected(kubeconfigReader.read(h, bytes(VALID)));
        assertThat(r.reason()).isEqualTo("CloudEvents attribute id is missing");
        assertThat(r.answerable()).isTrue();
    }

    /**
     * Kafka header names are case-sensitive and the CloudEvents Kafka binding names them {@code ce_*}: upper-case
     * names are not CloudEvents attributes, but a sender who wrote them meant an event, so the record must never
     * fall through to the plain-object path (where a deauthorize would run as an authorize).
     */
    @ParameterizedTest
    @CsvSource({ "CE_", "Ce_", "cE_" })
    void cloudEventsHeadersInAnotherCaseAreRefusedNotReadAsAnAuthorize(String prefix) {
        RecordHeaders h = new RecordHeaders();
        h.add(prefix + "SPECVERSION", bytes("1.0"));
        h.add(prefix + "TYPE", bytes("ClusterDeauthorizationRequested"));
        h.add(prefix + "ID", bytes("e-1"));
        h.add(prefix + "SOURCE", bytes("/console"));
        ReadResult.Rejected r = rejected(kubeconfigReader.read(h, bytes(VALID)));
        assertThat(r.reason()).isEqualTo("header " + prefix + "SPECVERSION is not a CloudEvents header: the Kafka "
                + "binding names them in lower case (ce_specversion)");
        assertThat(r.unreadable()).as("dead-lettered").isTrue();
        assertThat(r.answerable()).as("and answered Failed/INVALID_REQUEST").isTrue();
        assertThat(r.requestId()).contains("7f9c2ba4-e88f");
        assertThat(r.clusterId()).contains("cls-7xq2m9ab");
    }

    @Test
    void oneUpperCaseHeaderBesideLowerCaseOnesIsRefusedToo() {
        RecordHeaders h = binary("ClusterAuthorizationRequested");
        h.add("CE_TYPE", bytes("ClusterDeauthorizationRequested"));
        assertThat(rejected(kubeconfigReader.read(h, bytes(VALID))).reason()).startsWith("header CE_TYPE is not");
    }

    /** CloudEvents 1.0 attribute types include Integer and Boolean; the JSON format writes them as JSON values. */
    @Test
    void structuredEventWithIntegerAndBooleanExtensionAttributesIsAccepted() {
        AuthorizationRequest r = accepted(readStructured("ClusterDeauthorizationRequested",
                ",\"priority\":5,\"sampled\":true,\"min\":-2147483648"));
        assertThat(r.type()).isEqualTo(RequestType.DEAUTHORIZE);
        assertThat(r.clusterId()).isEqualTo("cls-7xq2m9ab");
    }

    /** What CloudEvents does not allow stays refused: other JSON types, integers beyond 32 bits, typed core attributes. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "\"priority\":1.5          | CloudEvents attribute priority must be a string, an integer or a boolean",
            "\"priority\":2147483648   | CloudEvents attribute priority must be a string, an integer or a boolean",
            "\"priority\":[1]          | CloudEvents attribute priority must be a string, an integer or a boolean",
            "\"priority\":{}           | CloudEvents attribute priority must be a string, an integer or a boolean",
            "\"subject\":7             | CloudEvents attribute subject must be a string",
            "\"time\":true             | CloudEvents attribute time must be a string",
    })
    void structuredAttributesOfOtherTypesAreRefused(String attribute, String reason) {
        ReadResult.Rejected r = rejected(readStructured("ClusterAuthorizationRequested", "," + attribute));
        assertThat(r.reason()).isEqualTo(reason);
        assertThat(r.answerable()).isTrue();
    }

    @Test
    void subjectThatContradictsClusterIdIsInvalid() {
        RecordHeaders h = binary("ClusterAuthorizationRequested");
        h.add("ce_subject", bytes("cls-other"));
        assertThat(rejected(kubeconfigReader.read(h, bytes(VALID))).reason())
                .isEqualTo("CloudEvents subject does not match clusterId");
    }

    @Test
    void duplicateHeaderOrMixedModesAreRejected() {
        RecordHeaders dup = binary("ClusterAuthorizationRequested");
        dup.add("ce_type", bytes("ClusterAuthorizationRequested"));
        assertThat(rejected(kubeconfigReader.read(dup, bytes(VALID))).reason()).contains("appears more than once");
        RecordHeaders mixed = binary("ClusterAuthorizationRequested");
        mixed.add("content-type", bytes("application/cloudevents+json"));
        assertThat(rejected(kubeconfigReader.read(mixed, bytes(VALID))).reason()).contains("mixes structured mode");
    }

    @Test
    void malformedValuesAreDeadLettered() {
        assertThat(rejected(kubeconfigReader.read(new RecordHeaders(), null)).reason()).isEqualTo("empty record value");
        assertThat(rejected(kubeconfigReader.read(new RecordHeaders(), bytes("[1,2]"))).reason())
                .isEqualTo("value is not a JSON object");
        assertThat(rejected(kubeconfigReader.read(new RecordHeaders(), bytes("{\"requestId\":\"a\",\"requestId\":\"b\"}")))
                .reason()).startsWith("value is not a JSON document");
        assertThat(rejected(kubeconfigReader.read(new RecordHeaders(), bytes(VALID + "{}"))).reason())
                .startsWith("value is not a JSON document");
        assertThat(rejected(kubeconfigReader.read(new RecordHeaders(), "[".repeat(100).getBytes())).unreadable()).isTrue();
        assertThat(rejected(kubeconfigReader.read(new RecordHeaders(), new byte[] { '{', '"', (byte) 0xc3, '"' }))
                .unreadable()).isTrue();
    }

    @Test
    void oversizedRecordIsRejectedBeforeParsing() {
        byte[] big = ("{\"requestId\":\"r\",\"clusterId\":\"c\",\"pad\":\"" + "x".repeat(2000) + "\"}").getBytes();
        assertThat(rejected(kubeconfigReader.read(new RecordHeaders(), big)).reason())
                .isEqualTo("record of " + big.length + " bytes exceeds the limit of 1024");
    }

    @Test
    void reasonsNeverEchoControlCharactersOrLongInput() {
        RecordHeaders h = binary("Evil\r\nInjected: yes" + "x".repeat(500));
        String reason = rejected(kubeconfigReader.read(h, bytes(VALID))).reason();
        assertThat(reason).doesNotContain("\r").doesNotContain("\n").hasSizeLessThan(200);
    }

    @Test
    void aSweepsRepairCarriesItsTriggerAndTheCredentialVersionItSaw() {
        String repair = VALID.replace("\"extra\":1", "\"trigger\":\"repair\",\"ifCredentialVersion\":\"48213\"");
        AuthorizationRequest r = accepted(kubeconfigReader.read(binary("ClusterAuthorizationRequested"), bytes(repair)));
        assertThat(r.trigger()).isEqualTo(Trigger.repair);
        assertThat(r.ifCredentialVersion()).contains("48213");

        AuthorizationRequest console = accepted(kubeconfigReader.read(binary("ClusterAuthorizationRequested"),
                bytes(VALID)));
        assertThat(console.trigger()).isEqualTo(Trigger.console);
        assertThat(console.ifCredentialVersion()).isEmpty();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "ClusterAuthorizationRequested|\"trigger\":\"Sweep\"|trigger must be one of console, sweep, repair, rollout",
            "ClusterAuthorizationRequested|\"trigger\":1|trigger must be one of console, sweep, repair, rollout",
            "ClusterAuthorizationRequested|\"policyVersion\":2|policyVersion is only for a conditional",
            "ClusterAuthorizationRequested|\"ifCredentialVersion\":\"7\",\"policyVersion\":3|policyVersion must be "
                    + "one of [1, 2]",
            "ClusterAuthorizationRequested|\"ifCredentialVersion\":\"7\",\"policyVersion\":\"2\"|policyVersion "
                    + "must be one of [1, 2]",
            "ClusterAuthorizationRequested|\"ifCredentialVersion\":\"a b\"|ifCredentialVersion must be 1-64 characters",
            "ClusterAuthorizationRequested|\"ifCredentialVersion\":7|ifCredentialVersion must be 1-64 characters",
            "ClusterDeauthorizationRequested|\"ifCredentialVersion\":\"7\"|ifCredentialVersion is only for "
                    + "ClusterAuthorizationRequested" })
    void badTriggersAndConditionsAreAnsweredInvalidRequest(String type, String field, String reason) {
        ReadResult.Rejected r = rejected(kubeconfigReader.read(binary(type), bytes(VALID.replace("\"extra\":1",
                field))));
        assertThat(r.reason()).startsWith(reason);
        assertThat(r.answerable()).isTrue();
        assertThat(r.unreadable()).isFalse();
    }
}

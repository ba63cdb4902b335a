package io.apigw.authorizer.request;

import java.util.Optional;

/** What the reader made of one record: a request to process, or a rejection. */
public sealed interface ReadResult {

    record Accepted(AuthorizationRequest request) implements ReadResult {
    }

    /**
     * The record breaks the contract. {@code unreadable} records go to the dead-letter topic; when the request id
     * and cluster id could still be read, a {@code Failed/INVALID_REQUEST} result is published as well. Those ids are
     * as sent: they may break their patterns (then the record is unreadable too), but are at most 1 KiB of visible
     * characters. {@code oversize}: its value or its headers are over {@code authorizer.request.max-bytes}, so only a
     * bounded stub of it is set aside.
     */
    record Rejected(String reason, boolean unreadable, Optional<String> requestId, Optional<String> clusterId,
            Optional<String> region, boolean oversize) implements ReadResult {

        public boolean answerable() {
            return requestId.isPresent() && clusterId.isPresent();
        }
    }
}

package io.apigw.authorizer.request;

/** A field's problem: the request is rejected with it, naming the field and what it must be. */
final class Invalid extends RuntimeException {

    Invalid(String problem) {
        super(problem, null, false, false);
    }
}

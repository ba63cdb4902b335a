package io.apigw.authorizer.lifecycle;

import io.apigw.authorizer.grant.ChangeLog;
import io.apigw.authorizer.request.AuthorizationRequest;
import io.apigw.authorizer.result.Result;

/**
 * One attempt at one request type. Every step of it is idempotent, so the worker answers a transient failure by
 * running the whole attempt again; {@code changes} carries the per-object actions over from earlier attempts.
 */
public interface UseCase {

    Result attempt(AuthorizationRequest request, int attempt, ChangeLog changes);
}

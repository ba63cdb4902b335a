package io.apigw.authorizer.lifecycle;

import io.apigw.authorizer.credential.CredentialStore;
import io.apigw.authorizer.policy.Policy;
import io.apigw.authorizer.request.AuthorizationRequest;

/** What a stored credential records of the request that stored it, and the region every result carries. */
final class Registrations {

    private Registrations() {
    }

    static CredentialStore.Registered of(AuthorizationRequest request, Policy policy) {
        return CredentialStore.Registered.of(request.clusterId(), request.region(), request.appId(),
                request.ownerUin(), policy.version());
    }

    static String region(AuthorizationRequest request) {
        return request.region().orElse(null);
    }
}

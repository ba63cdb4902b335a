package io.apigw.authorizer.grant;

import io.apigw.authorizer.credential.Token;

/** Tries a token as the gateway will use it (its endpoint, its CA); see {@link GatewayProbe}. */
@FunctionalInterface
public interface TokenCheck {

    /** @param serviceAccountUid the uid of {@code kube-system/apigw-ingress} as the admin sees it */
    TokenVerdict verify(Token token, String serviceAccountUid);
}

package io.apigw.authorizer.credential;

/** The gateway's credential for one cluster, as kept in the credential store. */
public record StoredCredential(String server, String caPem, Token token) {

    @Override
    public String toString() {
        return "StoredCredential[" + server + "]";
    }
}

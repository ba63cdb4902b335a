package io.apigw.authorizer.directory.tke;

import com.tencentcloudapi.common.Credential;

/**
 * The Tencent Cloud account whose API keys sign the TKE calls of one request.
 *
 * @param name for logs and caches: {@code appId <id>} or {@code default}; never a key
 */
record TkeAccount(String name, Credential credential) {

    @Override
    public String toString() {
        return name;
    }
}

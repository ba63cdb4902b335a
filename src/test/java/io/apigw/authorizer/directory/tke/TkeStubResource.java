package io.apigw.authorizer.directory.tke;

import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/** Starts the TKE stand-in before the application and points {@code authorizer.directory.tke.*} at it. */
public class TkeStubResource implements QuarkusTestResourceLifecycleManager {

    static volatile TkeStub stub;

    @Override
    public Map<String, String> start() {
        stub = TkeStub.start();
        return Map.of("authorizer.directory.tke.endpoint", stub.endpoint(),
                "authorizer.directory.tke.protocol", "http");
    }

    @Override
    public void stop() {
        stub.close();
    }
}

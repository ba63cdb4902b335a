package io.apigw.authorizer.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

class PolicyTest {

    @Test
    void versionOneIsTheSeedDocumentsClusterRoleVerbatim() throws Exception {
        ClusterRole seed;
        try (InputStream in = PolicyTest.class.getResourceAsStream("/seed/apigw-ingress.yaml")) {
            Object loaded = new KubernetesSerialization().unmarshal(in);
            List<?> items = loaded instanceof List<?> all ? all : List.of(loaded);
            seed = items.stream().filter(ClusterRole.class::isInstance).map(ClusterRole.class::cast).findFirst()
                    .orElseThrow();
        }
        assertThat(Policy.V1.rules()).isEqualTo(seed.getRules());
        assertThat(Policy.of(1)).contains(Policy.V1);
    }

    @Test
    void versionTwoKeepsEveryRuleOfOneAndAddsTheCurrentIngressAndEndpointSliceGroups() {
        assertThat(Policy.V2.rules()).startsWith(Policy.V1.rules().toArray(PolicyRule[]::new));
        assertThat(Policy.V2.rules().subList(Policy.V1.rules().size(), Policy.V2.rules().size())).containsExactly(
                new PolicyRuleBuilder().withApiGroups("networking.k8s.io")
                        .withResources("ingresses", "ingresses/status").withVerbs("*").build(),
                new PolicyRuleBuilder().withApiGroups("discovery.k8s.io").withResources("endpointslices")
                        .withVerbs("get", "list", "watch").build());
    }

    @Test
    void anUnknownVersionIsAConfigurationErrorThatNamesTheKnownOnes() {
        assertThat(Policy.of(3)).isEmpty();
        assertThat(Policy.versions()).containsExactly(1, 2);
        assertThatThrownBy(() -> Policy.configured(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("authorizer.policy.version=0 is not a policy this worker knows; it knows [1, 2]");
    }
}

package io.apigw.authorizer.grant;

import static io.apigw.authorizer.grant.ReservedResources.NAMESPACE;
import static io.apigw.authorizer.grant.ReservedResources.SERVICE_ACCOUNT;
import static io.apigw.authorizer.kube.KubeErrors.call;

import java.util.Optional;

import io.apigw.authorizer.marks.Marks;
import io.apigw.authorizer.result.ResourceAction.Action;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * The reserved ServiceAccount {@code kube-system/apigw-ingress}: how it is read, made, marked as relied on by a
 * gateway instance ({@link Owners}), unmarked and deleted. What it should be is {@link ReservedResources#serviceAccount}.
 */
final class AccountResource {

    private AccountResource() {
    }

    static ServiceAccount read(KubernetesClient client) {
        return call(client, "reading " + Reserved.SERVICE_ACCOUNT.described(),
                () -> client.serviceAccounts().inNamespace(NAMESPACE).withName(SERVICE_ACCOUNT).get());
    }

    /** Made marked as relied on by {@code self} at policy version {@code reliesOn}. */
    static ServiceAccount create(KubernetesClient client, String self, Optional<String> appId, int reliesOn) {
        ServiceAccount made = new ServiceAccountBuilder(ReservedResources.serviceAccount(self, appId)).editMetadata()
                .addToAnnotations(Marks.OWNER_POLICIES, self + "=" + reliesOn).endMetadata().build();
        return call(client, "creating " + Reserved.SERVICE_ACCOUNT.described(),
                () -> client.serviceAccounts().inNamespace(NAMESPACE).resource(made).create());
    }

    /**
     * Adds {@code self} to the owners of the account as observed, with the policy version it relies on. An update,
     * not a patch: it carries the observed resourceVersion, so an instance that joined meanwhile is never overwritten
     * (409, and the attempt runs again).
     */
    static ServiceAccount markOwner(KubernetesClient client, ServiceAccount observed, String self,
            Optional<String> appId, int reliesOn) {
        Owners owners = Owners.of(observed);
        ServiceAccountBuilder marked = new ServiceAccountBuilder(observed).editMetadata()
                .addToAnnotations(Marks.OWNERS, owners.joined(self))
                .addToAnnotations(Marks.OWNER_POLICIES, owners.policiesWith(self, reliesOn)).endMetadata();
        appId.ifPresent(a -> marked.editMetadata().addToAnnotations(Marks.APP_ID, a).endMetadata());
        return call(client, "marking " + Reserved.SERVICE_ACCOUNT.described() + " as relied on by " + self,
                () -> client.serviceAccounts().inNamespace(NAMESPACE).resource(marked.build()).update());
    }

    /** Takes {@code self}'s mark off, with the resourceVersion read: an owner who joined meanwhile is never dropped. */
    static void unmark(KubernetesClient client, ServiceAccount sa, String self) {
        Owners owners = Owners.of(sa);
        ServiceAccount unmarked = new ServiceAccountBuilder(sa).editMetadata()
                .addToAnnotations(Marks.OWNERS, owners.left(self))
                .addToAnnotations(Marks.OWNER_POLICIES, owners.policiesLeft(self)).endMetadata().build();
        call(client, "unmarking " + Reserved.SERVICE_ACCOUNT.described(),
                () -> client.serviceAccounts().inNamespace(NAMESPACE).resource(unmarked).update());
    }

    static Action delete(KubernetesClient client) {
        return GrantRemover.deleted(call(client, "deleting " + Reserved.SERVICE_ACCOUNT.described(),
                () -> client.serviceAccounts().inNamespace(NAMESPACE).withName(SERVICE_ACCOUNT).delete()));
    }
}

package io.apigw.authorizer;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

/**
 * The package graph as the README's Layout states it, kept by the build: no cycle between the worker's packages, and
 * each package imports only from the layers below its own (not even from a package beside it).
 */
class ArchitectureTest {

    private static final String ROOT = "io.apigw.authorizer";

    /** Top to bottom. README, Layout: keep the two in step. */
    static final List<List<String>> LAYERS = List.of(
            List.of("sweep"),
            List.of("worker", "health"),
            List.of("lifecycle"),
            List.of("grant"),
            List.of("kube"),
            List.of("credential", "directory", "delivery"),
            List.of("result"),
            List.of("request"),
            List.of("policy", "metrics", "config", "timing", "marks"));

    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages(ROOT);

    @Test
    void thePackagesFormNoCycle() {
        slices().matching(ROOT + ".(*)..").should().beFreeOfCycles().check(MAIN);
    }

    @Test
    void eachPackageImportsOnlyFromTheLayersBelowIt() {
        for (int layer = 0; layer < LAYERS.size(); layer++) {
            for (String pkg : LAYERS.get(layer)) {
                List<String> notBelow = new ArrayList<>();
                for (int above = 0; above <= layer; above++) {
                    LAYERS.get(above).stream().filter(p -> !p.equals(pkg)).map(p -> ROOT + "." + p + "..")
                            .forEach(notBelow::add);
                }
                noClasses().that().resideInAPackage(ROOT + "." + pkg + "..").should().dependOnClassesThat()
                        .resideInAnyPackage(notBelow.toArray(String[]::new))
                        .because("README, Layout: imports point down, and " + pkg + " is in layer " + (layer + 1))
                        .check(MAIN);
            }
        }
    }

    @Test
    void everyPackageHasItsLayer() {
        Set<String> packages = MAIN.stream().map(JavaClass::getPackageName).filter(p -> p.startsWith(ROOT + "."))
                .map(p -> p.substring(ROOT.length() + 1).split("\\.")[0]).collect(Collectors.toCollection(TreeSet::new));
        Set<String> placed = LAYERS.stream().flatMap(List::stream).collect(Collectors.toCollection(TreeSet::new));

        assertThat(packages).as("a new package needs its place in LAYERS and in the README's Layout")
                .isEqualTo(placed);
    }
}

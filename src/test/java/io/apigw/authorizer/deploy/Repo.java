package io.apigw.authorizer.deploy;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Locations in the checkout and in the Maven build directory (which {@code -Dbuild.dir} may move elsewhere). */
final class Repo {

    private Repo() {
    }

    /** The repository root: surefire/failsafe run in {@code ${basedir}} and also pass it as a system property. */
    static Path root() {
        for (String candidate : new String[] { System.getProperty("basedir"), System.getProperty("user.dir") }) {
            if (candidate != null && Files.isRegularFile(Path.of(candidate, "pom.xml"))) {
                return Path.of(candidate).toAbsolutePath().normalize();
            }
        }
        throw new IllegalStateException("cannot find the repository root (no pom.xml in basedir or user.dir)");
    }

    /** The Maven build directory: the parent of the directory these test classes were loaded from. */
    static Path buildDir() {
        try {
            Path classes = Path.of(Repo.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return classes.getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}

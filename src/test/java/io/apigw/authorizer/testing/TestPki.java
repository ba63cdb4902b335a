package io.apigw.authorizer.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away CA and a server certificate for 127.0.0.1 signed by it, made with the JDK's {@code keytool}: the broker
 * gets a PKCS12 keystore, clients get the CA as a PEM file, the same shape as Strimzi's {@code ca.crt}.
 */
public final class TestPki {

    /** The CA certificate (PEM): what a client trusts. */
    public final Path caCertificate;
    /** PKCS12 keystore with the server key and its chain. */
    public final Path serverKeystore;
    public final String keystorePassword;

    private TestPki(Path caCertificate, Path serverKeystore, String keystorePassword) {
        this.caCertificate = caCertificate;
        this.serverKeystore = serverKeystore;
        this.keystorePassword = keystorePassword;
    }

    public static TestPki create(String caName) {
        try {
            Path dir = Files.createTempDirectory("test-pki");
            String pw = UUID.randomUUID().toString();
            Path ca = dir.resolve("ca.p12");
            Path server = dir.resolve("server.p12");
            Path caPem = dir.resolve("ca.crt");
            Path csr = dir.resolve("server.csr");
            Path signed = dir.resolve("server.crt");
            keytool(pw, ca, "-genkeypair", "-alias", "ca", "-dname", "CN=" + caName, "-keyalg", "EC", "-groupname",
                    "secp256r1", "-validity", "2", "-ext", "bc:c");
            keytool(pw, ca, "-exportcert", "-alias", "ca", "-rfc", "-file", caPem.toString());
            keytool(pw, server, "-genkeypair", "-alias", "server", "-dname", "CN=127.0.0.1", "-keyalg", "EC",
                    "-groupname", "secp256r1", "-validity", "2");
            keytool(pw, server, "-certreq", "-alias", "server", "-file", csr.toString());
            // Clients verify the host name (ssl.endpoint.identification.algorithm=https): the SAN must name 127.0.0.1.
            keytool(pw, ca, "-gencert", "-alias", "ca", "-infile", csr.toString(), "-outfile", signed.toString(),
                    "-rfc", "-validity", "2", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-ext", "EKU=serverAuth");
            keytool(pw, server, "-importcert", "-alias", "ca", "-file", caPem.toString(), "-noprompt");
            keytool(pw, server, "-importcert", "-alias", "server", "-file", signed.toString());
            return new TestPki(caPem, server, pw);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void keytool(String password, Path keystore, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("-keystore", keystore.toString(), "-storetype", "PKCS12", "-storepass", password));
        Path out = Files.createTempFile("keytool", ".out");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IOException("keytool " + args[0] + " failed:\n" + Files.readString(out));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        } finally {
            Files.deleteIfExists(out);
        }
    }
}

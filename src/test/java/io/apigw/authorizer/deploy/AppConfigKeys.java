package io.apigw.authorizer.deploy;

import java.io.IOException;
import java.io.Reader;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithName;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The configuration keys the application knows, and how Quarkus maps them to environment variables. */
final class AppConfigKeys {

    private AppConfigKeys() {
    }

    /** Quarkus/SmallRye env mapping: every character that is not a letter or digit becomes '_', then upper case. */
    static String envName(String key) {
        return key.replaceAll("[^A-Za-z0-9]", "_").toUpperCase(Locale.ROOT);
    }

    /** A leaf of {@link AuthorizerConfig}: its key, its {@code @WithDefault} (or null), whether it is a map. */
    record Key(String name, String defaultValue, boolean map) {
    }

    /** Every leaf key of {@link AuthorizerConfig}, e.g. {@code authorizer.kube.connect-timeout}. */
    static Set<String> authorizerKeys() {
        Set<String> keys = new TreeSet<>();
        authorizerLeaves().forEach(k -> keys.add(k.name()));
        return keys;
    }

    static List<Key> authorizerLeaves() {
        List<Key> keys = new ArrayList<>();
        walk(AuthorizerConfig.class.getAnnotation(ConfigMapping.class).prefix(), AuthorizerConfig.class, keys);
        return keys;
    }

    /**
     * Whether an environment variable sets a key of {@link AuthorizerConfig}. Map-valued keys (e.g. tenants by
     * appId) take any suffix: {@code AUTHORIZER_DIRECTORY_TKE_TENANTS_<appId>_SECRET_ID}.
     */
    static boolean isAuthorizerEnv(String env) {
        for (Key k : authorizerLeaves()) {
            String name = envName(k.name());
            if (env.equals(name) || k.map() && env.startsWith(name + "_")) {
                return true;
            }
        }
        return false;
    }

    /** SmallRye durations: {@code 45s}, {@code 500ms}, {@code 2m}, {@code 1h}, ISO-8601, or plain seconds. */
    static Duration duration(String value) {
        Matcher m = Pattern.compile("(\\d+)(ms|s|m|h|d)?").matcher(value.strip());
        if (!m.matches()) {
            return Duration.parse(value.strip());
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        return switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            default -> Duration.ofSeconds(n);
        };
    }

    private static void walk(String prefix, Class<?> group, List<Key> keys) {
        for (Method m : group.getMethods()) {
            if (Modifier.isStatic(m.getModifiers()) || m.isDefault() || m.getParameterCount() != 0) {
                continue;
            }
            WithName withName = m.getAnnotation(WithName.class);
            String key = prefix + "." + (withName != null ? withName.value() : kebab(m.getName()));
            Class<?> type = m.getReturnType();
            // A group: an interface of the config package (nested in AuthorizerConfig or its own, as SweepConfig).
            if (type.isInterface() && type.getPackageName().equals(AuthorizerConfig.class.getPackageName())) {
                walk(key, type, keys);
            } else {
                WithDefault def = m.getAnnotation(WithDefault.class);
                keys.add(new Key(key, def == null ? null : def.value(), Map.class.isAssignableFrom(type)));
            }
        }
    }

    /** SmallRye's default naming strategy: {@code connectTimeout} → {@code connect-timeout}. */
    static String kebab(String name) {
        return name.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }

    static Properties applicationProperties() {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(applicationPropertiesPath())) {
            p.load(r);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return p;
    }

    static Path applicationPropertiesPath() {
        return Repo.root().resolve("src/main/resources/application.properties");
    }

    /** Keys set in application.properties (profile prefixes removed). */
    static Set<String> propertyKeys() {
        Set<String> keys = new TreeSet<>();
        for (String k : applicationProperties().stringPropertyNames()) {
            keys.add(k.startsWith("%") ? k.substring(k.indexOf('.') + 1) : k);
        }
        return keys;
    }

    /** Environment variables application.properties expands itself, e.g. {@code ${KAFKA_BOOTSTRAP_SERVERS:…}}. */
    static Set<String> expandedEnvNames() {
        Set<String> names = new TreeSet<>();
        Matcher m = Pattern.compile("\\$\\{([A-Z][A-Z0-9_]*)[:}]").matcher(String.join("\n",
                applicationProperties().values().stream().map(Object::toString).toList()));
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }
}

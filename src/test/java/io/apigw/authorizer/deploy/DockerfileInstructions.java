package io.apigw.authorizer.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.ObjectMapper;

/** A minimal Dockerfile reader: instructions with continuation lines joined and comments dropped. */
final class DockerfileInstructions {

    record Instruction(String keyword, String args) {
    }

    /** COPY/ADD: flags such as {@code --chown=185}, the sources and the destination. */
    record Copy(List<String> flags, List<String> sources, String destination) {
    }

    final List<Instruction> instructions;

    private DockerfileInstructions(List<Instruction> instructions) {
        this.instructions = instructions;
    }

    static DockerfileInstructions read(Path file) throws IOException {
        List<Instruction> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String raw : Files.readAllLines(file)) {
            String line = raw.strip();
            if (current.isEmpty() && (line.isEmpty() || line.startsWith("#"))) {
                continue;
            }
            if (!current.isEmpty() && line.startsWith("#")) {
                continue; // comment lines inside a continued instruction
            }
            if (line.endsWith("\\")) {
                current.append(line, 0, line.length() - 1).append(' ');
                continue;
            }
            current.append(line);
            String text = current.toString().strip();
            current.setLength(0);
            int space = text.indexOf(' ');
            out.add(space < 0 ? new Instruction(text.toUpperCase(), "")
                    : new Instruction(text.substring(0, space).toUpperCase(), text.substring(space + 1).strip()));
        }
        return new DockerfileInstructions(out);
    }

    List<String> all(String keyword) {
        return instructions.stream().filter(i -> i.keyword().equals(keyword)).map(Instruction::args).toList();
    }

    Optional<String> last(String keyword) {
        List<String> all = all(keyword);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    List<Copy> copies() {
        List<Copy> copies = new ArrayList<>();
        for (String args : all("COPY")) {
            List<String> flags = new ArrayList<>();
            String rest = args;
            while (rest.startsWith("--")) {
                int space = rest.indexOf(' ');
                flags.add(rest.substring(0, space));
                rest = rest.substring(space + 1).strip();
            }
            List<String> parts;
            if (rest.startsWith("[")) {
                try {
                    parts = Arrays.asList(new ObjectMapper().readValue(rest, String[].class));
                } catch (IOException e) {
                    throw new IllegalStateException("bad COPY array: " + rest, e);
                }
            } else {
                parts = Arrays.asList(rest.split("\\s+"));
            }
            copies.add(new Copy(flags, parts.subList(0, parts.size() - 1), parts.get(parts.size() - 1)));
        }
        return copies;
    }

    /** The ENV value of {@code name} (form {@code ENV NAME="value"} or {@code ENV NAME value}). */
    Optional<String> env(String name) {
        Optional<String> value = Optional.empty();
        for (String args : all("ENV")) {
            if (args.startsWith(name + "=")) {
                value = Optional.of(unquote(args.substring(name.length() + 1)));
            } else if (args.startsWith(name + " ")) {
                value = Optional.of(unquote(args.substring(name.length() + 1).strip()));
            }
        }
        return value;
    }

    private static String unquote(String s) {
        return s.length() >= 2 && (s.startsWith("\"") && s.endsWith("\"") || s.startsWith("'") && s.endsWith("'"))
                ? s.substring(1, s.length() - 1)
                : s;
    }

    /** USER as given (name or uid, optionally {@code :group}); the user part only. */
    static String userPart(String user) {
        int colon = user.indexOf(':');
        return colon < 0 ? user : user.substring(0, colon);
    }

    static boolean isRoot(String user) {
        String u = userPart(user).strip();
        return u.isEmpty() || u.equals("root") || u.equals("0");
    }
}

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

import com.sun.source.tree.ClassTree;
import com.sun.source.tree.CompilationUnitTree;
import com.sun.source.tree.MethodTree;
import com.sun.source.tree.Tree;
import com.sun.source.util.JavacTask;
import com.sun.source.util.SourcePositions;
import com.sun.source.util.TreeScanner;
import com.sun.source.util.Trees;

/**
 * The size figures the design reviews quote, measured from the sources with the JDK's own parser (nothing is
 * compiled or run): the largest files, the longest methods and constructors (lines from their first annotation or
 * modifier to the closing brace, Javadoc not counted), and the classes with the most constructor parameters (the
 * collaborators a bean is injected with; records are values, not counted).
 *
 * <pre>java scripts/CodeFigures.java [src/main/java] [how many, default 10]</pre>
 */
public class CodeFigures {

    record Figure(int size, String what) {
    }

    public static void main(String[] args) throws IOException {
        Path root = Path.of(args.length > 0 ? args[0] : "src/main/java");
        int top = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        List<Path> sources;
        try (Stream<Path> files = Files.walk(root)) {
            sources = files.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        List<Figure> files = new ArrayList<>();
        List<Figure> methods = new ArrayList<>();
        List<Figure> collaborators = new ArrayList<>();
        try (StandardJavaFileManager fm = javac.getStandardFileManager(null, null, null)) {
            Iterable<? extends JavaFileObject> units = fm.getJavaFileObjectsFromPaths(sources);
            JavacTask task = (JavacTask) javac.getTask(null, fm, d -> { }, List.of("-proc:none"), null, units);
            SourcePositions positions = Trees.instance(task).getSourcePositions();
            for (CompilationUnitTree unit : task.parse()) {
                String file = root.toAbsolutePath().relativize(Path.of(unit.getSourceFile().toUri())).toString();
                files.add(new Figure((int) unit.getLineMap().getLineNumber(unit.getSourceFile()
                        .getCharContent(true).length()), file));
                new TreeScanner<Void, String>() {
                    @Override
                    public Void visitClass(ClassTree c, String outer) {
                        String name = outer == null ? c.getSimpleName().toString() : outer + "." + c.getSimpleName();
                        int widest = c.getMembers().stream().filter(m -> m instanceof MethodTree mt
                                && mt.getName().contentEquals("<init>"))
                                .mapToInt(m -> ((MethodTree) m).getParameters().size()).max().orElse(0);
                        if (widest > 0 && c.getKind() == Tree.Kind.CLASS) { // a record's parameters are its values
                            collaborators.add(new Figure(widest, name));
                        }
                        for (Tree member : c.getMembers()) {
                            if (member instanceof MethodTree m && m.getBody() != null) {
                                long start = unit.getLineMap().getLineNumber(positions.getStartPosition(unit, m));
                                long end = unit.getLineMap().getLineNumber(positions.getEndPosition(unit, m));
                                String method = m.getName().contentEquals("<init>") ? "<init>" : m.getName().toString();
                                methods.add(new Figure((int) (end - start + 1), name + "." + method + " (" + file
                                        + ":" + start + ")"));
                            }
                            member.accept(this, name);
                        }
                        return null;
                    }
                }.scan(unit.getTypeDecls(), null);
            }
        }
        print("largest files (lines)", files, top);
        print("longest methods (lines)", methods, top);
        print("most constructor parameters (collaborators)", collaborators, top);
        System.out.printf("%nfiles %d, over 300 lines %d; methods over 40 lines %d; classes over 7 collaborators %d%n",
                files.size(), files.stream().filter(f -> f.size() > 300).count(),
                methods.stream().filter(m -> m.size() > 40).count(),
                collaborators.stream().filter(c -> c.size() > 7).count());
    }

    private static void print(String title, List<Figure> figures, int top) {
        System.out.println(title);
        figures.stream().sorted(Comparator.comparingInt(Figure::size).reversed().thenComparing(Figure::what))
                .limit(top).forEach(f -> System.out.printf("  %5d  %s%n", f.size(), f.what()));
    }
}

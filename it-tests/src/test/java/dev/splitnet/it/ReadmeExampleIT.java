package dev.splitnet.it;

import dev.splitnet.mmap.JvmFlags;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The README's embedding section is what the build checks: its example is the compiled
 * EmbeddedPair, its flags are jvm.options, and its Maven coordinates, in a project of their own,
 * build and run the example with those flags alone.
 */
class ReadmeExampleIT
{
    private static final Pattern DEPENDENCY = Pattern.compile(
        "<groupId>([^<]+)</groupId>\\s*<artifactId>([^<]+)</artifactId>\\s*<version>([^<]+)</version>");

    @Test
    void shouldShowTheCompiledExampleInTheReadme() throws Exception
    {
        final String code = fenced(block("example"), "java");
        final String source = Files.readString(SplitnetProcess.root().resolve("cli/src/main/java/dev/splitnet/example/EmbeddedPair.java"));
        assertTrue(normalise(source).contains(normalise(code)), "README example differs from EmbeddedPair.java");
        assertTrue(code.lines().count() <= 25, "the example stays short");
    }

    @Test
    void shouldShowTheFlagsOfJvmOptions() throws Exception
    {
        final List<String> shown = readmeFlags();
        assertEquals(Files.readAllLines(SplitnetProcess.root().resolve("jvm.options")).stream().filter(l -> !l.isBlank()).toList(), shown);
        assertEquals(List.of(JvmFlags.AGRONA_UNSAFE, JvmFlags.SOCKET_DESCRIPTOR), shown, "the flags the library checks");
    }

    @Test
    void shouldShowTheCoordinatesOfTheModulesThisBuildInstalls() throws Exception
    {
        final String rootPom = Files.readString(SplitnetProcess.root().resolve("pom.xml"));
        final String version = between(rootPom, "<artifactId>splitnet-parent</artifactId>", "</version>").replaceAll("(?s).*<version>", "");
        final String slf4j = between(rootPom, "<slf4j.version>", "</slf4j.version>");
        final List<String[]> dependencies = readmeDependencies();
        assertEquals(3, dependencies.size(), "backend, frontend, a logging provider");
        for (final String[] d : dependencies)
        {
            if (d[0].equals("dev.splitnet"))
            {
                assertEquals(version, d[2], d[1] + " is shown at this build's version");
                assertTrue(Files.isRegularFile(SplitnetProcess.root().resolve(d[1]).resolve("pom.xml")), d[1] + " is a module");
            }
            else
            {
                assertEquals("org.slf4j:slf4j-simple:" + slf4j, String.join(":", d), "the provider at the version this build uses");
            }
        }
    }

    /**
     * A new Maven project with the README's dependencies and nothing else compiles EmbeddedPair (so
     * the README's block, which is in it), and the example runs with the README's flags alone and
     * logs through the provider shown.
     */
    @Test
    void shouldBuildAndRunTheExampleFromTheReadmeCoordinatesAndFlags() throws Exception
    {
        final Path project = Paths.get(System.getProperty("splitnet.logs", "target/it-logs")).toAbsolutePath().resolveSibling("readme-project");
        final Path sources = Files.createDirectories(project.resolve("src/main/java/dev/splitnet/example"));
        Files.copy(SplitnetProcess.root().resolve("cli/src/main/java/dev/splitnet/example/EmbeddedPair.java"), sources.resolve("EmbeddedPair.java"),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        final String xml = fenced(block("coordinates"), "xml");
        Files.writeString(project.resolve("pom.xml"), """
            <?xml version="1.0" encoding="UTF-8"?>
            <project xmlns="http://maven.apache.org/POM/4.0.0">
              <modelVersion>4.0.0</modelVersion>
              <groupId>example</groupId>
              <artifactId>readme-example</artifactId>
              <version>1</version>
              <properties>
                <maven.compiler.release>17</maven.compiler.release>
                <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
              </properties>
              <dependencies>
            """ + xml + """
              </dependencies>
              <build>
                <plugins>
                  <plugin><artifactId>maven-compiler-plugin</artifactId><version>3.13.0</version></plugin>
                  <plugin><artifactId>maven-resources-plugin</artifactId><version>3.3.1</version></plugin>
                  <plugin><artifactId>maven-dependency-plugin</artifactId><version>3.8.1</version></plugin>
                </plugins>
              </build>
            </project>
            """);
        final Path buildLog = project.resolve("build.log");
        final List<String> mvn = new ArrayList<>(List.of("mvn", "-B", "-q", "-f", project.resolve("pom.xml").toString()));
        final String repository = System.getProperty("splitnet.m2");
        if (repository != null && !repository.isBlank())
        {
            mvn.add("-Dmaven.repo.local=" + repository);
        }
        mvn.addAll(List.of("compile", "dependency:build-classpath", "-Dmdep.outputFile=" + project.resolve("classpath.txt")));
        final Process build = new ProcessBuilder(mvn).redirectErrorStream(true).redirectOutput(buildLog.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        assertTrue(build.waitFor(300, TimeUnit.SECONDS), "the example project built within 5 minutes");
        assertEquals(0, build.exitValue(), Files.readString(buildLog));

        final List<String> java = new ArrayList<>();
        java.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        java.addAll(readmeFlags());
        java.addAll(List.of("-Xmx256m", "-cp", project.resolve("target/classes") + File.pathSeparator
            + Files.readString(project.resolve("classpath.txt")).strip(), "dev.splitnet.example.EmbeddedPair"));
        final Path runLog = project.resolve("run.log");
        final Process run = new ProcessBuilder(java).redirectErrorStream(true).redirectOutput(runLog.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        assertTrue(run.waitFor(60, TimeUnit.SECONDS), "the example ran within 60 s");
        final String out = Files.readString(runLog);
        assertEquals(0, run.exitValue(), out);
        assertTrue(out.contains("packet 1: OKAY") && out.contains("echoed 9064 bytes"), out);
        assertTrue(out.contains("backend listening on"), "the library's log reaches the provider shown: " + out);
        assertFalse(out.contains("No SLF4J providers"), out);
    }

    private static List<String> readmeFlags() throws Exception
    {
        return fenced(block("flags"), "").lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    }

    private static List<String[]> readmeDependencies() throws Exception
    {
        final Matcher m = DEPENDENCY.matcher(fenced(block("coordinates"), "xml"));
        final List<String[]> found = new ArrayList<>();
        while (m.find())
        {
            found.add(new String[] { m.group(1), m.group(2), m.group(3) });
        }
        return found;
    }

    private static String block(final String name) throws Exception
    {
        final String readme = Files.readString(SplitnetProcess.root().resolve("README.md"));
        return between(readme, "<!-- " + name + ":start -->", "<!-- " + name + ":end -->");
    }

    /** The body of the block's code fence of this language ("" for a bare fence). */
    private static String fenced(final String block, final String language)
    {
        final String open = "```" + language + "\n";
        final int start = block.indexOf(open);
        assertTrue(start >= 0, "no " + open.strip() + " fence in " + block);
        return block.substring(start + open.length(), block.indexOf("```", start + open.length()));
    }

    private static String between(final String text, final String from, final String to)
    {
        final int start = text.indexOf(from);
        assertTrue(start >= 0, "no " + from);
        final int end = text.indexOf(to, start + from.length());
        assertTrue(end >= 0, "no " + to + " after " + from);
        return text.substring(start + from.length(), end);
    }

    private static String normalise(final String s)
    {
        return s.replaceAll("\\s+", " ").trim();
    }
}

package dev.splitnet.it;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The README's embedding example is the compiled EmbeddedPair, and it runs. */
class ReadmeExampleIT
{
    @Test
    void shouldShowTheCompiledExampleInTheReadme() throws Exception
    {
        final String readme = Files.readString(SplitnetProcess.root().resolve("README.md"));
        final String block = readme.substring(readme.indexOf("<!-- example:start -->"), readme.indexOf("<!-- example:end -->"));
        final String code = block.substring(block.indexOf("```java\n") + 8, block.lastIndexOf("```"));
        final String source = Files.readString(SplitnetProcess.root().resolve("cli/src/main/java/dev/splitnet/example/EmbeddedPair.java"));
        assertTrue(normalise(source).contains(normalise(code)), "README example differs from EmbeddedPair.java");
        assertTrue(code.lines().count() <= 25, "the example stays short");
    }

    @Test
    void shouldRunTheExampleAndGetThePacketBack() throws Exception
    {
        final Path log = Path.of(System.getProperty("splitnet.logs", "target/it-logs"));
        Files.createDirectories(log);
        final ProcessBuilder builder = new ProcessBuilder(SplitnetProcess.javaCommand("dev.splitnet.example.EmbeddedPair"))
            .redirectErrorStream(true).redirectOutput(log.resolve("readme-example.log").toFile());
        final Process p = builder.start();
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        final String out = Files.readString(log.resolve("readme-example.log"));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("packet 1: OKAY") && out.contains("echoed 9064 bytes"), out);
    }

    private static String normalise(final String s)
    {
        return s.replaceAll("\\s+", " ").trim();
    }
}

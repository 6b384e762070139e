package dev.splitnet.it.container;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;

/**
 * Lines saying how long the container tests' parts took: printed with a "[container-it]" prefix
 * and appended to target/it-logs/container-timings.txt, which .ci/run shows at the end.
 */
final class Timings
{
    private static boolean started;

    private Timings()
    {
    }

    static Path logs()
    {
        return Paths.get(System.getProperty("splitnet.logs", "target/it-logs")).toAbsolutePath();
    }

    static synchronized void report(final String line)
    {
        System.out.println("[container-it] " + line);
        try
        {
            Files.createDirectories(logs());
            // one file per test run: the first line of a run replaces the previous run's lines
            Files.writeString(logs().resolve("container-timings.txt"), line + System.lineSeparator(), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, started ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
            started = true;
        }
        catch (final IOException ex)
        {
            System.out.println("[container-it] cannot write container-timings.txt: " + ex);
        }
    }

    static double secondsSince(final long startNanos)
    {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}

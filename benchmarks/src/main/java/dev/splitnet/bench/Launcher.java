package dev.splitnet.bench;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Starts the two worker JVMs of a run with this JVM's flags and class path (the flags of
 * jvm.options and the benchmark launcher), waits for both, and parses their RESULT lines.
 */
final class Launcher
{
    private final Path shmDir;
    private final Path logDir;
    private int runs;

    Launcher(final Path shmDir, final Path logDir)
    {
        this.shmDir = shmDir;
        this.logDir = logDir;
    }

    /** The RESULT fields of side a and b, or an exception saying what went wrong. */
    Map<String, String>[] run(final String transport, final Scenario scenario, final int size, final String idle,
        final long warmupMs, final long measureMs) throws IOException, InterruptedException
    {
        final Path runDir = shmDir.resolve("run-" + (++runs));
        deleteTree(runDir);
        // 0700: a backend refuses a directory other users may enter
        Files.createDirectories(runDir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
            java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        Control.create(runDir.resolve("control").toFile());
        final Path logA = logDir.resolve("run-" + runs + "-a.log");
        final Path logB = logDir.resolve("run-" + runs + "-b.log");
        final Process a = start("a", transport, scenario, size, idle, warmupMs, measureMs, runDir, logA);
        final Process b = start("b", transport, scenario, size, idle, warmupMs, measureMs, runDir, logB);
        final long timeoutMs = warmupMs + measureMs + Worker.PROBE_MS + 60_000;
        try
        {
            final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            while (a.isAlive() || b.isAlive())
            {
                // a side that failed (a bad flag, a geometry its library refuses) leaves the other
                // waiting for it until the timeout: say at once what the failed one printed
                if (failed(a))
                {
                    parse(a, logA);
                }
                if (failed(b))
                {
                    parse(b, logB);
                }
                if (System.nanoTime() - deadline > 0)
                {
                    throw new IOException("run timed out (" + transport + " " + scenario.cliName() + " " + size + " B); logs: " + logA + ", " + logB);
                }
                (a.isAlive() ? a : b).waitFor(50, TimeUnit.MILLISECONDS);
            }
            @SuppressWarnings("unchecked")
            final Map<String, String>[] results = new Map[] { parse(a, logA), parse(b, logB) };
            return results;
        }
        finally
        {
            a.destroyForcibly();
            b.destroyForcibly();
            a.waitFor(5, TimeUnit.SECONDS);
            b.waitFor(5, TimeUnit.SECONDS);
            deleteTree(runDir);
        }
    }

    private Process start(final String side, final String transport, final Scenario scenario, final int size, final String idle,
        final long warmupMs, final long measureMs, final Path runDir, final Path log) throws IOException
    {
        final List<String> command = new ArrayList<>();
        command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        for (final String arg : ManagementFactory.getRuntimeMXBean().getInputArguments())
        {
            if (!arg.startsWith("-agentlib") && !arg.startsWith("-javaagent") && !arg.startsWith("-Xlog"))
            {
                command.add(arg);
            }
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Worker.class.getName());
        command.addAll(List.of(side, transport, scenario.cliName(), Integer.toString(size), Long.toString(warmupMs),
            Long.toString(measureMs), runDir.toString(), idle));
        final ProcessBuilder builder = new ProcessBuilder(command);
        builder.redirectError(log.toFile());
        builder.redirectOutput(new File(log + ".out"));
        builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        return builder.start();
    }

    private static Map<String, String> parse(final Process process, final Path log) throws IOException
    {
        final Path out = Path.of(log + ".out");
        for (final String line : Files.readAllLines(out, StandardCharsets.UTF_8))
        {
            if (line.startsWith("RESULT "))
            {
                final Map<String, String> fields = new HashMap<>();
                for (final String pair : line.substring(7).trim().split(" "))
                {
                    final int eq = pair.indexOf('=');
                    fields.put(pair.substring(0, eq), pair.substring(eq + 1));
                }
                return fields;
            }
        }
        final List<String> err = Files.readAllLines(log, StandardCharsets.UTF_8);
        // the exception's line if there is one, else the first line that is not the JVM's own notice
        String last = "no output";
        for (final String line : err)
        {
            if (line.contains("Exception") || line.contains("Error:"))
            {
                last = line;
                break;
            }
            if (last.equals("no output") && !line.isBlank() && !line.startsWith("\tat ") && !line.startsWith("Picked up "))
            {
                last = line;
            }
        }
        throw new IOException("worker exited " + process.exitValue() + " without a result: " + last + " (log " + log + ")");
    }

    /** Whether the process ended with a non-zero status. */
    private static boolean failed(final Process process)
    {
        return !process.isAlive() && process.exitValue() != 0;
    }

    static void deleteTree(final Path dir) throws IOException
    {
        if (!Files.exists(dir))
        {
            return;
        }
        try (var paths = Files.walk(dir))
        {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}

package dev.splitnet.it;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code splitnet} command running in its own JVM, started the way the launcher starts it (the
 * built cli jar, its libraries, the flags in jvm.options). Stdout lines are kept; stderr goes to a
 * log file under target/it-logs, kept for a failed test.
 */
final class SplitnetProcess implements AutoCloseable
{
    private static final Pattern NUMBER = Pattern.compile("\"([a-z_]+)\":(-?\\d+)");

    private final Process process;
    private final Path log;
    private final List<String> stdout = new CopyOnWriteArrayList<>();
    private final Thread reader;

    private SplitnetProcess(final Process process, final Path log)
    {
        this.process = process;
        this.log = log;
        this.reader = new Thread(this::readStdout, "stdout-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    static Path root()
    {
        return Paths.get(System.getProperty("splitnet.root", "..")).toAbsolutePath().normalize();
    }

    /** Starts {@code splitnet ARGS}; {@code logName} names its stderr log. */
    static SplitnetProcess start(final String logName, final String... args) throws IOException
    {
        final Path root = root();
        final Path logs = Paths.get(System.getProperty("splitnet.logs", "target/it-logs"));
        Files.createDirectories(logs);
        final Path log = logs.resolve(logName + ".log");
        final List<String> command = javaCommand("dev.splitnet.cli.Main");
        command.addAll(List.of(args));
        final ProcessBuilder builder = new ProcessBuilder(command);
        builder.redirectError(ProcessBuilder.Redirect.to(log.toFile()));
        builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        return new SplitnetProcess(builder.start(), log);
    }

    /** {@code java} with the project's flags and the built cli class path, running {@code mainClass}. */
    static List<String> javaCommand(final String mainClass)
    {
        final Path root = root();
        final List<String> command = new ArrayList<>();
        command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        command.add("@" + root.resolve("jvm.options"));
        command.add("-Xmx512m");
        command.add("-cp");
        command.add(root.resolve("cli/target/splitnet-cli.jar") + File.pathSeparator + root.resolve("cli/target/lib") + File.separator + "*");
        command.add(mainClass);
        return command;
    }

    private void readStdout()
    {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
        {
            String line;
            while ((line = in.readLine()) != null)
            {
                stdout.add(line);
            }
        }
        catch (final IOException ignore)
        {
            // process ended
        }
    }

    long pid()
    {
        return process.pid();
    }

    boolean isAlive()
    {
        return process.isAlive();
    }

    /** Waits for exit; returns the exit code. Fails when it does not end in time. */
    int waitFor(final long seconds) throws InterruptedException
    {
        if (!process.waitFor(seconds, TimeUnit.SECONDS))
        {
            throw new AssertionError("process " + pid() + " still running after " + seconds + " s; log: " + stderr());
        }
        reader.join(5_000);
        return process.exitValue();
    }

    /** SIGKILL, like docker kill. */
    void kill() throws InterruptedException
    {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM. */
    void terminate() throws InterruptedException
    {
        process.destroy();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** Every stdout line so far, joined. */
    String stdout()
    {
        // a copy-on-write list: joining reads one snapshot
        return String.join("\n", stdout);
    }

    /** The last stdout line (the JSON summary of frontend and demo). */
    String lastLine()
    {
        return stdout.isEmpty() ? "" : stdout.get(stdout.size() - 1);
    }

    String stderr()
    {
        try
        {
            return Files.readString(log);
        }
        catch (final IOException ex)
        {
            return "(no log: " + ex + ")";
        }
    }

    /** A top-level number from a one-line JSON object (the first occurrence of the key). */
    static long value(final String json, final String key)
    {
        final Matcher m = NUMBER.matcher(json);
        while (m.find())
        {
            if (m.group(1).equals(key))
            {
                return Long.parseLong(m.group(2));
            }
        }
        throw new AssertionError("no \"" + key + "\" in " + json);
    }

    /** The string value of {@code key} in a one-line JSON object, or null when it is JSON null. */
    static String text(final String json, final String key)
    {
        final Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\":(null|\"([^\"]*)\")").matcher(json);
        if (!m.find())
        {
            throw new AssertionError("no \"" + key + "\" in " + json);
        }
        return m.group(2);
    }

    @Override
    public void close()
    {
        if (process.isAlive())
        {
            process.destroy();
            try
            {
                if (!process.waitFor(10, TimeUnit.SECONDS))
                {
                    process.destroyForcibly();
                }
            }
            catch (final InterruptedException ex)
            {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}

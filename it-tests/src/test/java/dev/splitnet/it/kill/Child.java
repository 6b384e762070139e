package dev.splitnet.it.kill;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM of the kill harness: the splitnet backend (the CLI) or a {@link KillHarnessFrontend},
 * started with the project's jvm.options and the built cli class path (plus the test classes for
 * the frontend). Its stdout lines are queued with the time they arrived; commands go to its stdin;
 * stderr goes to a log file.
 */
final class Child
{
    /** A stdout line and when the harness read it (System.nanoTime()). */
    record Line(String text, long atNs)
    {
    }

    private final String label;
    private final Process process;
    private final Path log;
    private final OutputStream stdin;
    private final LinkedBlockingQueue<Line> lines = new LinkedBlockingQueue<>();
    private volatile long killedAtNs;
    private volatile long diedAtNs;

    private Child(final String label, final Process process, final Path log)
    {
        this.label = label;
        this.process = process;
        this.log = log;
        this.stdin = process.getOutputStream();
        final Thread reader = new Thread(this::readStdout, "stdout-" + label);
        reader.setDaemon(true);
        reader.start();
    }

    static Child start(final String label, final Path logs, final List<String> jvmArgs, final String mainClass, final String... args)
        throws IOException
    {
        final Path root = Paths.get(System.getProperty("splitnet.root", "..")).toAbsolutePath().normalize();
        final List<String> command = new ArrayList<>();
        command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        command.add("@" + root.resolve("jvm.options"));
        command.add("-Xmx128m");
        command.add("-XX:TieredStopAtLevel=1");
        command.add("-Xshare:auto");
        command.addAll(jvmArgs);
        command.add("-cp");
        command.add(root.resolve("cli/target/splitnet-cli.jar") + File.pathSeparator + root.resolve("cli/target/lib") + File.separator + "*"
            + File.pathSeparator + root.resolve("it-tests/target/test-classes"));
        command.add(mainClass);
        command.addAll(List.of(args));
        Files.createDirectories(logs);
        final Path log = logs.resolve(label + ".log");
        final ProcessBuilder builder = new ProcessBuilder(command);
        builder.redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
        return new Child(label, builder.start(), log);
    }

    private void readStdout()
    {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
        {
            String line;
            while ((line = in.readLine()) != null)
            {
                lines.add(new Line(line, System.nanoTime()));
            }
        }
        catch (final IOException ignore)
        {
            // killed
        }
    }

    String label()
    {
        return label;
    }

    long pid()
    {
        return process.pid();
    }

    boolean isAlive()
    {
        return process.isAlive();
    }

    Path log()
    {
        return log;
    }

    /** Sends one command line; false when the child is gone. */
    boolean command(final String line)
    {
        try
        {
            stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            stdin.flush();
            return true;
        }
        catch (final IOException ex)
        {
            return false;
        }
    }

    /** The next stdout line starting with {@code prefix} (others are dropped), or null after the timeout. */
    Line await(final String prefix, final long timeoutMs) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (true)
        {
            final long left = deadline - System.nanoTime();
            final Line line = lines.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
            if (line == null)
            {
                return null;
            }
            if (line.text().startsWith(prefix))
            {
                return line;
            }
        }
    }

    /** SIGKILL; returns when the process is gone. */
    void kill() throws InterruptedException
    {
        killedAtNs = System.nanoTime();
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS))
        {
            throw new IllegalStateException(label + " (pid " + pid() + ") survived SIGKILL for 10 s");
        }
        diedAtNs = System.nanoTime();
    }

    /** When SIGKILL was sent. */
    long killedAtNs()
    {
        return killedAtNs;
    }

    /** When the harness saw the process gone (reaped) after SIGKILL: the moment of death its peers can notice. */
    long diedAtNs()
    {
        return diedAtNs;
    }

    /** Drops every stdout line read so far. */
    void clearLines()
    {
        lines.clear();
    }

    /** SIGTERM (the backend's orderly stop), then SIGKILL if it is still there after 10 s; returns the exit code. */
    int terminate() throws InterruptedException
    {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        return process.exitValue();
    }

    /** Ends it: quit on stdin, then SIGKILL if it is still there after a second. */
    void stop() throws InterruptedException
    {
        command("quit");
        try
        {
            stdin.close();
        }
        catch (final IOException ignore)
        {
            // gone already
        }
        if (!process.waitFor(3, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}

package dev.splitnet.backend.leak;

import dev.splitnet.api.IdleMode;
import dev.splitnet.backend.BackendContext;
import dev.splitnet.backend.NetBack;
import dev.splitnet.backend.NetBackRunner;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.BackoffIdleStrategy;

/**
 * The peer a leak test kills: a JVM of its own running a backend ({@code backend DIR}) or
 * {@code N} frontends ({@code frontends DIR N PREFIX}) in the test's directory. It prints READY once
 * serving and runs until it is killed.
 */
public final class LeakPeer
{
    private LeakPeer()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final Path dir = Path.of(args[1]);
        if (args[0].equals("backend"))
        {
            final NetBack backend = NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BACKOFF));
            new NetBackRunner(backend, new BackoffIdleStrategy(1, 1, 1_000, 1_000_000), Throwable::printStackTrace);
            System.out.println("READY");
            Thread.sleep(Long.MAX_VALUE);
        }
        final int count = Integer.parseInt(args[2]);
        final List<NetFront> fronts = new ArrayList<>();
        for (int i = 0; i < count; i++)
        {
            fronts.add(NetFront.connect(new FrontendContext().directory(dir).name(args[3] + "-" + i)));
        }
        System.out.println("READY");
        while (true)
        {
            for (final NetFront front : fronts)
            {
                front.poll((id, status) -> { }, packet -> { });
            }
            Thread.sleep(1);
        }
    }

    /** Starts a peer JVM with this JVM's class path and splitnet flags; returns once it printed READY. */
    static Process start(final Path logs, final String... args) throws IOException, InterruptedException
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (final String flag : ManagementFactory.getRuntimeMXBean().getInputArguments())
        {
            if (flag.startsWith("--add-"))
            {
                command.add(flag);
            }
        }
        command.add("-Xmx128m");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(LeakPeer.class.getName());
        command.addAll(List.of(args));
        Files.createDirectories(logs);
        final Process process = new ProcessBuilder(command)
            .redirectError(logs.resolve("leak-peer-" + String.join("-", args).replaceAll("[^A-Za-z0-9-]", "_") + ".log").toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .start();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        final StringBuilder line = new StringBuilder();
        while (!line.toString().contains("READY"))
        {
            if (System.nanoTime() - deadline > 0 || !process.isAlive() && process.getInputStream().available() == 0)
            {
                process.destroyForcibly();
                throw new AssertionError("peer " + String.join(" ", args) + " did not start (exit "
                    + (process.isAlive() ? "none" : process.exitValue()) + ")");
            }
            if (process.getInputStream().available() > 0)
            {
                line.append(new String(process.getInputStream().readNBytes(process.getInputStream().available()), StandardCharsets.UTF_8));
            }
            else
            {
                Thread.sleep(10);
            }
        }
        return process;
    }

    /** SIGKILL, then waits for the exit and closes this side's pipe to it (a descriptor of ours). */
    static void kill(final Process process) throws Exception
    {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS))
        {
            throw new AssertionError("peer " + process.pid() + " survived SIGKILL for 10 s");
        }
        process.getInputStream().close();
        process.getOutputStream().close();
        process.getErrorStream().close();
    }
}

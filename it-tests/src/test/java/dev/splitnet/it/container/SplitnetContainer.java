package dev.splitnet.it.container;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.output.OutputFrame;
import org.testcontainers.containers.startupcheck.StartupCheckStrategy;
import org.testcontainers.containers.wait.strategy.AbstractWaitStrategy;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.LogUtils;

/**
 * One {@code splitnet} command in its own container: the test image, network mode none, the
 * test JVM's uid:gid, and the shared directory at {@value SharedDirectory#MOUNT} (read-write,
 * read-only, or not at all). Its stdout (the JSON summary is the last line) and stderr come from
 * the container's log; on close the log is saved under target/it-logs and the container removed.
 */
final class SplitnetContainer implements AutoCloseable
{
    /** Label on every container the tests make; .ci/run removes whatever still carries it. */
    static final String LABEL = "dev.splitnet.it";
    /** Label naming the test run (-Dsplitnet.runId; .ci/run sets one). */
    static final String RUN_LABEL = "dev.splitnet.it.run";

    /** How the shared directory is mounted. */
    enum Mount
    {
        READ_WRITE, READ_ONLY, NONE
    }

    /** Containers not yet closed: removed by a shutdown hook if the JVM ends first (Ryuk is off). */
    private static final Set<SplitnetContainer> LIVE = ConcurrentHashMap.newKeySet();

    static
    {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(SplitnetContainer::remove), "splitnet-it-containers"));
    }

    private final String name;
    private final GenericContainer<?> container;
    private final String id;

    private SplitnetContainer(final String name, final GenericContainer<?> container)
    {
        this.name = name;
        this.container = container;
        this.id = container.getContainerId();
    }

    /** Starts {@code splitnet ARGS} with the shared directory mounted read-write. */
    static SplitnetContainer start(final String name, final SharedDirectory dir, final String... args)
    {
        return start(name, dir, Mount.READ_WRITE, args);
    }

    /** Starts {@code splitnet ARGS}; returns once the container runs (the command may already have ended). */
    static SplitnetContainer start(final String name, final SharedDirectory dir, final Mount mount, final String... args)
    {
        final String containerName = "splitnet-it-" + name + "-" + UUID.randomUUID().toString().substring(0, 8);
        final GenericContainer<?> container = new GenericContainer<>(DockerImageName.parse(SplitnetImage.tag()))
            .withImagePullPolicy(image -> false) // built here; there is no registry to pull from
            .withNetworkMode("none")
            .withLabel(LABEL, name)
            .withLabel(RUN_LABEL, System.getProperty("splitnet.runId", "local"))
            .withCommand(args)
            .withStartupAttempts(1)
            .withStartupCheckStrategy(new Started())
            .waitingFor(new NoWait())
            .withCreateContainerCmdModifier(cmd -> cmd.withName(containerName).withUser(dir.user()));
        if (mount != Mount.NONE)
        {
            container.withFileSystemBind(dir.path().toString(), SharedDirectory.MOUNT,
                mount == Mount.READ_ONLY ? BindMode.READ_ONLY : BindMode.READ_WRITE);
        }
        container.start();
        final SplitnetContainer started = new SplitnetContainer(name, container);
        LIVE.add(started);
        return started;
    }

    /** Starts {@code splitnet backend --dir /splitnet --quiet EXTRA} and waits until its socket is in the directory. */
    static SplitnetContainer backend(final String name, final SharedDirectory dir, final String... extra) throws InterruptedException
    {
        final List<String> args = new ArrayList<>(List.of("backend", "--dir", SharedDirectory.MOUNT, "--quiet"));
        args.addAll(List.of(extra));
        final SplitnetContainer backend = start(name, dir, args.toArray(new String[0]));
        backend.awaitListening(dir);
        return backend;
    }

    /** Waits until a backend has bound its socket in the shared directory (again, after a restart). */
    void awaitListening(final SharedDirectory dir) throws InterruptedException
    {
        final long deadline = System.nanoTime() + 30_000_000_000L;
        while (!Files.exists(dir.resolve("backend.sock")))
        {
            if (!isRunning() || System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("backend container " + name + " did not start listening: " + stderr());
            }
            Thread.sleep(20);
        }
    }

    /** {@code splitnet stat /splitnet --json} in a container of its own: the parsed snapshot. */
    static Map<String, Object> stat(final SharedDirectory dir) throws InterruptedException
    {
        try (SplitnetContainer stat = start("stat", dir, "stat", SharedDirectory.MOUNT, "--json"))
        {
            final int code = stat.waitForExit(60);
            if (code != 0)
            {
                throw new AssertionError("splitnet stat exited " + code + ": " + stat.stderr());
            }
            return Json.object(stat.lastLine());
        }
    }

    /** The device named {@code name} in a stat snapshot, or null. */
    static Map<String, Object> device(final Map<String, Object> stat, final String name)
    {
        for (final Map<String, Object> device : Json.objects(stat, "devices"))
        {
            if (name.equals(device.get("name")))
            {
                return device;
            }
        }
        return null;
    }

    /** A counter of a device in a stat snapshot (0 when the device or counter is absent). */
    static long counter(final Map<String, Object> stat, final String device, final String counter)
    {
        final Map<String, Object> d = device(stat, device);
        if (d == null)
        {
            return 0;
        }
        final Object value = Json.member(d, "counters").get(counter);
        return value instanceof Long ? (Long)value : 0;
    }

    String name()
    {
        return name;
    }

    private InspectContainerResponse.ContainerState state()
    {
        return client().inspectContainerCmd(id).exec().getState();
    }

    boolean isRunning()
    {
        return Boolean.TRUE.equals(state().getRunning());
    }

    /** Waits for the command to end; returns its exit code. */
    int waitForExit(final long seconds) throws InterruptedException
    {
        final long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (true)
        {
            final InspectContainerResponse.ContainerState state = state();
            if (!Boolean.TRUE.equals(state.getRunning()))
            {
                final Long code = state.getExitCodeLong();
                return code == null ? -1 : code.intValue();
            }
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("container " + name + " still running after " + seconds + " s: " + stderr());
            }
            Thread.sleep(50);
        }
    }

    /** {@code docker kill}: SIGKILL to the JVM, then waits until the container has stopped. */
    void kill() throws InterruptedException
    {
        client().killContainerCmd(id).withSignal("SIGKILL").exec();
        waitForExit(30);
    }

    /** {@code docker start} of this (stopped) container: the same command, mounts and user again. */
    void restart()
    {
        client().startContainerCmd(id).exec();
    }

    String stdout()
    {
        return LogUtils.getOutput(client(), id, OutputFrame.OutputType.STDOUT);
    }

    String stderr()
    {
        return LogUtils.getOutput(client(), id, OutputFrame.OutputType.STDERR);
    }

    /** The last non-empty stdout line: the JSON summary of frontend, demo and stat. */
    String lastLine()
    {
        final List<String> lines = stdout().lines().filter(l -> !l.isBlank()).toList();
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1).strip();
    }

    /** The JSON summary line, parsed. */
    Map<String, Object> summary()
    {
        final String line = lastLine();
        if (line.isEmpty())
        {
            throw new AssertionError("container " + name + " printed no summary; stderr: " + stderr());
        }
        return Json.object(line);
    }

    /** stderr lines that are not SLF4J INFO logging (the one-line errors the commands print). */
    List<String> errorLines()
    {
        return stderr().lines().filter(l -> !l.isBlank() && !l.matches("^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO .*")).toList();
    }

    private static DockerClient client()
    {
        return DockerClientFactory.instance().client();
    }

    @Override
    public void close()
    {
        if (LIVE.remove(this))
        {
            saveLog();
            remove();
        }
    }

    private void saveLog()
    {
        try
        {
            final Path logs = Timings.logs();
            Files.createDirectories(logs);
            final String text = String.format(Locale.ROOT, "container %s (%s)%n== stdout ==%n%s%n== stderr ==%n%s", name, id, stdout(), stderr());
            Files.writeString(logs.resolve("container-" + name + ".log"), text, StandardCharsets.UTF_8);
        }
        catch (final IOException | RuntimeException ex)
        {
            System.out.println("[container-it] cannot save the log of " + name + ": " + ex);
        }
    }

    private void remove()
    {
        try
        {
            container.stop();
        }
        catch (final RuntimeException ex)
        {
            System.out.println("[container-it] cannot remove container " + name + " (" + id + "): " + ex);
        }
    }

    /** The container counts as started once Docker runs it; the tests look at what the command does. */
    private static final class Started extends StartupCheckStrategy
    {
        @Override
        public StartupStatus checkStartupState(final DockerClient dockerClient, final String containerId)
        {
            return StartupStatus.SUCCESSFUL;
        }
    }

    private static final class NoWait extends AbstractWaitStrategy
    {
        @Override
        protected void waitUntilReady()
        {
            // nothing to wait for: no ports, no network
        }
    }
}

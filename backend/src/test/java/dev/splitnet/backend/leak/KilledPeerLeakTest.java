package dev.splitnet.backend.leak;

import dev.splitnet.api.IdleMode;
import dev.splitnet.backend.BackendContext;
import dev.splitnet.backend.NetBack;
import dev.splitnet.backend.NetBackRunner;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/**
 * 100 connections ended by SIGKILL of the peer's JVM, on each side: the survivor in this JVM gets
 * its open descriptors (by kind), its mappings of device files and its threads back to their
 * baseline, and no device file is left behind. The peer runs in child JVMs ({@link LeakPeer}) of
 * 20 connections each, killed one after another.
 */
class KilledPeerLeakTest
{
    private static final int ROUNDS = 5;
    private static final int PER_ROUND = 20;
    private static final Path LOGS = Path.of("target", "leak-logs");

    @TempDir
    Path dir;

    @Test
    void shouldReleaseEverythingOfFrontendsWhoseJvmWasKilled() throws Exception
    {
        final NetBack backend = NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BACKOFF));
        try (NetBackRunner runner = new NetBackRunner(backend, new BackoffIdleStrategy(), Throwable::printStackTrace))
        {
            // one round first, so that every class, selector and logger descriptor is open
            killFrontends(backend, "warm", 2);
            final Map<String, Integer> fds = ProcessResources.awaitQuiet(null, ProcessResources::descriptors);
            final Map<String, Integer> threads = ProcessResources.threads();
            final long mappings = ProcessResources.deviceMappings(dir);
            for (int round = 0; round < ROUNDS; round++)
            {
                killFrontends(backend, "round" + round, PER_ROUND);
            }
            assertEquals(fds, ProcessResources.awaitQuiet(fds, ProcessResources::descriptors),
                "backend's open descriptors by kind after " + ROUNDS * PER_ROUND + " killed frontends");
            assertEquals(mappings, ProcessResources.awaitQuiet(mappings, () -> ProcessResources.deviceMappings(dir)),
                "device memory still mapped by the backend");
            assertEquals(threads, ProcessResources.awaitQuiet(threads, ProcessResources::threads), "backend threads");
            assertEquals(List.of(), deviceFiles(), "the backend removes a killed frontend's file");
            assertTrue(runner.isRunning());
        }
    }

    /** A JVM of {@code count} frontends connects, is SIGKILLed, and the backend lets go of every one. */
    private static void killFrontends(final NetBack backend, final String prefix, final int count) throws Exception
    {
        final Process peer = LeakPeer.start(LOGS, "frontends", backendDir(backend).toString(), Integer.toString(count), prefix);
        await(() -> backend.connectedCount() == count, "the backend to serve " + count + " frontends");
        LeakPeer.kill(peer);
        await(() -> backend.connectedCount() == 0, "the backend to notice " + count + " dead frontends");
    }

    private static Path backendDir(final NetBack backend)
    {
        return backend.directory().path();
    }

    @Test
    void shouldReleaseEverythingOfFrontendsWhoseBackendJvmWasKilled() throws Exception
    {
        // one round first, so that every class, selector and logger descriptor is open
        killBackend(2);
        final Map<String, Integer> fds = ProcessResources.awaitQuiet(null, ProcessResources::descriptors);
        final Map<String, Integer> threads = ProcessResources.threads();
        final long mappings = ProcessResources.deviceMappings(dir);
        for (int round = 0; round < ROUNDS; round++)
        {
            killBackend(PER_ROUND);
        }
        assertEquals(fds, ProcessResources.awaitQuiet(fds, ProcessResources::descriptors),
            "frontends' open descriptors by kind after " + ROUNDS * PER_ROUND + " connections to killed backends");
        assertEquals(mappings, ProcessResources.deviceMappings(dir), "device memory still mapped by a frontend");
        assertEquals(threads, ProcessResources.threads(), "frontend threads");
        assertEquals(List.of(), deviceFiles(), "a closed frontend removes its own file");
    }

    /** {@code count} frontends here connect to a backend JVM, which is SIGKILLed; each notices, is closed. */
    private void killBackend(final int count) throws Exception
    {
        final Process peer = LeakPeer.start(LOGS, "backend", dir.toString());
        final List<NetFront> fronts = new ArrayList<>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                fronts.add(NetFront.connect(new FrontendContext().directory(dir).name("orphan-" + i).replaceStale(true)));
            }
            LeakPeer.kill(peer);
            for (final NetFront front : fronts)
            {
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
                while (front.isConnected() && System.nanoTime() - deadline < 0)
                {
                    front.poll((id, status) -> { }, packet -> { });
                }
                assertFalse(front.isConnected(), "a frontend did not notice its backend's death within 2 s");
                assertEquals("backend closed the connection (it exited or died)", front.disconnectReason());
            }
        }
        finally
        {
            fronts.forEach(NetFront::close);
            if (peer.isAlive())
            {
                LeakPeer.kill(peer);
            }
        }
    }

    private List<Path> deviceFiles() throws Exception
    {
        try (Stream<Path> files = Files.list(dir))
        {
            return files.filter(f -> f.getFileName().toString().endsWith(".dev")).toList();
        }
    }

    private static void await(final java.util.function.BooleanSupplier condition, final String what) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean())
        {
            assertTrue(System.nanoTime() - deadline < 0, "timed out waiting for " + what);
            Thread.sleep(10);
        }
    }
}

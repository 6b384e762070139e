package dev.splitnet.backend;

import dev.splitnet.api.IdleMode;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Connecting and disconnecting leaves nothing behind on either side (both run in this JVM): after
 * 100 cycles the open descriptors, by kind, return to their baseline, and no page of a device file
 * is still mapped. The backend closes a disconnected frontend's doorbell on its conductor thread;
 * the socket is only really closed once the data agent's selector drops its key.
 */
class ConnectCycleLeakTest
{
    private static final int CYCLES = 100;

    @TempDir
    Path dir;

    @Test
    void shouldReturnDescriptorsAndMappingsToTheirBaselineAfterConnectCycles() throws Exception
    {
        final NetBack backend = NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BACKOFF));
        try (NetBackRunner runner = new NetBackRunner(backend, new BackoffIdleStrategy(), Throwable::printStackTrace))
        {
            // one cycle first, so that classes, selectors and the logger's descriptors are all open
            NetFront.connect(new FrontendContext().directory(dir).name("warm")).close();
            final Map<String, Integer> baseline = awaitQuiet(null);
            for (int i = 0; i < CYCLES; i++)
            {
                NetFront.connect(new FrontendContext().directory(dir).name("cycle-" + i)).close();
            }
            assertEquals(baseline, awaitQuiet(baseline), "open descriptors by kind after " + CYCLES + " cycles");
            assertEquals(0, deviceMappings(), "device file pages still mapped");
            assertTrue(runner.isRunning());
        }
    }

    @Test
    void shouldUnmapAFrontendDisconnectedForAProtocolViolation() throws Exception
    {
        final NetBack backend = NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BACKOFF));
        try (NetBackRunner runner = new NetBackRunner(backend, new BackoffIdleStrategy(), Throwable::printStackTrace))
        {
            for (int i = 0; i < 20; i++)
            {
                try (NetFront front = NetFront.connect(new FrontendContext().directory(dir).name("violator-" + i)))
                {
                    // an impossible req_prod: the backend disconnects it
                    front.device().txRing().putIntVolatile(dev.splitnet.mmap.SharedRingDescriptor.REQ_PROD_OFFSET, 1 << 30);
                    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                    while (front.device().backendState() != dev.splitnet.api.XenbusState.CLOSED)
                    {
                        assertTrue(System.nanoTime() < deadline, "not disconnected");
                        Thread.sleep(1);
                    }
                }
            }
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (deviceMappings() != 0 && System.nanoTime() < deadline)
            {
                Thread.sleep(50);
            }
            assertEquals(0, deviceMappings(), "device file pages still mapped");
        }
    }

    /** Waits (at most 5 s) until the descriptors equal {@code expected}, or two readings agree; returns the last. */
    private static Map<String, Integer> awaitQuiet(final Map<String, Integer> expected) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        Map<String, Integer> last = descriptors();
        while (System.nanoTime() < deadline)
        {
            Thread.sleep(100);
            final Map<String, Integer> now = descriptors();
            if (expected != null ? now.equals(expected) : now.equals(last))
            {
                return now;
            }
            last = now;
        }
        return last;
    }

    /** Open descriptors of this process, counted by what they point at (numbers blanked out). */
    private static Map<String, Integer> descriptors() throws IOException
    {
        final Map<String, Integer> kinds = new TreeMap<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd")))
        {
            fds.forEach(fd ->
            {
                try
                {
                    kinds.merge(Files.readSymbolicLink(fd).toString().replaceAll("[0-9]+", "N"), 1, Integer::sum);
                }
                catch (final IOException ignore)
                {
                    // the descriptor of the listing itself, gone already
                }
            });
        }
        return kinds;
    }

    private long deviceMappings() throws IOException
    {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps")))
        {
            // a leaked mapping of a file deleted since shows as "NAME.dev (deleted)"
            return lines.filter(line -> line.contains(dir.toString()) && line.contains(".dev")).count();
        }
    }
}

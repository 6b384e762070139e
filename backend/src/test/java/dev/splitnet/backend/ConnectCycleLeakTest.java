package dev.splitnet.backend;

import dev.splitnet.api.IdleMode;
import dev.splitnet.backend.leak.ProcessResources;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Connecting and disconnecting leaves nothing behind on either side (both run in this JVM): after
 * 100 cycles the open descriptors, by kind, and the threads return to their baseline, and no page
 * of a device file is still mapped (peers killed instead: {@code leak.KilledPeerLeakTest}). The backend closes a disconnected frontend's doorbell on its conductor thread;
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
            final Map<String, Integer> baseline = ProcessResources.awaitQuiet(null, ProcessResources::descriptors);
            final Map<String, Integer> threads = ProcessResources.threads();
            final long mappings = deviceMappings();
            for (int i = 0; i < CYCLES; i++)
            {
                NetFront.connect(new FrontendContext().directory(dir).name("cycle-" + i)).close();
            }
            assertEquals(baseline, ProcessResources.awaitQuiet(baseline, ProcessResources::descriptors),
                "open descriptors by kind after " + CYCLES + " cycles");
            assertEquals(mappings, ProcessResources.awaitQuiet(mappings, this::deviceMappings), "device memory still mapped");
            assertEquals(threads, ProcessResources.awaitQuiet(threads, ProcessResources::threads), "threads after " + CYCLES + " cycles");
            assertTrue(runner.isRunning());
        }
    }

    @Test
    void shouldUnmapAFrontendDisconnectedForAProtocolViolation() throws Exception
    {
        final NetBack backend = NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BACKOFF));
        try (NetBackRunner runner = new NetBackRunner(backend, new BackoffIdleStrategy(), Throwable::printStackTrace))
        {
            final long mappings = deviceMappings();
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
            while (deviceMappings() != mappings && System.nanoTime() < deadline)
            {
                Thread.sleep(50);
            }
            assertEquals(mappings, deviceMappings(), "device memory still mapped");
        }
    }

    private long deviceMappings() throws IOException
    {
        return ProcessResources.deviceMappings(dir);
    }
}

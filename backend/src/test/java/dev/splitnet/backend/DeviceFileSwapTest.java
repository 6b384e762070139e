package dev.splitnet.backend;

import dev.splitnet.api.IdleMode;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import dev.splitnet.mmap.DeviceDirectory;
import dev.splitnet.mmap.Handshake;
import java.nio.file.Files;
import java.nio.file.Path;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A frontend that puts something other than its own device file under its name before saying
 * HELLO gets a refusal naming what it put there, and the backend's duty thread goes on serving.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DeviceFileSwapTest
{
    @TempDir
    Path dir;

    private AgentRunner runner;

    @BeforeEach
    void startBackend()
    {
        final NetBack backend = NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BACKOFF).handler(packet -> PacketStatus.OKAY)
            .allowFileMemory(true)); // the swaps below are of file-backed device files
        runner = new AgentRunner(new BackoffIdleStrategy(), Throwable::printStackTrace, null, backend);
        AgentRunner.startOnThread(runner);
    }

    @AfterEach
    void stopBackend()
    {
        runner.close();
    }

    @Test
    void shouldRefuseAFifoWithoutBlockingTheDutyThread() throws Exception
    {
        final Process mkfifo = new ProcessBuilder("mkfifo", dir.resolve("evil" + DeviceDirectory.DEVICE_SUFFIX).toString()).inheritIO().start();
        assertEquals(0, mkfifo.waitFor());
        final Handshake.Welcome welcome = RawHello.hello(dir, "evil");
        assertEquals(Handshake.STATUS_REFUSED, welcome.status());
        assertTrue(welcome.reason().contains("is a FIFO, not a regular file"), welcome.reason());
        assertBackendStillServes();
    }

    @Test
    void shouldRefuseASymbolicLinkToAnotherFrontendsFile() throws Exception
    {
        try (NetFront victim = NetFront.connect(new FrontendContext().directory(dir).name("victim")))
        {
            Files.createSymbolicLink(dir.resolve("thief" + DeviceDirectory.DEVICE_SUFFIX), dir.resolve("victim" + DeviceDirectory.DEVICE_SUFFIX));
            final Handshake.Welcome welcome = RawHello.hello(dir, "thief");
            assertEquals(Handshake.STATUS_REFUSED, welcome.status());
            assertTrue(welcome.reason().contains("symbolic link"), welcome.reason());
        }
    }

    private void assertBackendStillServes()
    {
        try (NetFront front = NetFront.connect(new FrontendContext().directory(dir).name("after")))
        {
            assertTrue(front.domainId() > 0);
        }
    }
}

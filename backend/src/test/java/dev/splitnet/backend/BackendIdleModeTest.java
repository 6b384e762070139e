package dev.splitnet.backend;

import dev.splitnet.api.IdleMode;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/** The context's idle mode chooses how the runner's duty cycle waits, and the handler is given the backend. */
class BackendIdleModeTest
{
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    @TempDir
    Path dir;

    @Test
    void shouldSleepOnTheDoorbellsInBlockingModeAndSpinInBusySpinMode() throws Exception
    {
        final long blockingNs = idleCpuNanos(IdleMode.BLOCKING, "doorbell");
        final long spinningNs = idleCpuNanos(IdleMode.BUSY_SPIN, "spin");
        // one idle second: a blocking backend wakes ten times (its 100 ms block timeout), a spinning one never stops
        assertTrue(blockingNs < 150_000_000L, "blocking backend used " + blockingNs / 1_000_000 + " ms of CPU in an idle second");
        assertTrue(spinningNs > 250_000_000L && spinningNs > 3 * blockingNs, "busy-spin backend used only "
            + spinningNs / 1_000_000 + " ms of CPU in an idle second (blocking: " + blockingNs / 1_000_000 + " ms): the mode chose nothing");
    }

    private long idleCpuNanos(final IdleMode mode, final String alias) throws Exception
    {
        final Path modeDir = java.nio.file.Files.createDirectory(dir.resolve(mode.name().toLowerCase()),
            java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        final NetBack backend = NetBack.launch(new BackendContext().directory(modeDir).idleMode(mode));
        assertEquals(alias, backend.idleStrategy().alias());
        try (NetBackRunner runner = new NetBackRunner(backend, Throwable::printStackTrace);
            NetFront front = NetFront.connect(new FrontendContext().directory(modeDir).name("idle")))
        {
            Thread.sleep(300);
            final long id = runner.thread().getId();
            final long before = THREADS.getThreadCpuTime(id);
            Thread.sleep(1000);
            return THREADS.getThreadCpuTime(id) - before;
        }
    }

    @Test
    void shouldGiveAForwardingHandlerTheBackendThatTookThePacket() throws Exception
    {
        final NetBack[] seen = new NetBack[1];
        final NetBack backend = NetBack.launch(new BackendContext().directory(dir).handler((switchport, packet) ->
        {
            seen[0] = (NetBack)switchport;
            return switchport.deliver(packet.domainId(), packet);
        }));
        try (NetBackRunner runner = new NetBackRunner(backend, Throwable::printStackTrace);
            NetFront front = NetFront.connect(new FrontendContext().directory(dir).name("echo")))
        {
            final UnsafeBuffer header = new UnsafeBuffer(new byte[64]);
            final UnsafeBuffer payload = new UnsafeBuffer(new byte[5000]);
            payload.putInt(4000, 0x5EED);
            front.send(header, 0, 64, payload, 0, 5000, 7L);
            final PacketStatus[] status = new PacketStatus[1];
            final int[] echoed = { -1, 0 };
            final long deadline = System.nanoTime() + 10_000_000_000L;
            while ((status[0] == null || echoed[0] < 0) && System.nanoTime() < deadline)
            {
                front.poll((id, s) -> status[0] = s, packet ->
                {
                    echoed[0] = packet.length();
                    final UnsafeBuffer copy = new UnsafeBuffer(new byte[packet.length()]);
                    packet.copyTo(copy, 0);
                    echoed[1] = copy.getInt(64 + 4000);
                });
            }
            assertEquals(PacketStatus.OKAY, status[0]);
            assertEquals(5064, echoed[0]);
            assertEquals(0x5EED, echoed[1]);
            assertSame(backend, seen[0]);
        }
    }

    @Test
    void shouldStillTakeAHandlerOfThePacketAlone() throws Exception
    {
        final int[] packets = { 0 };
        final NetBack backend = NetBack.launch(new BackendContext().directory(dir).handler(packet ->
        {
            packets[0]++;
            return PacketStatus.ERROR;
        }));
        try (NetBackRunner runner = new NetBackRunner(backend, Throwable::printStackTrace);
            NetFront front = NetFront.connect(new FrontendContext().directory(dir).name("old")))
        {
            final UnsafeBuffer header = new UnsafeBuffer(new byte[64]);
            front.send(header, 0, 64, header, 0, 0, 1L);
            final PacketStatus[] status = new PacketStatus[1];
            final long deadline = System.nanoTime() + 10_000_000_000L;
            while (status[0] == null && System.nanoTime() < deadline)
            {
                front.poll((id, s) -> status[0] = s, packet -> { });
            }
            assertEquals(PacketStatus.ERROR, status[0]);
            assertEquals(1, packets[0]);
        }
    }
}

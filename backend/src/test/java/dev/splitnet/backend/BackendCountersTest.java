package dev.splitnet.backend;

import dev.splitnet.api.IdleMode;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import dev.splitnet.mmap.BackendCounters;
import dev.splitnet.mmap.BackendCountersDescriptor;
import dev.splitnet.mmap.CounterReadings;
import dev.splitnet.mmap.DeviceCounter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The backend's counters of a frontend live in the backend's own file: the frontend can write
 * anything into its device file's counters and the figures the backend keeps do not move; peers
 * resolve each other by name through that file; a disconnected frontend's last values stay readable.
 */
class BackendCountersTest
{
    @TempDir
    Path dir;

    @Test
    void shouldKeepTheBackendsCountersWhereTheFrontendCannotWriteThem() throws Exception
    {
        final NetBack backend = NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BACKOFF)
            .handler(packet -> PacketStatus.OKAY));
        try (NetBackRunner runner = new NetBackRunner(backend, new BackoffIdleStrategy(), Throwable::printStackTrace))
        {
            final Path file = BackendCounters.pathIn(dir);
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
            final int domainId;
            try (NetFront front = NetFront.connect(new FrontendContext().directory(dir).name("judged")))
            {
                domainId = front.domainId();
                assertEquals(domainId, BackendCounters.resolve(dir, "judged"), "peers resolve through the backend");
                final UnsafeBuffer payload = new UnsafeBuffer(new byte[3000]);
                for (int i = 0; i < 10; i++)
                {
                    front.send(payload, 0, 64, payload, 64, 2000, i);
                }
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (front.inFlight() > 0)
                {
                    front.poll((id, status) -> assertEquals(PacketStatus.OKAY, status), packet -> { });
                    assertTrue(System.nanoTime() < deadline);
                }
                // the frontend forges every counter in its own file
                front.device().countersValues().setMemory(0, front.device().countersValues().capacity(), (byte)0x7F);
                final CounterReadings readings = CounterReadings.read(front.device(), dir, domainId);
                assertEquals(10, readings.get(DeviceCounter.BACKEND_TX_PACKETS), "the backend's count, not the forgery");
                assertEquals(0, readings.get(DeviceCounter.ERROR_FATAL));
                assertEquals(0, readings.get(DeviceCounter.PAYLOAD_FAULTS), "nothing read the payloads");
            }
            // disconnected: no longer resolvable, its last values still readable
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (backend.connectedCount() > 0 || BackendCounters.resolve(dir, "judged") != 0)
            {
                assertTrue(System.nanoTime() < deadline, "still registered after its frontend closed");
                Thread.sleep(10);
            }
            final Map<DeviceCounter, Long> last = BackendCounters.read(dir).get(domainId);
            assertNotNull(last, "the last values of a disconnected frontend");
            assertEquals(10L, last.get(DeviceCounter.BACKEND_TX_PACKETS));
        }
        assertFalse(Files.exists(BackendCounters.pathIn(dir)), "the backend deletes its file when it stops");
    }

    @Test
    void shouldMakeRoomForNewFrontendsByDroppingTheOldestDisconnectedOnes() throws Exception
    {
        // 2 live frontends at most: the file holds 2 blocks, and 20 frontends come and go
        final NetBack backend = NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BACKOFF).maxFrontends(2));
        try (NetBackRunner runner = new NetBackRunner(backend, new BackoffIdleStrategy(), Throwable::printStackTrace))
        {
            for (int i = 0; i < 20; i++)
            {
                try (NetFront front = NetFront.connect(new FrontendContext().directory(dir).name("cycle-" + i)))
                {
                    assertEquals(front.domainId(), BackendCounters.resolve(dir, "cycle-" + i));
                }
                // the registration goes when the backend has closed the frontend's connection
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (BackendCounters.resolve(dir, "cycle-" + i) != 0)
                {
                    assertTrue(System.nanoTime() < deadline, "cycle-" + i + " still registered");
                    Thread.sleep(5);
                }
            }
            assertTrue(BackendCounters.read(dir).size() <= 2, "at most the file's capacity of blocks is kept");
            assertEquals(2 * BackendCountersDescriptor.COUNTERS_PER_FRONTEND,
                2 * (DeviceCounter.COUNT - frontendKinds() + 1));
        }
    }

    private static int frontendKinds()
    {
        int n = 0;
        for (final DeviceCounter c : DeviceCounter.values())
        {
            n += c.writer() == DeviceCounter.Side.FRONTEND ? 1 : 0;
        }
        return n;
    }
}

package dev.splitnet.mmap;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersReader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/** The doorbell over a real Unix socket pair: bounded drains, flood counting, end of stream. */
class DoorbellTest
{
    /** What one drain may read at most (4 reads of 4 KiB). */
    private static final int DRAIN_BOUND = 16384;

    @TempDir
    Path dir;

    private ServerSocketChannel server;
    private SocketChannel peer;
    private Doorbell doorbell;
    private final DeviceCounters counters = DeviceCounters.allocate(
        new UnsafeBuffer(ByteBuffer.allocateDirect(DeviceCounter.COUNT * CountersReader.METADATA_LENGTH)),
        new UnsafeBuffer(ByteBuffer.allocateDirect(DeviceCounter.COUNT * CountersReader.COUNTER_LENGTH)));

    @BeforeEach
    void connect() throws IOException
    {
        final UnixDomainSocketAddress address = UnixDomainSocketAddress.of(dir.resolve("bell.sock"));
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(address);
        peer = SocketChannel.open(address);
        doorbell = new Doorbell(server.accept(), counters.get(DeviceCounter.BACKEND_DOORBELLS_SENT),
            counters.get(DeviceCounter.BACKEND_DOORBELLS_RECEIVED), counters.get(DeviceCounter.BACKEND_DOORBELL_FLOODS));
    }

    @AfterEach
    void close() throws IOException
    {
        doorbell.close();
        peer.close();
        server.close();
    }

    /** Writes {@code bytes} doorbells from the peer (blocking until the socket took them all). */
    private void flood(final int bytes) throws IOException
    {
        final ByteBuffer junk = ByteBuffer.allocate(bytes);
        while (junk.hasRemaining())
        {
            peer.write(junk);
        }
    }

    @Test
    void shouldDrainAnHonestPeerWholeAndNotCallItAFlood() throws IOException
    {
        flood(3);
        assertEquals(3, doorbell.drain());
        assertFalse(doorbell.isFlooding());
        assertEquals(0, doorbell.drain());
        assertEquals(3, counters.get(DeviceCounter.BACKEND_DOORBELLS_RECEIVED).get());
        assertEquals(0, counters.get(DeviceCounter.BACKEND_DOORBELL_FLOODS).get());
    }

    @Test
    void shouldBoundEachDrainAndCountTheFlood() throws IOException
    {
        flood(100_000);
        final int first = doorbell.drain();
        assertEquals(DRAIN_BOUND, first, "one drain reads at most its bound");
        assertTrue(doorbell.isFlooding());
        assertEquals(1, counters.get(DeviceCounter.BACKEND_DOORBELL_FLOODS).get());
        int total = first;
        int drains = 1;
        int n;
        while ((n = doorbell.drain()) > 0)
        {
            assertTrue(n <= DRAIN_BOUND, "drain read " + n);
            total += n;
            drains++;
        }
        assertEquals(0, n);
        assertFalse(doorbell.isFlooding(), "quiet again once the socket is empty");
        assertEquals(100_000, total, "nothing lost or invented");
        assertEquals(drains - 1, counters.get(DeviceCounter.BACKEND_DOORBELL_FLOODS).get(),
            "every drain but the last stopped at the bound");
    }

    @Test
    void shouldSeeAFlooderDieOnceItsBytesAreDrained() throws IOException
    {
        flood(100_000);
        peer.close();
        int drains = 0;
        while (doorbell.drain() >= 0)
        {
            drains++;
            assertTrue(drains < 100, "end of stream not seen after " + drains + " drains");
        }
        assertTrue(doorbell.isPeerGone());
        assertEquals(-1, doorbell.drain());
    }

    @Test
    void shouldCountOnlyRingsThatReachedTheSocket()
    {
        final AtomicCounter sent = counters.get(DeviceCounter.BACKEND_DOORBELLS_SENT);
        assertTrue(doorbell.ring());
        assertTrue(doorbell.ring());
        assertEquals(2, sent.get());
    }
}

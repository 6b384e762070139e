package dev.splitnet.contract;

import dev.splitnet.api.Backend;
import dev.splitnet.api.Frontend;
import dev.splitnet.api.PacketHandler;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.SendResult;
import dev.splitnet.api.TxClaim;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.zip.CRC32;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What every splitnet transport promises its users, written against the transport-api interfaces
 * only ({@link Frontend}, {@link Backend}, {@link PacketHandler}): a subclass says how to start a
 * backend and connect a frontend, and reruns the whole suite unchanged (the way JCTools'
 * {@code QueueSanityTest} is subclassed per queue). A second ring format or a second transport is
 * one more subclass.
 *
 * <p>The promises: every byte arrives; every packet sent gets exactly one status, the one its
 * handler chose; send says BACK_PRESSURED (and tryClaim null) when resources run out, and works
 * again once completions are polled; a frontend whose backend goes away sees every packet in
 * flight complete DISCONNECTED exactly once and then NOT_CONNECTED; a backend forgets a frontend
 * that closed, and the name can be used again; bad arguments throw at once, naming the bad one.
 */
public abstract class TransportContract
{
    // a safety net against a hang, not a speed test: generous for a loaded 2-core machine
    private static final long DEADLINE_NS = TimeUnit.SECONDS.toNanos(30);
    private static final int HEADER_LENGTH = 32;

    /** A backend running on a thread of its own. */
    protected interface RunningBackend extends AutoCloseable
    {
        Backend backend();

        /** Stops the backend: its frontends must notice it is gone. */
        @Override
        void close();
    }

    /** Starts a backend in {@code dir} whose handler {@code handlerFor} makes, given the backend (for delivering). */
    protected abstract RunningBackend startBackend(Path dir, Function<Backend, PacketHandler> handlerFor);

    /** Connects a frontend called {@code name} to the backend in {@code dir}. */
    protected abstract Frontend connect(Path dir, String name);

    @TempDir
    Path parent;
    private RunningBackend running;
    private Frontend front;

    private Path dir()
    {
        return parent.resolve("contract");
    }

    @AfterEach
    void closeAll()
    {
        if (front != null)
        {
            front.close();
        }
        if (running != null)
        {
            running.close();
        }
    }

    private void start(final Function<Backend, PacketHandler> handlerFor)
    {
        running = startBackend(dir(), handlerFor);
        front = connect(dir(), "contract");
    }

    @Test
    void everyByteOfEveryEchoedPacketArrivesAndEveryPacketCompletesOkayOnce()
    {
        start(backend -> packet -> backend.deliver(packet.domainId(), packet));
        final SplittableRandom random = new SplittableRandom(7);
        final UnsafeBuffer header = new UnsafeBuffer(new byte[HEADER_LENGTH]);
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[9000]);
        final UnsafeBuffer received = new UnsafeBuffer(new byte[9000 + HEADER_LENGTH]);
        final int packets = 2000;
        final Map<Integer, Long> crcBySeq = new HashMap<>();
        final Map<Long, PacketStatus> statuses = new HashMap<>();
        final int[] receivedCount = {0};
        final int[] corrupt = {0};
        int sent = 0;
        final long deadline = System.nanoTime() + DEADLINE_NS;
        while ((statuses.size() < packets || receivedCount[0] < packets) && System.nanoTime() - deadline < 0)
        {
            // a window of 16 in flight keeps the echoes within the frontend's posted receive buffers
            if (sent < packets && front.inFlight() < 16)
            {
                final int payloadLength = random.nextInt(9001);
                random.nextBytes(header.byteArray());
                random.nextBytes(payload.byteArray());
                header.putInt(0, sent);
                final CRC32 crc = new CRC32();
                crc.update(header.byteArray(), 0, HEADER_LENGTH);
                crc.update(payload.byteArray(), 0, payloadLength);
                crcBySeq.put(sent, crc.getValue());
                assertEquals(SendResult.SENT, front.send(header, 0, HEADER_LENGTH, payload, 0, payloadLength, sent));
                sent++;
            }
            front.poll((id, status) -> assertNull(statuses.put(id, status), "packet " + id + " completed twice"), packet ->
            {
                final int length = packet.copyTo(received, 0);
                final CRC32 crc = new CRC32();
                crc.update(received.byteArray(), 0, length);
                final Long expected = crcBySeq.get(received.getInt(0));
                if (expected == null || expected != crc.getValue())
                {
                    corrupt[0]++;
                }
                receivedCount[0]++;
            });
        }
        final String progress = "sent " + sent + ", completed " + statuses.size() + ", received " + receivedCount[0] + ", in flight "
            + front.inFlight() + ", connected " + front.isConnected();
        assertEquals(packets, statuses.size(), "one status per packet: " + progress);
        assertTrue(statuses.values().stream().allMatch(s -> s == PacketStatus.OKAY), "every echo OKAY: " + statuses.values());
        assertEquals(packets, receivedCount[0], "every echo received");
        assertEquals(0, corrupt[0], "packets with a wrong byte");
    }

    @Test
    void theFrontendSeesTheStatusItsHandlerChose()
    {
        // the handler's verdict by the sequence number in the header
        start(backend -> packet ->
        {
            final int seq = packet.header().getInt(0);
            return seq % 3 == 0 ? PacketStatus.DROPPED : seq % 3 == 1 ? PacketStatus.ERROR : PacketStatus.OKAY;
        });
        final UnsafeBuffer header = new UnsafeBuffer(new byte[HEADER_LENGTH]);
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[1500]);
        final int packets = 999;
        final Map<Long, PacketStatus> statuses = new HashMap<>();
        int sent = 0;
        final long deadline = System.nanoTime() + DEADLINE_NS;
        while (statuses.size() < packets && System.nanoTime() - deadline < 0)
        {
            if (sent < packets)
            {
                header.putInt(0, sent);
                if (front.send(header, 0, HEADER_LENGTH, payload, 0, sent % 1501, sent) == SendResult.SENT)
                {
                    sent++;
                }
            }
            front.poll((id, status) -> assertNull(statuses.put(id, status), "packet " + id + " completed twice"), packet -> { });
        }
        assertEquals(packets, statuses.size());
        for (final Map.Entry<Long, PacketStatus> e : statuses.entrySet())
        {
            final long seq = e.getKey();
            assertEquals(seq % 3 == 0 ? PacketStatus.DROPPED : seq % 3 == 1 ? PacketStatus.ERROR : PacketStatus.OKAY, e.getValue(),
                "packet " + seq);
        }
    }

    @Test
    void sendIsBackPressuredWhenResourcesRunOutAndWorksAgainAfterCompletions()
    {
        start(backend -> packet -> PacketStatus.OKAY);
        final UnsafeBuffer header = new UnsafeBuffer(new byte[HEADER_LENGTH]);
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[4096]);
        int sent = 0;
        SendResult result;
        // no poll: completions pile up unanswered until the ring, the header slots or the frames run out
        while ((result = front.send(header, 0, HEADER_LENGTH, payload, 0, payload.capacity(), sent)) == SendResult.SENT)
        {
            sent++;
            assertTrue(sent <= 100_000, "never back pressured");
        }
        assertEquals(SendResult.BACK_PRESSURED, result);
        assertTrue(sent > 0, "nothing could be sent");
        assertEquals(sent, front.inFlight());
        assertNull(front.tryClaim(HEADER_LENGTH, payload.capacity()), "tryClaim says back pressured with null");
        final int[] completed = {0};
        final long deadline = System.nanoTime() + DEADLINE_NS;
        while (front.inFlight() > 0 && System.nanoTime() - deadline < 0)
        {
            front.poll((id, status) ->
            {
                assertEquals(PacketStatus.OKAY, status);
                completed[0]++;
            }, packet -> { });
        }
        assertEquals(sent, completed[0], "every back-pressured run completes");
        assertEquals(SendResult.SENT, front.send(header, 0, HEADER_LENGTH, payload, 0, payload.capacity(), sent));
        final TxClaim claim = front.tryClaim(HEADER_LENGTH, 100);
        assertNotNull(claim, "a claim after the completions");
        claim.abort();
    }

    @Test
    void aFrontendWhoseBackendGoesAwaySeesEveryPacketInFlightDisconnectedOnce()
    {
        start(backend -> packet -> PacketStatus.OKAY);
        running.close();
        running = null;
        final UnsafeBuffer header = new UnsafeBuffer(new byte[HEADER_LENGTH]);
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[2000]);
        final Map<Long, PacketStatus> statuses = new HashMap<>();
        int sent = 0;
        int notConnected = 0;
        // the frontend learns of the death on a poll; until then its packets go on the ring, unanswered
        // 100 fit the ring in every configuration (plain netif takes two slots per packet)
        for (int i = 0; i < 100; i++)
        {
            final SendResult result = front.send(header, 0, HEADER_LENGTH, payload, 0, payload.capacity(), i);
            sent += result == SendResult.SENT ? 1 : 0;
            notConnected += result == SendResult.NOT_CONNECTED ? 1 : 0;
        }
        final long deadline = System.nanoTime() + DEADLINE_NS;
        while ((front.isConnected() || front.inFlight() > 0) && System.nanoTime() - deadline < 0)
        {
            front.poll((id, status) -> assertNull(statuses.put(id, status), "packet " + id + " completed twice"), packet -> { });
        }
        assertFalse(front.isConnected(), "the frontend noticed its backend is gone");
        assertEquals(0, front.inFlight());
        assertEquals(sent, statuses.size(), "every packet sent got a status");
        assertTrue(statuses.values().stream().allMatch(s -> s == PacketStatus.DISCONNECTED), statuses.values().toString());
        assertEquals(100, sent + notConnected, "each send was SENT or NOT_CONNECTED");
        assertEquals(SendResult.NOT_CONNECTED, front.send(header, 0, HEADER_LENGTH, payload, 0, 10, 1000));
        assertNull(front.tryClaim(HEADER_LENGTH, 10));
        // nothing more arrives, however often it is polled
        for (int i = 0; i < 10; i++)
        {
            front.poll((id, status) -> fail("a second status for " + id), packet -> fail("a packet after the backend went"));
        }
    }

    @Test
    void aBackendForgetsAFrontendThatClosedAndItsNameCanBeUsedAgain()
    {
        start(backend -> packet -> backend.deliver(packet.domainId(), packet));
        final Backend backend = running.backend();
        awaitConnected(backend, 1);
        final int firstDomain = front.domainId();
        front.close();
        front = null;
        awaitConnected(backend, 0);
        assertFalse(backend.isConnected(firstDomain));
        front = connect(dir(), "contract");
        awaitConnected(backend, 1);
        assertTrue(backend.isConnected(front.domainId()));
        final UnsafeBuffer header = new UnsafeBuffer(new byte[HEADER_LENGTH]);
        header.putInt(0, 0x5EED);
        final PacketStatus[] status = new PacketStatus[1];
        final int[] echoed = {0};
        assertEquals(SendResult.SENT, front.send(header, 0, HEADER_LENGTH, header, 0, 0, 1));
        final long deadline = System.nanoTime() + DEADLINE_NS;
        while ((status[0] == null || echoed[0] == 0) && System.nanoTime() - deadline < 0)
        {
            front.poll((id, s) -> status[0] = s, packet -> echoed[0] += packet.length() == HEADER_LENGTH ? 1 : 100);
        }
        assertEquals(PacketStatus.OKAY, status[0]);
        assertEquals(1, echoed[0], "one echo of the right length");
    }

    @Test
    void badArgumentsThrowAtOnceNamingTheBadOne()
    {
        // a handler that delivers to a frontend that does not exist: an ERROR status, not an exception
        start(backend -> packet -> packet.header().getInt(0) == 0xBAD ? backend.deliver(packet.domainId() + 1000, packet) : PacketStatus.OKAY);
        final UnsafeBuffer big = new UnsafeBuffer(new byte[70_000]);
        final IllegalArgumentException payload = assertThrows(IllegalArgumentException.class,
            () -> front.send(big, 0, HEADER_LENGTH, big, 0, 65_536, 1));
        assertTrue(payload.getMessage().contains("65536"), payload.getMessage());
        final IllegalArgumentException header = assertThrows(IllegalArgumentException.class,
            () -> front.send(big, 0, 60_000, big, 0, 0, 2));
        assertTrue(header.getMessage().contains("headerLength=60000"), header.getMessage());
        final IllegalArgumentException fragment = assertThrows(IllegalArgumentException.class,
            () -> front.tryClaim(HEADER_LENGTH, new int[] {front.maxFragmentLength() + 1}, 1));
        assertTrue(fragment.getMessage().contains("fragmentLengths[0]=" + (front.maxFragmentLength() + 1)), fragment.getMessage());
        assertEquals(0, front.inFlight(), "nothing half sent");
        big.putInt(0, 0xBAD);
        assertEquals(SendResult.SENT, front.send(big, 0, HEADER_LENGTH, big, 0, 64, 3));
        final PacketStatus[] status = new PacketStatus[1];
        final long deadline = System.nanoTime() + DEADLINE_NS;
        while (status[0] == null && System.nanoTime() - deadline < 0)
        {
            front.poll((id, s) -> status[0] = s, packet -> fail("nothing is delivered to this frontend"));
        }
        assertEquals(PacketStatus.ERROR, status[0], "delivering to a domain that does not exist");
        assertTrue(front.isConnected(), "bad arguments cost nothing else");
    }

    private static void awaitConnected(final Backend backend, final int count)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (backend.connectedCount() != count && System.nanoTime() - deadline < 0)
        {
            Thread.onSpinWait();
        }
        assertEquals(count, backend.connectedCount(), "frontends connected");
    }
}

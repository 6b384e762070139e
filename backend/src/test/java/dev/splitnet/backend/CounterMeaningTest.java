package dev.splitnet.backend;

import dev.splitnet.api.Features;
import dev.splitnet.api.ForwardingHandler;
import dev.splitnet.api.IdleMode;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.SendResult;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import dev.splitnet.mmap.CounterReadings;
import dev.splitnet.mmap.DeviceCounter;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static dev.splitnet.mmap.DeviceCounter.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Each counter means what docs/PROTOCOL.md section 10 says: a real backend and frontend in one
 * JVM do one thing, and the counter moves by exactly what that thing should count. The error
 * counters are held to their meaning by the hostile-frontend tests, named in {@link #ELSEWHERE}.
 */
class CounterMeaningTest
{
    /** Counters whose meaning another test asserts (it names them: checked below). */
    private static final String HOSTILE = "src/test/java/dev/splitnet/backend/HostileFrontendTest.java";
    private static final String HELD = "src/test/java/dev/splitnet/backend/HeldPacketTest.java";
    private static final String RXQ = "src/test/java/dev/splitnet/backend/RxQueueTest.java";
    private static final String LAZY = "src/test/java/dev/splitnet/backend/LazyReceiveTest.java";
    private static final Object[][] ELSEWHERE = {
        { ERROR_BAD_GREF, HOSTILE }, { ERROR_BAD_OFFSET, HOSTILE }, { ERROR_BAD_SLOT, HOSTILE }, { ERROR_TOO_MANY_FRAGMENTS, HOSTILE },
        { ERROR_SIZE_MISMATCH, HOSTILE }, { ERROR_UNSUPPORTED, HOSTILE }, { ERROR_FATAL, HOSTILE },
        { ERROR_GRANT_UNSTABLE, "src/test/java/dev/splitnet/backend/RequestValidationPropertiesTest.java" },
        { RX_SOURCE_ERROR, "src/test/java/dev/splitnet/backend/RxSourceFaultTest.java" },
        { BACKEND_DOORBELL_FLOODS, "../transport-mmap/src/test/java/dev/splitnet/mmap/DoorbellTest.java" },
        { HELD_PACKETS, HELD }, { HELD_COMPLETED_NO_COPY, HELD }, { HELD_COPIED_DEADLINE, HELD }, { HELD_COPIED_PRESSURE, HELD },
        { HELD_COPIED_DISCONNECT, HELD }, { HELD_DROPPED_BOUND, HELD }, { HELD_DROPPED_LIMIT, HELD }, { HELD_NOW, HELD },
        { COPY_MEMORY_BYTES, HELD },
        { RX_QUEUED, RXQ }, { RX_DROPPED_QUEUE_FULL, RXQ }, { RX_DROPPED_DRAIN_TIMEOUT, RXQ }, { RX_DROPPED_STALLED, RXQ },
        { RX_DROPPED_DISCONNECT, RXQ }, { TX_QUEUED_DROPPED_PRESSURE, RXQ }, { TX_SENDER_PAUSES, RXQ },
        { RX_BUFFERS_REORDERED, "src/test/java/dev/splitnet/backend/RingV2LoopbackTest.java" },
        { TX_IDS_COMPLETED_IN_RUNS, "src/test/java/dev/splitnet/backend/RingV2LoopbackTest.java" },
        { RX_FLIPS, LAZY }, { RX_FRAMES_LENT, LAZY }, { RX_COPIES_AVOIDED, LAZY }, { RX_LAZY_COPIES_PRESSURE, LAZY },
        { RX_LAZY_COPIES_DEADLINE, LAZY }, { RX_LENT_DROPPED, LAZY }, { RX_NO_BACKEND_FRAME, LAZY }, { ERROR_P2M, LAZY },
        { RX_LENT_READS, LAZY }, { RX_LAZY_COPIES_WRITE, LAZY },
    };
    /** Counters this class holds to their meaning. */
    private static final Set<DeviceCounter> HERE = EnumSet.of(TX_PACKETS, TX_BYTES, TX_OKAY, TX_ERROR, TX_DROPPED, TX_DISCONNECTED,
        TX_BACK_PRESSURED, RX_PACKETS, RX_BYTES, FRONTEND_DOORBELLS_SENT, FRONTEND_DOORBELLS_RECEIVED, BACKEND_TX_PACKETS,
        BACKEND_TX_BYTES, HEADER_BYTES_COPIED, PAYLOAD_FAULTS, GRANT_MAPS, GRANT_PINS, GRANT_UNMAPS, PAYLOAD_BYTES_COPIED,
        ZERO_COPY_BYTES, EGRESS_PACKETS, RX_DELIVERED, RX_DELIVERED_BYTES, RX_DROPPED_NO_BUFFER, BACKEND_DOORBELLS_SENT,
        BACKEND_DOORBELLS_RECEIVED, FRONTEND_DOORBELL_FLOODS, ERROR_HANDLER, PERMANENT_GRANTS, GRANT_REUSES);

    @TempDir
    Path dir;

    private volatile ForwardingHandler handler = (b, p) -> PacketStatus.OKAY;
    private NetBack backend;
    private NetBackRunner runner;
    private NetFront front;
    private final UnsafeBuffer header = new UnsafeBuffer(new byte[128]);
    private final UnsafeBuffer payload = new UnsafeBuffer(new byte[65535]);
    private final List<PacketStatus> statuses = new ArrayList<>();
    private long received;

    private void start(final long features, final boolean serve) throws Exception
    {
        backend = NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BLOCKING)
            .handler((b, p) -> handler.onPacket(b, p)));
        runner = serve ? new NetBackRunner(backend, Throwable::printStackTrace) : null;
        front = NetFront.connect(new FrontendContext().directory(dir).name("meaning").features(features));
    }

    @AfterEach
    void stop()
    {
        if (front != null)
        {
            front.close();
        }
        if (runner != null)
        {
            runner.close();
        }
        else if (backend != null)
        {
            backend.close();
        }
    }

    private long count(final DeviceCounter counter)
    {
        return CounterReadings.read(front.device(), dir, front.domainId()).get(counter);
    }

    private void send(final int headerLength, final int payloadLength)
    {
        header.putInt(0, statuses.size());
        assertEquals(SendResult.SENT, front.send(header, 0, headerLength, payload, 0, payloadLength, 0));
    }

    /** Polls until every packet sent has its status and {@code packets} were received. */
    private void settle(final int completions, final long packets)
    {
        final long deadline = System.nanoTime() + 10_000_000_000L;
        while ((statuses.size() < completions || received < packets) && System.nanoTime() < deadline)
        {
            front.poll((id, status) -> statuses.add(status), packet -> received++);
        }
        assertEquals(completions, statuses.size(), "completions");
        assertEquals(packets, received, "packets received");
        // the backend publishes its TX counters before it pushes the responses just polled
    }

    @Test
    void shouldCountPacketsAndBytesOnBothSidesOfTheTxRing() throws Exception
    {
        start(Features.DEFAULT, true);
        final int[][] sizes = { { 14, 0 }, { 64, 100 }, { 128, 4096 }, { 20, 9000 }, { 64, 65535 - 64 } };
        long bytes = 0;
        long headerBytes = 0;
        for (final int[] s : sizes)
        {
            send(s[0], s[1]);
            bytes += s[0] + s[1];
            headerBytes += s[0];
        }
        settle(sizes.length, 0);
        assertEquals(sizes.length, count(TX_PACKETS));
        assertEquals(bytes, count(TX_BYTES), "tx_bytes: header and payload of every packet");
        assertEquals(sizes.length, count(BACKEND_TX_PACKETS));
        assertEquals(bytes, count(BACKEND_TX_BYTES));
        assertEquals(headerBytes, count(HEADER_BYTES_COPIED));
        assertEquals(sizes.length, count(TX_OKAY));
    }

    @Test
    void shouldCountEachCompletionByItsStatus() throws Exception
    {
        start(Features.DEFAULT, true);
        final PacketStatus[] fates = { PacketStatus.OKAY, PacketStatus.ERROR, PacketStatus.DROPPED, PacketStatus.DROPPED,
            PacketStatus.ERROR, PacketStatus.OKAY, PacketStatus.DROPPED };
        handler = (b, p) ->
        {
            final int i = p.header().getInt(0);
            if (i == fates.length)
            {
                throw new IllegalStateException("a handler that fails");
            }
            return fates[i];
        };
        for (int i = 0; i <= fates.length; i++)
        {
            send(64, 10);
            settle(i + 1, 0);
        }
        assertEquals(2, count(TX_OKAY));
        assertEquals(2 + 1, count(TX_ERROR), "two ERRORs and the packet the handler threw on");
        assertEquals(3, count(TX_DROPPED));
        assertEquals(1, count(ERROR_HANDLER), "the one packet the handler threw on");
        assertEquals(0, count(TX_DISCONNECTED));
    }

    @Test
    void shouldCountPacketsInFlightWhenTheBackendGoesAwayAsDisconnected() throws Exception
    {
        start(Features.DEFAULT, false); // connected, but nobody takes packets off the ring
        for (int i = 0; i < 5; i++)
        {
            send(64, 1000);
        }
        backend.close();
        backend = null;
        settle(5, 0);
        assertEquals(5, count(TX_DISCONNECTED));
        assertEquals(5, statuses.stream().filter(s -> s == PacketStatus.DISCONNECTED).count());
    }

    @Test
    void shouldCountEverySendAndClaimRefusedForBackPressure() throws Exception
    {
        start(Features.DEFAULT, false);
        int sent = 0;
        while (front.send(header, 0, 64, payload, 0, 60000, 0) == SendResult.SENT)
        {
            sent++;
        }
        assertTrue(sent > 0);
        assertEquals(SendResult.BACK_PRESSURED, front.send(header, 0, 64, payload, 0, 60000, 0));
        assertNull(front.tryClaim(64, 60000));
        assertEquals(3, count(TX_BACK_PRESSURED), "two refused sends and a refused claim");
        assertEquals(sent, count(TX_PACKETS));
    }

    @Test
    void shouldCountDeliveriesOnTheBackendAndReceptionsOnTheFrontend() throws Exception
    {
        start(Features.DEFAULT, true);
        final int[] lengths = { 0, 100, 4096, 4097, 9000, 65535 };
        final UnsafeBuffer source = new UnsafeBuffer(new byte[65535]);
        handler = (b, p) -> b.deliver(p.domainId(), source, 0, lengths[p.header().getInt(0)]);
        long bytes = 0;
        for (int i = 0; i < lengths.length; i++)
        {
            send(64, 0);
            settle(i + 1, i + 1);
            bytes += lengths[i];
        }
        assertEquals(lengths.length, count(RX_DELIVERED));
        assertEquals(bytes, count(RX_DELIVERED_BYTES));
        assertEquals(lengths.length, count(RX_PACKETS));
        assertEquals(bytes, count(RX_BYTES));
        assertEquals(0, count(RX_DROPPED_NO_BUFFER));
        assertEquals(0, count(PAYLOAD_BYTES_COPIED), "a delivered buffer of the backend's own is no payload of a packet");
    }

    @Test
    void shouldCountADeliveryWithTooFewReceiveBuffersAsDroppedForWantOfThem() throws Exception
    {
        start(Features.DEFAULT, true);
        final UnsafeBuffer source = new UnsafeBuffer(new byte[9000]);
        handler = (b, p) -> b.deliver(p.domainId(), source, 0, 9000);
        // 100 packets sent without a poll: nothing is reposted, 256 buffers hold 85 packets of 3 pages
        for (int i = 0; i < 100; i++)
        {
            send(64, 0);
        }
        final long deadline = System.nanoTime() + 10_000_000_000L;
        while (count(BACKEND_TX_PACKETS) < 100 && System.nanoTime() < deadline)
        {
            Thread.sleep(5);
        }
        settle(100, 85);
        assertEquals(15, count(RX_DROPPED_NO_BUFFER));
        assertEquals(15, count(TX_DROPPED));
        assertEquals(85, count(RX_DELIVERED));
    }

    @Test
    void shouldCountFaultsMapsCopiesAndUnmapsOfGrantsPerUse() throws Exception
    {
        start(Features.HEADER_SLOTS, true); // a grant per use: every access maps, every release unmaps
        final UnsafeBuffer dst = new UnsafeBuffer(new byte[9000]);
        final int[] mode = { 0 };
        handler = (b, p) ->
        {
            for (int i = 0; i < p.fragmentCount(); i++)
            {
                switch (mode[0])
                {
                    case 1 -> p.fragment(i).getByte(0);
                    case 2 -> p.fragment(i).getBytes(0, dst, 0, p.fragment(i).length());
                    case 3 -> p.fragment(i).buffer().getBytes(0, dst, 0, p.fragment(i).length());
                    default -> { }
                }
            }
            return PacketStatus.OKAY;
        };
        // 9000 bytes without frame spans: three fragments of 4096, 4096 and 808 bytes
        send(64, 9000);
        settle(1, 0);
        assertEquals(0, count(PAYLOAD_FAULTS), "a payload nobody reads is never faulted in");
        assertEquals(0, count(GRANT_MAPS));
        assertEquals(0, count(GRANT_UNMAPS));
        mode[0] = 1;
        send(64, 9000);
        settle(2, 0);
        assertEquals(3, count(PAYLOAD_FAULTS), "one fault per fragment read");
        assertEquals(3, count(GRANT_MAPS));
        assertEquals(3, count(GRANT_UNMAPS), "every hold released after the packet");
        assertEquals(0, count(PAYLOAD_BYTES_COPIED), "getByte copies nothing out");
        mode[0] = 2;
        send(64, 9000);
        settle(3, 0);
        assertEquals(9000, count(PAYLOAD_BYTES_COPIED), "Fragment.getBytes is counted");
        assertEquals(6, count(PAYLOAD_FAULTS));
        mode[0] = 3;
        send(64, 9000);
        settle(4, 0);
        assertEquals(9000, count(PAYLOAD_BYTES_COPIED), "a read through Fragment.buffer() is not (documented)");
        assertEquals(9, count(PAYLOAD_FAULTS), "but its first access is a fault");
        assertEquals(9, count(GRANT_UNMAPS));
        assertEquals(0, count(GRANT_PINS));
        assertEquals(0, count(PERMANENT_GRANTS));
    }

    @Test
    void shouldCountZeroCopyTransfersPinsAndEgress() throws Exception
    {
        start(Features.HEADER_SLOTS, true);
        try (FileChannel sink = FileChannel.open(dir.resolve("wire"), StandardOpenOption.CREATE, StandardOpenOption.WRITE))
        {
            final boolean[] whole = { true };
            handler = (b, p) ->
            {
                try
                {
                    if (whole[0])
                    {
                        p.transferTo(sink);
                    }
                    else
                    {
                        p.fragment(0).transferTo(sink);
                    }
                    return PacketStatus.OKAY;
                }
                catch (final java.io.IOException ex)
                {
                    throw new java.io.UncheckedIOException(ex);
                }
            };
            send(64, 9000);
            settle(1, 0);
            assertEquals(1, count(EGRESS_PACKETS));
            assertEquals(9000, count(ZERO_COPY_BYTES), "payload bytes only: the header is the backend's copy");
            assertEquals(3, count(GRANT_PINS), "one pin per fragment");
            assertEquals(3, count(GRANT_UNMAPS), "every pin released");
            assertEquals(0, count(PAYLOAD_FAULTS), "the CPU never read it");
            assertEquals(0, count(GRANT_MAPS));
            whole[0] = false;
            send(64, 9000);
            settle(2, 0);
            assertEquals(1, count(EGRESS_PACKETS), "a fragment's transfer is no packet egress");
            assertEquals(9000 + 4096, count(ZERO_COPY_BYTES));
            assertEquals(4, count(GRANT_PINS));
            assertEquals(64 + 9000 + 4096, Files.size(dir.resolve("wire")));
        }
    }

    @Test
    void shouldCountKeptGrantsAsAGaugeAndRequestsServedByThemAsReuses() throws Exception
    {
        start(Features.DEFAULT, true);
        // frame spans: one payload request per packet; a packet whose grants were all kept already is a reuse
        long reuses = 0;
        long kept = 0;
        // the frame pool hands out all 1024 TX frames before any comes round again: 400 packets of 3 frames get there
        for (int i = 0; i < 400; i++)
        {
            send(64, 9000);
            settle(i + 1, 0);
            final long now = count(PERMANENT_GRANTS);
            if (now == kept)
            {
                reuses++;
            }
            else
            {
                assertTrue(now > kept, "a gauge of grants kept, which only grows while connected");
            }
            kept = now;
        }
        assertTrue(kept >= 3, "a 9000-byte payload keeps its 3 frames' grants: " + kept);
        assertTrue(reuses > 0, "frames come back to the pool and are sent again");
        assertTrue(kept <= 1024, "at most every TX frame kept: " + kept);
        assertEquals(reuses, count(GRANT_REUSES));
        assertEquals(0, count(GRANT_MAPS), "kept grants are never mapped per packet");
        final int domainId = front.domainId();
        front.close();
        final long deadline = System.nanoTime() + 10_000_000_000L;
        long after = kept;
        while (after != 0 && System.nanoTime() < deadline)
        {
            Thread.sleep(10);
            after = dev.splitnet.mmap.BackendCounters.read(dir).get(domainId).get(PERMANENT_GRANTS);
        }
        assertEquals(0, after, "0 again after disconnect");
        front = null;
    }

    @Test
    void shouldCountDoorbellBytesWrittenByOneSideAsDrainedByTheOther() throws Exception
    {
        start(Features.DEFAULT, true);
        final UnsafeBuffer source = new UnsafeBuffer(new byte[100]);
        handler = (b, p) -> b.deliver(p.domainId(), source, 0, 100);
        for (int i = 0; i < 50; i++)
        {
            send(64, 100);
            settle(i + 1, i + 1);
            front.awaitWork(1); // arms rsp_event, so the backend rings
            Thread.sleep(2);   // lets the backend sleep, so the frontend rings
        }
        final long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline && (count(FRONTEND_DOORBELLS_SENT) != count(BACKEND_DOORBELLS_RECEIVED)
            || count(BACKEND_DOORBELLS_SENT) != count(FRONTEND_DOORBELLS_RECEIVED)))
        {
            front.poll((id, s) -> { }, p -> { });
            Thread.sleep(20);
        }
        assertTrue(count(FRONTEND_DOORBELLS_SENT) > 0 && count(BACKEND_DOORBELLS_SENT) > 0,
            "both sides rang: fe " + count(FRONTEND_DOORBELLS_SENT) + ", be " + count(BACKEND_DOORBELLS_SENT));
        assertEquals(count(FRONTEND_DOORBELLS_SENT), count(BACKEND_DOORBELLS_RECEIVED));
        assertEquals(count(BACKEND_DOORBELLS_SENT), count(FRONTEND_DOORBELLS_RECEIVED));
    }

    @Test
    void shouldCountAFloodOfTheFrontendsDoorbellAndEveryByteOfIt() throws Exception
    {
        start(Features.DEFAULT, true);
        send(64, 0);
        settle(1, 0);
        // the backend's end of the doorbell, written without the backend: 100,000 bytes no honest backend sends
        final java.lang.reflect.Field vifs = NetBack.class.getDeclaredField("vifs");
        vifs.setAccessible(true);
        final long deadline = System.nanoTime() + 10_000_000_000L;
        while (((Vif[])vifs.get(backend)).length == 0 && System.nanoTime() < deadline)
        {
            Thread.sleep(5);
        }
        final java.nio.channels.SocketChannel bell = ((Vif[])vifs.get(backend))[0].doorbell().channel();
        final java.nio.ByteBuffer junk = java.nio.ByteBuffer.allocate(100_000);
        while (junk.hasRemaining() && System.nanoTime() < deadline)
        {
            bell.write(junk);
        }
        final long honest = count(BACKEND_DOORBELLS_SENT);
        while (count(FRONTEND_DOORBELLS_RECEIVED) < honest + 100_000 && System.nanoTime() < deadline)
        {
            front.awaitWork(1);
            front.poll((id, s) -> { }, p -> { });
        }
        assertEquals(count(BACKEND_DOORBELLS_SENT) + 100_000, count(FRONTEND_DOORBELLS_RECEIVED), "every byte drained, none invented");
        assertTrue(count(FRONTEND_DOORBELL_FLOODS) >= 1, "drains cut short at their bound: " + count(FRONTEND_DOORBELL_FLOODS));
        assertTrue(front.isConnected(), "a flood is no reason to disconnect");
    }

    @Test
    void shouldHoldEveryCounterToItsMeaningHereOrInANamedTest() throws Exception
    {
        final Set<DeviceCounter> covered = EnumSet.copyOf(HERE);
        for (final Object[] e : ELSEWHERE)
        {
            final DeviceCounter counter = (DeviceCounter)e[0];
            final String source = Files.readString(Path.of((String)e[1]));
            assertTrue(source.contains("DeviceCounter." + counter.name()) || source.contains(counter.key()),
                e[1] + " asserts " + counter.key());
            covered.add(counter);
        }
        final Set<DeviceCounter> missing = EnumSet.complementOf(EnumSet.copyOf(covered));
        assertEquals(EnumSet.noneOf(DeviceCounter.class), missing, "counters no test holds to their meaning");
    }
}

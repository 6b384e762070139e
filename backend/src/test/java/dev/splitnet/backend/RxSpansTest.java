package dev.splitnet.backend;

import dev.splitnet.api.Features;
import dev.splitnet.api.GrantConstants;
import dev.splitnet.frontend.NetFront;
import dev.splitnet.mmap.CounterReadings;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.DeviceLayout;
import dev.splitnet.mmap.NetifDescriptor;
import dev.splitnet.mmap.NetifLimits;
import dev.splitnet.mmap.P2mDescriptor;
import dev.splitnet.mmap.SharedRingDescriptor;
import java.util.SplittableRandom;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Receive buffers of several frames (feature rx-spans): every lazy-receive test of
 * {@link LazyReceiveTest} again with each buffer seven frames, lent as one P2M run or filled by one
 * copy, and the cases of spans themselves: a 64 KiB packet in three buffers, spans on a frontend
 * without lazy-rx, and bad spans from either side.
 */
class RxSpansTest extends LazyReceiveTest
{
    @Override
    long extraFeatures()
    {
        return Features.RX_SPANS;
    }

    @Override
    int spanFrames()
    {
        return NetifLimits.MAX_RX_SPAN_FRAMES;
    }

    @Override
    int buffersOf(final int length)
    {
        final int bytes = NetifLimits.MAX_RX_SPAN_FRAMES * DeviceLayout.PAGE_SIZE;
        return Math.max(1, (length + bytes - 1) / bytes);
    }

    @Test
    void shouldDeliverA64KibPacketInThreeBuffersLentAsThreeRuns()
    {
        start(new BackendContext().rxMode(RxMode.FLIP));
        try (NetFront front = connect(LAZY))
        {
            assertNotEquals(0, front.negotiatedFeatures() & Features.RX_SPANS, "rx-spans negotiated");
            source.send(front.domainId(), 1, 65535);
            final int[] buffers = new int[1];
            receiveAll(front, 1, packet -> buffers[0] = packet.bufferCount()).assertIntact(1, 65535);
            assertEquals(3, buffers[0], "28672 + 28672 + 8191 bytes");
            final CounterReadings counters = CounterReadings.read(front.device(), dir, front.domainId());
            assertEquals(3, counters.get(DeviceCounter.RX_FLIPS), "one P2M entry per buffer");
            assertEquals(16, counters.get(DeviceCounter.RX_FRAMES_LENT), "the 16 frames of the packet lent");
            assertEquals(3, counters.get(DeviceCounter.RX_LENT_READS));
        }
    }

    @Test
    void shouldCopyIntoSpansForAFrontendWithoutLazyReceive()
    {
        start(new BackendContext().rxMode(RxMode.FLIP));
        try (NetFront front = connect(Features.DEFAULT))
        {
            assertEquals(Features.DEFAULT | Features.RX_SPANS, front.negotiatedFeatures());
            final EchoTraffic echo = new EchoTraffic(front, new SplittableRandom(31), 65535);
            echo.run(1000);
            echo.assertIntact(1000);
            assertEquals(0, CounterReadings.read(front.device(), dir, front.domainId()).get(DeviceCounter.RX_FLIPS));
        }
    }

    @Test
    void shouldPostSingleFramesWhenTheBackendDoesNotTakeSpans()
    {
        start(new BackendContext().rxMode(RxMode.FLIP).acceptedFeatures(Features.SUPPORTED & ~Features.RX_SPANS));
        try (NetFront front = connect(LAZY))
        {
            assertEquals(LAZY, front.negotiatedFeatures(), "no rx-spans");
            source.send(front.domainId(), 1, 65535);
            receiveAll(front, 1).assertIntact(1, 65535);
            assertEquals(16, CounterReadings.read(front.device(), dir, front.domainId()).get(DeviceCounter.RX_FLIPS), "a frame a buffer");
        }
    }

    /** A hostile frontend's spans: each is answered ERROR as a bad grant; the frontend's other buffers still work. */
    @Test
    void shouldAnswerBadSpansWithAnErrorAndLoseNothingElse()
    {
        start(new BackendContext().rxMode(RxMode.FLIP));
        // 140 frames: 20 spans of 7 posted on a 256-entry ring, room for the forged requests
        try (NetFront front = NetFront.connect(frontend("lazy").rxFrames(140).features(LAZY | Features.RX_SPANS)))
        {
            final DeviceLayout layout = front.device().layout();
            final int firstRx = layout.txFrameCount();
            final int lastFrame = layout.frameCount() - 1;
            // eight frames (span bits 7: one more than allowed), a span without the permanent bit, a
            // span running past the last granted frame (its last grefs not granted), a span whose
            // grefs name frames of the TX pool never granted for writing
            postRaw(front, 30, firstRx | GrantConstants.GREF_PERMANENT | 7 << GrantConstants.GREF_SPAN_SHIFT);
            postRaw(front, 31, firstRx | 2 << GrantConstants.GREF_SPAN_SHIFT);
            postRaw(front, 32, (lastFrame - 1) | GrantConstants.GREF_PERMANENT | 6 << GrantConstants.GREF_SPAN_SHIFT);
            postRaw(front, 33, 0 | GrantConstants.GREF_PERMANENT | 3 << GrantConstants.GREF_SPAN_SHIFT);
            // the 20 spans NetFront posted come first, then the four forged ones
            source.send(front.domainId(), 24, 100);
            awaitTrue(() -> CounterReadings.read(front.device(), dir, front.domainId()).get(DeviceCounter.ERROR_BAD_GREF) == 4,
                "four bad spans answered as bad grants");
            // the frontend sees responses for requests it never wrote and lets the backend go: its
            // own check, after the backend refused each span without writing a byte
            awaitTrue(() -> { poll(front); return !front.isConnected(); }, "the frontend disconnects");
            assertTrue(front.disconnectReason().contains("more responses than requests"), front.disconnectReason());
        }
    }

    @Test
    void shouldDisconnectABackendWhoseRunCoversMoreThanTheBuffer()
    {
        start(new BackendContext().rxMode(RxMode.FLIP).rxPoolFrames(64));
        try (NetFront front = connect(LAZY))
        {
            source.send(front.domainId(), 1, 100);
            final int frame = awaitLentEntry(front);
            final long entry = front.device().p2m().getLongVolatile(P2mDescriptor.offset(frame));
            // as a broken backend would have written it: eight frames for a buffer of seven
            front.device().p2m().putLongVolatile(P2mDescriptor.offset(frame),
                P2mDescriptor.encode(P2mDescriptor.LENT, P2mDescriptor.seq(entry), P2mDescriptor.frame(entry), 8));
            awaitTrue(() -> { poll(front); return !front.isConnected(); }, "the frontend disconnects");
            assertTrue(front.disconnectReason().contains("covers 8 frames, more than the buffer's 7"), front.disconnectReason());
        }
    }

    @Test
    void shouldRefuseSpansThatCannotHoldTheLargestPacketOrAreTooLong()
    {
        final IllegalArgumentException few = assertThrows(IllegalArgumentException.class,
            () -> frontend("few").rxFrames(16).features(LAZY | Features.RX_SPANS).conclude());
        assertEquals("rxSpanFrames=7 makes rxFrames=16 into 2 buffers of 28672 bytes, too few for a packet of 65535 bytes; "
            + "give more rxFrames or a smaller span", few.getMessage());
        final IllegalArgumentException eight = assertThrows(IllegalArgumentException.class,
            () -> frontend("eight").rxSpanFrames(8).features(LAZY | Features.RX_SPANS).conclude());
        assertEquals("rxSpanFrames=8 must be 1 to 7", eight.getMessage());
        final IllegalArgumentException transientGrants = assertThrows(IllegalArgumentException.class,
            () -> frontend("plain").features(Features.HEADER_SLOTS | Features.RX_SPANS).conclude());
        assertTrue(transientGrants.getMessage().contains("rx-spans needs permanent-grants"), transientGrants.getMessage());
        // without rx-spans the span is not looked at
        frontend("small").rxFrames(16).rxSpanFrames(8).features(LAZY).conclude();
    }

    /** Writes an RX request on Xen's ring behind the NetFront's back, as a broken frontend would. */
    private static void postRaw(final NetFront front, final int id, final int gref)
    {
        final UnsafeBuffer ring = front.device().rxRing();
        final int size = front.device().layout().rxRingEntries();
        final int prod = ring.getIntVolatile(SharedRingDescriptor.REQ_PROD_OFFSET);
        final int at = SharedRingDescriptor.ENTRIES_OFFSET + (prod & (size - 1)) * NetifDescriptor.RX_ENTRY_LENGTH;
        ring.putShort(at + NetifDescriptor.RX_REQ_ID_OFFSET, (short)id);
        ring.putInt(at + NetifDescriptor.RX_REQ_GREF_OFFSET, gref);
        ring.putIntVolatile(SharedRingDescriptor.REQ_PROD_OFFSET, prod + 1);
    }
}

package dev.splitnet.backend;

import dev.splitnet.api.Backend;
import dev.splitnet.api.Features;
import dev.splitnet.api.ForwardingHandler;
import dev.splitnet.api.IdleMode;
import dev.splitnet.api.Packet;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.ReceivedPacket;
import dev.splitnet.api.RxClaim;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import dev.splitnet.mmap.CounterReadings;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.DeviceLayout;
import dev.splitnet.mmap.NetifDescriptor;
import dev.splitnet.mmap.P2mDescriptor;
import dev.splitnet.mmap.SharedRingDescriptor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Lazy receive end to end in one JVM (a real NetBack on its own thread, a real NetFront, the
 * backend's frames a sealed memfd the frontend maps read-only): packets built in backend frames
 * ({@link Backend#claimRx}) reach the frontend lent through its P2M (flip), copied back only when
 * needed (lazy), or copied (copy); every byte is checked, and the counters say which way each
 * buffer went. Bad input from either side gets its counter and a disconnect with a reason.
 */
class LazyReceiveTest
{
    static final long LAZY = Features.DEFAULT | Features.LAZY_RX;

    @TempDir
    Path dir;
    private AgentRunner runner;
    final Source source = new Source();

    @AfterEach
    void stop()
    {
        if (runner != null)
        {
            runner.close();
        }
    }

    /** Lends every claim (copybreak 0), unless the test says otherwise. */
    void start(final BackendContext context)
    {
        startAsIs(context.rxCopybreak(0));
    }

    private void startAsIs(final BackendContext context)
    {
        final NetBack backend = NetBack.launch(context.directory(dir).idleMode(IdleMode.BACKOFF).handler(source));
        runner = new AgentRunner(new BackoffIdleStrategy(), Throwable::printStackTrace, null, backend);
        AgentRunner.startOnThread(runner);
    }

    NetFront connect(final long features)
    {
        // 256 buffers, whatever their frames: as many as TX frames and more, so no echo is dropped
        return NetFront.connect(frontend("lazy").rxFrames(256 * spanFrames()).features(features | extraFeatures()));
    }

    FrontendContext frontend(final String name)
    {
        return new FrontendContext().directory(dir).name(name).txFrames(240);
    }

    /** What every frontend here offers besides the test's features: nothing; {@link RxSpansTest} adds rx-spans. */
    long extraFeatures()
    {
        return 0;
    }

    /** Frames one RX buffer spans: 1 here. */
    int spanFrames()
    {
        return 1;
    }

    /** RX buffers, so P2M entries lent, for a packet of {@code length} bytes: a frame each here. */
    int buffersOf(final int length)
    {
        return Math.max(1, (length + DeviceLayout.PAGE_SIZE - 1) / DeviceLayout.PAGE_SIZE);
    }

    @Test
    void shouldEchoEveryByteThroughLentFramesWithNoCopyInFlipMode()
    {
        start(new BackendContext().rxMode(RxMode.FLIP));
        try (NetFront front = connect(LAZY))
        {
            assertNotEquals(0, front.negotiatedFeatures() & Features.LAZY_RX, "lazy-rx negotiated");
            final EchoTraffic echo = new EchoTraffic(front, new SplittableRandom(21), 65535);
            echo.run(2000);
            echo.assertIntact(2000);
            final CounterReadings counters = CounterReadings.read(front.device(), dir, front.domainId());
            final long flips = counters.get(DeviceCounter.RX_FLIPS);
            assertTrue(flips >= 2000, "every echo's buffers lent, flips=" + flips);
            assertEquals(flips, counters.get(DeviceCounter.RX_LENT_READS), "the frontend read every lent buffer through its P2M");
            // every lent buffer came back uncopied, or is lent still (a buffer lends one frame or more)
            final long outstanding = flips - counters.get(DeviceCounter.RX_COPIES_AVOIDED);
            final long framesLent = counters.get(DeviceCounter.RX_FRAMES_LENT);
            assertTrue(outstanding >= 0 && outstanding <= framesLent && framesLent <= outstanding * spanFrames(),
                "lent " + flips + ", back uncopied " + counters.get(DeviceCounter.RX_COPIES_AVOIDED) + ", frames lent still " + framesLent);
            assertEquals(0, counters.get(DeviceCounter.RX_LAZY_COPIES_PRESSURE) + counters.get(DeviceCounter.RX_LAZY_COPIES_DEADLINE)
                + counters.get(DeviceCounter.RX_LAZY_COPIES_WRITE) + counters.get(DeviceCounter.RX_LENT_DROPPED), "nothing copied or lost");
            // a claim needs consecutive frames: one may find enough free but not in a row, then it is copied
            assertTrue(source.copied < 20, "claims refused for want of consecutive frames=" + source.copied);
            RingV2LoopbackTest.assertAllPostedAgain(front);
        }
    }

    @Test
    void shouldRefuseClaimsForAFrontendWithoutLazyReceiveSoTheyAreDeliveredAsBefore()
    {
        start(new BackendContext().rxMode(RxMode.FLIP));
        try (NetFront front = connect(Features.DEFAULT))
        {
            final EchoTraffic echo = new EchoTraffic(front, new SplittableRandom(22), 9000);
            echo.run(500);
            echo.assertIntact(500);
            assertEquals(500, source.copied, "every claim refused (null), every echo delivered by copy");
            assertEquals(0, CounterReadings.read(front.device(), dir, front.domainId()).get(DeviceCounter.RX_FLIPS));
        }
    }

    @Test
    void shouldCopyClaimsShorterThanTheCopybreakAndLendTheRest()
    {
        // the defaults: lazy mode, copybreak 1024
        startAsIs(new BackendContext());
        try (NetFront front = connect(LAZY))
        {
            source.send(front.domainId(), 20, 1023);
            receiveAll(front, 20).assertIntact(20, 1023);
            final CounterReadings counters = CounterReadings.read(front.device(), dir, front.domainId());
            assertEquals(0, counters.get(DeviceCounter.RX_FLIPS), "below the copybreak: copied");
            assertEquals(20, counters.get(DeviceCounter.RX_DELIVERED));
            source.send(front.domainId(), 20, 1024);
            receiveAll(front, 20).assertIntact(20, 1024);
            assertEquals(20, CounterReadings.read(front.device(), dir, front.domainId()).get(DeviceCounter.RX_FLIPS),
                "at the copybreak: lent");
        }
    }

    @Test
    void shouldDeclineLazyReceiveInCopyMode()
    {
        start(new BackendContext().rxMode(RxMode.COPY));
        try (NetFront front = connect(LAZY))
        {
            assertEquals(Features.DEFAULT | extraFeatures(), front.negotiatedFeatures());
            final EchoTraffic echo = new EchoTraffic(front, new SplittableRandom(23), 9000);
            echo.run(300);
            echo.assertIntact(300);
        }
    }

    @Test
    void shouldCopyIntoTheFrontendsOwnFrameOnceWhenItWritesALentPacket()
    {
        start(new BackendContext().rxMode(RxMode.LAZY));
        try (NetFront front = connect(LAZY))
        {
            final EchoTraffic echo = new EchoTraffic(front, new SplittableRandom(24), 9000);
            final int[] written = new int[1];
            echo.onEachEcho = packet ->
            {
                // write the last byte of each buffer and put it back: the bytes the echo checks are unchanged
                for (int i = 0; i < packet.bufferCount(); i++)
                {
                    final MutableDirectBuffer b = packet.mutableBuffer(i);
                    assertSame(b, packet.mutableBuffer(i), "one writable view per buffer");
                    if (b.capacity() > 0)
                    {
                        final byte last = b.getByte(b.capacity() - 1);
                        b.putByte(b.capacity() - 1, (byte)~last);
                        assertEquals((byte)~last, packet.buffer(i).getByte(b.capacity() - 1), "the packet view sees the write");
                        b.putByte(b.capacity() - 1, last);
                        written[0]++;
                    }
                }
            };
            echo.run(500);
            echo.assertIntact(500);
            final CounterReadings counters = CounterReadings.read(front.device(), dir, front.domainId());
            assertTrue(counters.get(DeviceCounter.RX_LENT_READS) > 0, "buffers read through the P2M");
            assertEquals(counters.get(DeviceCounter.RX_LENT_READS), counters.get(DeviceCounter.RX_LAZY_COPIES_WRITE),
                "each lent buffer written was copied once");
            assertTrue(written[0] >= 500);
            assertEquals(0, counters.get(DeviceCounter.ERROR_P2M), "a taken frame is a move the backend accepts at the repost");
            assertTrue(front.isConnected());
        }
    }

    @Test
    void shouldCopyLentFramesBackWhenTheBackendRunsLowAndStillDeliverEveryByte()
    {
        // 16 backend frames for 256 buffers: a frontend that does not read soon leaves the pool empty
        start(new BackendContext().rxMode(RxMode.LAZY).rxPoolFrames(16));
        try (NetFront front = connect(LAZY))
        {
            source.send(front.domainId(), 60, 3000);
            awaitTrue(() -> source.sent == 60, "60 packets of 3000 B built in 16 frames");
            final CounterReadings counters = CounterReadings.read(front.device(), dir, front.domainId());
            assertTrue(counters.get(DeviceCounter.RX_LAZY_COPIES_PRESSURE) >= 44, "frames copied back to make room="
                + counters.get(DeviceCounter.RX_LAZY_COPIES_PRESSURE));
            final Received received = receiveAll(front, 60);
            received.assertIntact(60, 3000);
            assertTrue(front.isConnected(), "" + front.disconnectReason());
            final CounterReadings after = CounterReadings.read(front.device(), dir, front.domainId());
            assertEquals(60 - after.get(DeviceCounter.RX_LAZY_COPIES_PRESSURE), after.get(DeviceCounter.RX_LENT_READS),
                "packets copied back were read from the frontend's own frames, the others through the P2M");
        }
    }

    @Test
    void shouldCopyLentFramesBackAtTheDeadlineInLazyMode()
    {
        start(new BackendContext().rxMode(RxMode.LAZY).lendDeadlineMs(50));
        try (NetFront front = connect(LAZY))
        {
            source.send(front.domainId(), 10, 5000);
            final CounterReadings[] counters = new CounterReadings[1];
            awaitTrue(() -> (counters[0] = CounterReadings.read(front.device(), dir, front.domainId()))
                .get(DeviceCounter.RX_LAZY_COPIES_DEADLINE) == 10 * buffersOf(5000), "the buffers of 10 packets copied back at the deadline");
            assertEquals(0, counters[0].get(DeviceCounter.RX_FRAMES_LENT));
            final Received received = receiveAll(front, 10);
            received.assertIntact(10, 5000);
            assertEquals(0, CounterReadings.read(front.device(), dir, front.domainId()).get(DeviceCounter.RX_LENT_READS),
                "read from its own frames");
        }
    }

    @Test
    void shouldNotTakeBackAtTheDeadlineWhatTheFrontendPostedAgainInTime() throws Exception
    {
        start(new BackendContext().rxMode(RxMode.LAZY).lendDeadlineMs(100));
        try (NetFront front = connect(LAZY))
        {
            source.send(front.domainId(), 10, 5000);
            receiveAll(front, 10).assertIntact(10, 5000);
            // read and posted again at once; no delivery comes to collect them: housekeeping does
            Thread.sleep(400);
            final CounterReadings counters = CounterReadings.read(front.device(), dir, front.domainId());
            assertEquals(0, counters.get(DeviceCounter.RX_LAZY_COPIES_DEADLINE), "a buffer posted again in time is not taken back");
            assertEquals(0, counters.get(DeviceCounter.RX_FRAMES_LENT), "every frame came back with its repost");
            assertEquals(10 * buffersOf(5000), counters.get(DeviceCounter.RX_COPIES_AVOIDED));
        }
    }

    /**
     * Pressure while the frontend reads: the backend takes lent frames back (LENT to RECLAIMING)
     * while the frontend pins the same entries (LENT to PINNED). Whoever's CAS comes second must
     * see the other's move as legal: an honest frontend is never disconnected for it.
     */
    @Test
    void shouldNeverCallAnHonestFrontendsPinRacingATakeBackAViolation()
    {
        start(new BackendContext().rxMode(RxMode.LAZY).rxPoolFrames(16));
        try (NetFront front = connect(LAZY))
        {
            source.send(front.domainId(), 3000, 3000);
            // a pause now and then leaves the pool empty, so take-backs certainly run while it reads
            final int[] seen = new int[1];
            final Received received = receiveAll(front, 3000, packet ->
            {
                if (++seen[0] % 200 == 0)
                {
                    LockSupport.parkNanos(2_000_000);
                }
            });
            received.assertIntact(3000, 3000);
            assertTrue(front.isConnected(), "" + front.disconnectReason());
            final CounterReadings counters = CounterReadings.read(front.device(), dir, front.domainId());
            assertEquals(0, counters.get(DeviceCounter.ERROR_P2M));
            assertTrue(counters.get(DeviceCounter.RX_LAZY_COPIES_PRESSURE) > 0, "frames taken back under pressure");
            assertTrue(counters.get(DeviceCounter.RX_LENT_READS) > 0, "and frames read where they were lent");
        }
    }

    @Test
    void shouldVoidAClaimWhoseFrontendWentWhileItWasOpenAndServeTheNext()
    {
        final ClaimHolder holder = new ClaimHolder();
        final NetBack backend = NetBack.launch(new BackendContext().rxCopybreak(0).directory(dir).idleMode(IdleMode.BACKOFF).handler(holder));
        runner = new AgentRunner(new BackoffIdleStrategy(), Throwable::printStackTrace, null, backend);
        AgentRunner.startOnThread(runner);
        final NetFront first = connect(LAZY);
        holder.domain = first.domainId();
        awaitTrue(() -> holder.claimed, "a claim opened for the first frontend");
        first.close();
        awaitTrue(() -> !backend.isConnected(holder.domain), "the backend let it go");
        holder.finish = true;
        awaitTrue(() -> holder.status != null, "the claim ended");
        assertEquals(PacketStatus.ERROR, holder.status, "a claim whose frontend went is answered ERROR");
        assertNull(holder.failure, "writing and committing it threw nothing: " + holder.failure);
        try (NetFront second = NetFront.connect(frontend("lazy2").features(LAZY | extraFeatures())))
        {
            holder.domain = second.domainId();
            holder.status = null;
            holder.claimed = false;
            holder.finish = true;
            awaitTrue(() -> holder.status != null, "a claim for the next frontend");
            assertEquals(PacketStatus.OKAY, holder.status);
        }
    }

    /** Opens a claim for {@link #domain} and keeps it open across duty cycles until told to finish it. */
    private static final class ClaimHolder implements ForwardingHandler
    {
        volatile int domain;
        volatile boolean claimed;
        volatile boolean finish;
        volatile PacketStatus status;
        volatile Throwable failure;
        private RxClaim claim;
        private MutableDirectBuffer buffer;

        @Override
        public PacketStatus onPacket(final Backend backend, final Packet packet)
        {
            return PacketStatus.OKAY;
        }

        @Override
        public int onDutyCycle(final Backend backend)
        {
            try
            {
                if (claim == null && domain > 0 && status == null && backend.isConnected(domain))
                {
                    claim = backend.claimRx(domain, 9000);
                    if (claim != null)
                    {
                        buffer = claim.buffer();
                        claimed = true;
                    }
                }
                if (claim != null && finish)
                {
                    finish = false;
                    // the application kept the view: writing it must be harmless even now
                    buffer.setMemory(0, 9000, (byte)7);
                    final RxClaim c = claim;
                    claim = null;
                    status = c.commit();
                }
            }
            catch (final Throwable t)
            {
                failure = t;
                status = PacketStatus.DISCONNECTED;
            }
            return 0;
        }
    }

    @Test
    void shouldDropLentPacketsAtTheDeadlineInFlipModeAndSaySo()
    {
        start(new BackendContext().rxMode(RxMode.FLIP).lendDeadlineMs(50));
        try (NetFront front = connect(LAZY))
        {
            source.send(front.domainId(), 10, 100);
            awaitTrue(() -> CounterReadings.read(front.device(), dir, front.domainId()).get(DeviceCounter.RX_LENT_DROPPED) == 10,
                "10 lent frames taken back uncopied");
            final Received received = receiveAll(front, 0);
            assertEquals(0, received.packets, "a packet whose frame was taken back is dropped, never read");
            assertTrue(front.isConnected());
            // the buffers went back: the next packets are lent again and arrive
            source.send(front.domainId(), 5, 100);
            receiveAll(front, 5).assertIntact(5, 100);
        }
    }

    @Test
    void shouldNeverShowBytesOfAnEarlierPacketPastTheLengthOfTheNextInTheSameFrame()
    {
        start(new BackendContext().rxMode(RxMode.FLIP).rxPoolFrames(1));
        try (NetFront front = connect(LAZY))
        {
            source.send(front.domainId(), 1, 4000);
            receiveAll(front, 1).assertIntact(1, 4000);
            // the frame comes back when the buffer is posted again, seen at the next delivery
            source.send(front.domainId(), 1, 100);
            final List<Integer> capacities = new ArrayList<>();
            final boolean[] refused = new boolean[1];
            final Received received = receiveAll(front, 1, packet ->
            {
                capacities.add(packet.buffer(0).capacity());
                try
                {
                    packet.buffer(0).getByte(100);
                }
                catch (final IndexOutOfBoundsException expected)
                {
                    refused[0] = true;
                }
            });
            received.assertIntact(1, 100);
            assertEquals(List.of(100), capacities, "the view ends at the new packet's length");
            assertTrue(refused[0], "a read past the length is refused");
            assertEquals(2, CounterReadings.read(front.device(), dir, front.domainId()).get(DeviceCounter.RX_FLIPS),
                "both lent, the second in the first's frame");
        }
    }

    @Test
    void shouldRefuseAClaimWhenEveryBackendFrameIsLentInFlipMode()
    {
        start(new BackendContext().rxMode(RxMode.FLIP).rxPoolFrames(2));
        try (NetFront front = connect(LAZY))
        {
            source.send(front.domainId(), 1, 8192);
            receiveAll(front, 1).assertIntact(1, 8192);
            // both frames lent until the buffers are posted again and seen; a 3-frame packet never fits
            source.send(front.domainId(), 1, 9000);
            awaitTrue(() -> CounterReadings.read(front.device(), dir, front.domainId()).get(DeviceCounter.RX_NO_BACKEND_FRAME) > 0,
                "a claim of 3 frames from a pool of 2 refused");
            assertEquals(1, source.sent, "nothing built without frames");
            assertTrue(front.isConnected());
        }
    }

    @Test
    void shouldDisconnectAFrontendThatWritesItsP2mUnderALentFrame()
    {
        start(new BackendContext().rxMode(RxMode.FLIP));
        try (NetFront front = connect(LAZY))
        {
            source.send(front.domainId(), 1, 100);
            final int frame = awaitLentEntry(front);
            // the frontend points the entry back at its own frame behind the backend's back
            front.device().p2m().putLongVolatile(P2mDescriptor.offset(frame), P2mDescriptor.encode(P2mDescriptor.OWN, 0, frame));
            receiveAll(front, 1);
            // the repost is seen at the next delivery
            source.send(front.domainId(), 1, 100);
            awaitTrue(() -> !front.isConnected() || poll(front), "the backend disconnects it");
            awaitTrue(() -> { poll(front); return !front.isConnected(); }, "disconnected");
            final CounterReadings counters = CounterReadings.read(front.device(), dir, front.domainId());
            assertEquals(1, counters.get(DeviceCounter.ERROR_P2M));
        }
    }

    @Test
    void shouldDisconnectAFrontendThatPostsABufferTwice()
    {
        start(new BackendContext().rxMode(RxMode.FLIP));
        // 128 buffers on a 256-entry ring: room for a request the frontend should never write
        try (NetFront front = NetFront.connect(frontend("lazy").rxFrames(128 * spanFrames()).features(LAZY | extraFeatures())))
        {
            // as a broken frontend would: the last buffer posted, posted again behind NetFront's back
            final org.agrona.concurrent.UnsafeBuffer ring = front.device().rxRing();
            final int size = front.device().layout().rxRingEntries();
            final int prod = ring.getIntVolatile(SharedRingDescriptor.REQ_PROD_OFFSET);
            final int last = SharedRingDescriptor.ENTRIES_OFFSET + ((prod - 1) & (size - 1)) * NetifDescriptor.RX_ENTRY_LENGTH;
            final int next = SharedRingDescriptor.ENTRIES_OFFSET + (prod & (size - 1)) * NetifDescriptor.RX_ENTRY_LENGTH;
            ring.putLong(next, ring.getLong(last));
            ring.putIntVolatile(SharedRingDescriptor.REQ_PROD_OFFSET, prod + 1);
            source.send(front.domainId(), 1, 100);
            awaitTrue(() -> { poll(front); return !front.isConnected(); }, "the backend disconnects it");
            assertEquals(1, CounterReadings.read(front.device(), dir, front.domainId()).get(DeviceCounter.ERROR_P2M));
            assertEquals(0, source.sent, "nothing delivered to it");
        }
    }

    @Test
    void shouldDisconnectABackendWhoseP2mEntryPointsPastItsFrames()
    {
        start(new BackendContext().rxMode(RxMode.FLIP).rxPoolFrames(8));
        try (NetFront front = connect(LAZY))
        {
            source.send(front.domainId(), 1, 100);
            final int frame = awaitLentEntry(front);
            final long entry = front.device().p2m().getLongVolatile(P2mDescriptor.offset(frame));
            // as a broken backend would have written it
            front.device().p2m().putLongVolatile(P2mDescriptor.offset(frame),
                P2mDescriptor.encode(P2mDescriptor.LENT, P2mDescriptor.seq(entry), 8));
            awaitTrue(() -> { poll(front); return !front.isConnected(); }, "the frontend disconnects");
            assertTrue(front.disconnectReason().contains("points past the 8 backend frames sent"), front.disconnectReason());
        }
    }

    @Test
    void shouldTakeBackEveryLentFrameWhenTheFrontendGoes() throws Exception
    {
        start(new BackendContext().rxMode(RxMode.FLIP));
        final NetFront front = connect(LAZY);
        final int domain = front.domainId();
        source.send(domain, 10, 9000);
        awaitTrue(() -> CounterReadings.read(front.device(), dir, domain).get(DeviceCounter.RX_FRAMES_LENT) == 30, "30 frames lent");
        final dev.splitnet.mmap.Device device = front.device();
        final CounterReadings before = CounterReadings.read(device, dir, domain);
        assertEquals(30, before.get(DeviceCounter.RX_FRAMES_LENT));
        front.close();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        long lent = -1;
        while (System.nanoTime() - deadline < 0)
        {
            lent = dev.splitnet.mmap.BackendCounters.read(dir).get(domain).get(DeviceCounter.RX_FRAMES_LENT);
            if (lent == 0)
            {
                break;
            }
            Thread.sleep(10);
        }
        assertEquals(0, lent, "every lent frame reclaimed within a second of the frontend going");
    }

    // --- helpers ---

    int awaitLentEntry(final NetFront front)
    {
        final DeviceLayout layout = front.device().layout();
        final int[] found = { -1 };
        awaitTrue(() ->
        {
            for (int f = 0; f < layout.frameCount(); f++)
            {
                if (P2mDescriptor.state(front.device().p2m().getLongVolatile(P2mDescriptor.offset(f))) == P2mDescriptor.LENT)
                {
                    found[0] = f;
                    return true;
                }
            }
            return false;
        }, "a lent P2M entry");
        return found[0];
    }

    static boolean poll(final NetFront front)
    {
        front.poll((id, status) -> { }, packet -> { });
        return false;
    }

    static void awaitTrue(final BooleanSupplier condition, final String what)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                fail("timed out waiting for: " + what);
            }
            Thread.onSpinWait();
        }
    }

    Received receiveAll(final NetFront front, final int packets)
    {
        return receiveAll(front, packets, packet -> { });
    }

    Received receiveAll(final NetFront front, final int packets, final java.util.function.Consumer<ReceivedPacket> look)
    {
        final Received received = new Received();
        // none expected: poll for half a second and see that none comes
        final long deadline = System.nanoTime() + (packets == 0 ? TimeUnit.MILLISECONDS.toNanos(500) : TimeUnit.SECONDS.toNanos(20));
        while (received.packets < packets || (packets == 0 && System.nanoTime() - deadline < 0))
        {
            if (packets > 0 && System.nanoTime() - deadline > 0)
            {
                fail("received " + received.packets + " of " + packets + " packets");
            }
            front.poll((id, status) -> { }, packet ->
            {
                look.accept(packet);
                received.check(packet);
            });
        }
        return received;
    }

    /** Byte {@code i} of source packet {@code seq}: every byte of every packet known to the receiver. */
    static byte patternByte(final int seq, final int i)
    {
        return (byte)(seq * 131 + i * 7 + (i >>> 8));
    }

    /** What the frontend received from the {@link Source}, checked byte for byte. */
    static final class Received
    {
        private final UnsafeBuffer copy = new UnsafeBuffer(new byte[65536]);
        int packets;
        int mismatches;
        int wrongLength;
        int expectedLength = -1;

        void check(final ReceivedPacket packet)
        {
            final int length = packet.copyTo(copy, 0);
            final int seq = copy.getInt(0);
            for (int i = 4; i < length; i++)
            {
                if (copy.getByte(i) != patternByte(seq, i))
                {
                    mismatches++;
                    break;
                }
            }
            if (expectedLength < 0)
            {
                expectedLength = length;
            }
            else if (expectedLength != length)
            {
                wrongLength++;
            }
            packets++;
        }

        void assertIntact(final int count, final int length)
        {
            assertEquals(count, packets);
            assertEquals(0, mismatches, "packets with a byte not as sent");
            assertEquals(0, wrongLength);
            assertEquals(length, expectedLength);
        }
    }

    /**
     * The backend's handler: echoes each packet through an RX claim (the packet copied into
     * backend frames, then lent or copied in), and builds packets of a pattern in backend frames
     * on its duty cycle when asked ({@link #send}).
     */
    static final class Source implements ForwardingHandler
    {
        private final ConcurrentLinkedQueue<int[]> requests = new ConcurrentLinkedQueue<>();
        private int[] current;
        private int nextSeq;
        volatile int sent;
        // claims that could not be had (echoes then copied)
        volatile int copied;

        void send(final int domainId, final int packets, final int length)
        {
            requests.add(new int[] { domainId, packets, length });
        }

        @Override
        public PacketStatus onPacket(final Backend backend, final Packet packet)
        {
            final int length = packet.headerLength() + packet.payloadLength();
            final RxClaim claim = backend.claimRx(packet.domainId(), length);
            if (claim == null)
            {
                copied++;
                return backend.deliver(packet.domainId(), packet);
            }
            final MutableDirectBuffer into = claim.buffer();
            into.putBytes(0, packet.header(), 0, packet.headerLength());
            int at = packet.headerLength();
            for (int i = 0; i < packet.fragmentCount(); i++)
            {
                final DirectBuffer fragment = packet.fragment(i).buffer();
                into.putBytes(at, fragment, 0, fragment.capacity());
                at += fragment.capacity();
            }
            return claim.commit();
        }

        @Override
        public int onDutyCycle(final Backend backend)
        {
            if (current == null)
            {
                current = requests.poll();
                if (current == null)
                {
                    return 0;
                }
            }
            final RxClaim claim = backend.claimRx(current[0], current[2]);
            if (claim == null)
            {
                return 0;
            }
            final MutableDirectBuffer into = claim.buffer();
            into.putInt(0, nextSeq);
            for (int i = 4; i < current[2]; i++)
            {
                into.putByte(i, patternByte(nextSeq, i));
            }
            if (claim.commit() == PacketStatus.OKAY)
            {
                nextSeq++;
                sent++;
                if (--current[1] == 0)
                {
                    current = null;
                }
            }
            return 1;
        }
    }
}

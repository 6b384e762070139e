package dev.splitnet.it;

import dev.splitnet.api.Features;
import dev.splitnet.mmap.RingFormat;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.CounterReadings;

import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.ReceivedPacket;
import dev.splitnet.api.TxClaim;
import dev.splitnet.cli.FragmentSplit;
import dev.splitnet.cli.StreamChecksum;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import dev.splitnet.mmap.NetifLimits;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import static dev.splitnet.it.SplitnetProcess.value;
import static org.junit.jupiter.api.Assertions.*;

/** Packets between a frontend and a backend in different JVMs, every byte checked. */
class CrossProcessTransferIT
{
    @TempDir
    Path dir;

    /**
     * This JVM is the frontend; the backend, another JVM, echoes every packet back (reading every
     * payload byte through the fault path and copying it into our receive buffers). Every packet
     * size from 0 to 65535 bytes, randomly fragmented, comes back byte for byte.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = { "xen-netif", "ring-v2", "lazy-rx", "lazy-rx,rx-spans" })
    void shouldEchoEveryByteOfEveryPacketSizeFromZeroTo65535(final String variant) throws Exception
    {
        final boolean v2 = variant.equals("ring-v2");
        final boolean spans = variant.endsWith("rx-spans");
        final boolean lazy = variant.startsWith("lazy-rx");
        // on ring v2 the backend also fills the receive buffers in a shuffled order; with lazy-rx
        // it echoes each packet in its own frames and lends them (read here through the P2M)
        try (SplitnetProcess backend = v2 ? Backends.start("echo-backend-v2", dir, "--mode", "echo", "--rx-order", "shuffle")
                : lazy ? Backends.start("echo-backend-lazy", dir, "--mode", "echo", "--rx-mode", "lazy")
                : Backends.start("echo-backend", dir, "--mode", "echo");
            // with rx-spans: seven frames a buffer, seven times the frames (the same 256 buffers)
            NetFront front = NetFront.connect(new FrontendContext().directory(dir).name("sweep").txFrames(2048)
                .rxFrames(spans ? 256 * NetifLimits.MAX_RX_SPAN_FRAMES : 256)
                .features(v2 ? Features.DEFAULT | Features.RING_V2 : lazy ? Features.DEFAULT | Features.LAZY_RX | (spans ? Features.RX_SPANS : 0)
                    : Features.DEFAULT)))
        {
            assertEquals(v2 ? "ring-v2" : "xen-netif", RingFormat.of(front.negotiatedFeatures()).label());
            assertEquals(lazy, (front.negotiatedFeatures() & Features.LAZY_RX) != 0, "lazy-rx negotiated only when asked");
            assertEquals(spans, (front.negotiatedFeatures() & Features.RX_SPANS) != 0, "rx-spans negotiated only when asked");
            // the echo needs up to 16 RX buffers per packet in flight (3 spans): so many fit the buffers
            // posted (more would get honest DROPPED echoes, which this test counts as failures)
            final int maxInFlight = front.resourceUsage().rxBuffersPostable() / (spans ? 3 : 16) - 1;
            final int sizes = 65536;
            final long[] expected = new long[sizes];
            final int[] expectedLength = new int[sizes];
            final SplittableRandom random = new SplittableRandom(2007);
            final StreamChecksum tx = new StreamChecksum();
            final StreamChecksum rx = new StreamChecksum();
            final int[] lengths = new int[NetifLimits.MAX_PAYLOAD_FRAGMENTS];
            final long[] counts = new long[4]; // okay, other status, received, mismatches
            int next = 0;
            int sent = 0;
            final long deadline = System.nanoTime() + 120_000_000_000L;
            // until every echo is in and every packet completed (a completion may come after its echo)
            while (counts[2] < sizes || counts[0] + counts[1] < sizes)
            {
                if (sent < sizes && front.inFlight() < maxInFlight)
                {
                    final int packetSize = sent;
                    final int header = Math.min(packetSize, random.nextInt(front.maxHeaderLength() + 1));
                    final int payload = packetSize - header;
                    final int fragments = FragmentSplit.split(random, payload, true, front.maxFragmentLength(), lengths);
                    final TxClaim claim = front.tryClaim(header, lengths, fragments);
                    if (claim != null)
                    {
                        tx.reset();
                        fill(claim.header(), header, random.nextLong());
                        tx.update(claim.header(), 0, header);
                        for (int i = 0; i < fragments; i++)
                        {
                            fill(claim.fragment(i), lengths[i], random.nextLong());
                            tx.update(claim.fragment(i), 0, lengths[i]);
                        }
                        expected[sent] = tx.value();
                        expectedLength[sent] = packetSize;
                        claim.commit(sent);
                        sent++;
                    }
                }
                final int[] nextRef = { next };
                front.poll((id, status) -> counts[status == PacketStatus.OKAY ? 0 : 1]++, (ReceivedPacket packet) ->
                {
                    rx.reset();
                    for (int i = 0; i < packet.bufferCount(); i++)
                    {
                        final DirectBuffer b = packet.buffer(i);
                        rx.update(b, 0, b.capacity());
                    }
                    final int seq = nextRef[0]++;
                    if (packet.length() != expectedLength[seq] || rx.value() != expected[seq])
                    {
                        counts[3]++;
                    }
                    counts[2]++;
                });
                next = nextRef[0];
                assertTrue(System.nanoTime() < deadline, "timed out at " + counts[2] + " of " + sizes + " echoed");
                assertTrue(front.isConnected(), () -> "backend went away: " + backend.stderr());
            }
            assertEquals(sizes, counts[0], "packets completed OKAY");
            assertEquals(0, counts[1], "packets completed otherwise");
            assertEquals(0, counts[3], "echoed packets whose bytes differ");
            if (lazy)
            {
                final CounterReadings counters = CounterReadings.read(front.device(), dir, front.domainId());
                // 65536 packets of up to 16 frames: most buffers lent, each read through the P2M
                assertTrue(counters.get(DeviceCounter.RX_FLIPS) > sizes, "buffers lent=" + counters.get(DeviceCounter.RX_FLIPS));
                assertEquals(counters.get(DeviceCounter.RX_FLIPS), counters.get(DeviceCounter.RX_LENT_READS)
                    + counters.get(DeviceCounter.RX_LAZY_COPIES_PRESSURE) + counters.get(DeviceCounter.RX_LAZY_COPIES_DEADLINE),
                    "every lent buffer read through the P2M, or copied back before it was read");
                assertEquals(0, counters.get(DeviceCounter.ERROR_P2M));
            }
        }
    }

    /**
     * A forwarded payload is pinned, never mapped: zero faults. A read payload faults once per
     * fragment. With a grant per use (header slots only) every fragment maps or pins its grant and
     * releases it; with permanent grants and frame spans (the default) each frame's grant is mapped
     * or pinned once, kept, and reused by every later fragment over it.
     */
    @ParameterizedTest(name = "--features {0}")
    @ValueSource(strings = { "header-slots", "header-slots,permanent-grants,frame-spans" })
    void shouldFaultOncePerReadFragmentAndNeverForForwardedPayload(final String features) throws Exception
    {
        final boolean permanent = features.contains("permanent-grants");
        try (DatagramChannel wire = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0)))
        {
            wire.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 8 << 20);
            final int port = ((InetSocketAddress)wire.getLocalAddress()).getPort();
            final String forwarded;
            try (SplitnetProcess backend = Backends.start("forward-backend", dir, "--mode", "forward", "--egress", "127.0.0.1:" + port);
                SplitnetProcess frontend = SplitnetProcess.start("forward-frontend", "frontend", "--dir", dir.toString(),
                    "--name", "fwd", "--count", "3000", "--min-size", "0", "--max-size", "9000", "--random-fragments",
                    "--window", "16", "--quiet", "--linger", "0", "--features", features))
            {
                wire.configureBlocking(false);
                final ByteBuffer sink = ByteBuffer.allocateDirect(65536);
                while (frontend.isAlive())
                {
                    sink.clear();
                    if (wire.receive(sink) == null)
                    {
                        Thread.sleep(1);
                    }
                }
                assertEquals(0, frontend.waitFor(60), frontend.stderr());
                forwarded = frontend.lastLine();
            }
            assertEquals(3000, value(forwarded, "okay"), forwarded);
            assertEquals(0, value(forwarded, "payload_faults"), "forwarded payload was touched: " + forwarded);
            assertEquals(0, value(forwarded, "grant_maps"), forwarded);
            if (permanent)
            {
                // each TX frame's grant is kept once, when first seen; no per-packet pin or release,
                // and a request whose grants were all kept already counts as a reuse
                final long kept = value(forwarded, "permanent_grants");
                assertTrue(kept > 0 && kept <= 1024, forwarded);
                assertEquals(0, value(forwarded, "grant_pins"), forwarded);
                assertTrue(value(forwarded, "grant_reuses") >= value(forwarded, "fragments_sent") - kept, forwarded);
                assertEquals(0, value(forwarded, "grant_unmaps"), "nothing released while connected: " + forwarded);
            }
            else
            {
                assertEquals(value(forwarded, "fragments_sent"), value(forwarded, "grant_pins"), forwarded);
                assertEquals(value(forwarded, "grant_pins"), value(forwarded, "grant_unmaps"), forwarded);
                assertEquals(0, value(forwarded, "permanent_grants"), forwarded);
            }
            assertEquals(3000, value(forwarded, "egress_packets"), forwarded);
            assertEquals(0, value(forwarded, "payload_bytes_copied"), forwarded);
            assertEquals(3000L * 64, value(forwarded, "header_bytes_copied"), forwarded);
        }

        final String read;
        try (SplitnetProcess backend = Backends.start("verify-backend", dir, "--mode", "verify");
            SplitnetProcess frontend = SplitnetProcess.start("verify-frontend", "frontend", "--dir", dir.toString(),
                "--name", "rd", "--count", "3000", "--min-size", "0", "--max-size", "20000", "--random-fragments",
                "--quiet", "--linger", "0", "--features", features))
        {
            assertEquals(0, frontend.waitFor(60), frontend.stderr());
            read = frontend.lastLine();
        }
        assertEquals(3000, value(read, "okay"), "backend checksum must match for every packet: " + read);
        assertEquals(value(read, "fragments_sent"), value(read, "payload_faults"), "one fault per fragment: " + read);
        if (permanent)
        {
            assertEquals(0, value(read, "grant_maps"), "kept grants are not mapped per packet: " + read);
            assertTrue(value(read, "permanent_grants") > 0 && value(read, "permanent_grants") <= 1024, read);
        }
        else
        {
            assertEquals(value(read, "payload_faults"), value(read, "grant_maps"), read);
        }
        assertEquals(0, value(read, "grant_pins"), read);
    }

    /** Free-running ring indices start just below 2^32 and wrap while packets flow both ways. */
    /** The frontend's offer: today's default, or with ring v2 (the rings in the other format). */
    private static final String DEFAULT_FEATURES = "header-slots,permanent-grants,frame-spans";
    private static final String RING_V2_FEATURES = DEFAULT_FEATURES + ",ring-v2";

    @ParameterizedTest(name = "--features {0}")
    @ValueSource(strings = { DEFAULT_FEATURES, RING_V2_FEATURES })
    void shouldKeepWorkingWhenRingIndicesWrapPast2To32(final String features) throws Exception
    {
        final String summary;
        try (SplitnetProcess backend = Backends.start("wrap-backend", dir, "--mode", "echo");
            SplitnetProcess frontend = SplitnetProcess.start("wrap-frontend", "frontend", "--dir", dir.toString(),
                "--name", "wrap", "--count", "5000", "--min-size", "0", "--max-size", "12000", "--random-fragments",
                "--initial-ring-index", String.valueOf((1L << 32) - 700), "--quiet", "--features", features))
        {
            assertEquals(0, frontend.waitFor(60), frontend.stderr());
            summary = frontend.lastLine();
        }
        assertEquals(5000, value(summary, "okay"), summary);
        assertEquals(5000, value(summary, "received"), summary);
        assertEquals(0, value(summary, "integrity_errors"), summary);
        // the indices started 700 below 2^32: a final index below the start (unsigned) wrapped
        final long start = (1L << 32) - 700;
        assertTrue(value(summary, "tx_req_prod") < start, "the TX ring's req_prod crossed 2^32: " + summary);
        assertTrue(value(summary, "rx_req_prod") < start, "the RX ring's req_prod crossed 2^32: " + summary);
    }

    /** Blocking idle sides sleep on the doorbell socket and are woken by req_event/rsp_event crossings. */
    @ParameterizedTest(name = "--features {0}")
    @ValueSource(strings = { DEFAULT_FEATURES, RING_V2_FEATURES })
    void shouldWakeBlockingSidesThroughDoorbells(final String features) throws Exception
    {
        final String summary;
        try (SplitnetProcess backend = Backends.start("blocking-backend", dir, "--mode", "echo", "--idle", "blocking");
            SplitnetProcess frontend = SplitnetProcess.start("blocking-frontend", "frontend", "--dir", dir.toString(),
                "--name", "sleepy", "--count", "500", "--max-size", "3000", "--window", "1", "--idle", "blocking", "--quiet",
                "--features", features))
        {
            assertEquals(0, frontend.waitFor(60), frontend.stderr());
            summary = frontend.lastLine();
        }
        assertEquals(500, value(summary, "okay"), summary);
        assertEquals(500, value(summary, "received"), summary);
        assertEquals(0, value(summary, "integrity_errors"), summary);
        // One packet at a time: a side that went to sleep before the answer came needs a doorbell.
        // How often that happens depends on how fast the other side answers (a side spins 100 times
        // before it sleeps), so the test asks for many doorbells each way, not one per packet; a
        // lost wake-up would instead stall each packet for the 100 ms select timeout.
        assertTrue(value(summary, "fe_doorbells_sent") >= 50, "frontend woke the backend: " + summary);
        assertTrue(value(summary, "be_doorbells_sent") >= 50, "backend woke the frontend: " + summary);
    }

    /** A busy ring sends no doorbells: spinning sides never arm their events. */
    @ParameterizedTest(name = "--features {0}")
    @ValueSource(strings = { DEFAULT_FEATURES, RING_V2_FEATURES })
    void shouldSendAlmostNoDoorbellsOnABusyRing(final String features) throws Exception
    {
        final String summary;
        try (SplitnetProcess backend = Backends.start("busy-backend", dir, "--mode", "sink", "--idle", "backoff");
            SplitnetProcess frontend = SplitnetProcess.start("busy-frontend", "frontend", "--dir", dir.toString(),
                "--name", "busy", "--count", "100000", "--max-size", "64", "--quiet", "--linger", "0", "--features", features))
        {
            assertEquals(0, frontend.waitFor(60), frontend.stderr());
            summary = frontend.lastLine();
        }
        assertEquals(100_000, value(summary, "okay"), summary);
        assertTrue(value(summary, "fe_doorbells_sent") + value(summary, "be_doorbells_sent") <= 4,
            "only the first crossing of the initial event index rings: " + summary);
    }

    private static void fill(final org.agrona.MutableDirectBuffer buffer, final int length, final long seed)
    {
        long x = seed | 1;
        for (int i = 0; i < length; i++)
        {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            buffer.putByte(i, (byte)x);
        }
    }
}

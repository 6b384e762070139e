package dev.splitnet.backend;

import dev.splitnet.api.Features;
import dev.splitnet.api.GrantConstants;
import dev.splitnet.api.IdleMode;
import dev.splitnet.api.NetifConstants;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.backend.HostileFrontendTest.RawTx;
import dev.splitnet.backend.HostileFrontendTest.Req;
import dev.splitnet.backend.HostileFrontendTest.Rsp;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.CounterReadings;
import dev.splitnet.mmap.DeviceLayout;
import dev.splitnet.mmap.GrantTable;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import static dev.splitnet.api.NetifConstants.NETTXF_SPLITNET_HEADER_SLOT;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The receiver of a forwarded packet is a bystander: whatever the source's grants do, every RX
 * buffer the backend takes from the receiver is answered exactly once, no write hold outlives its
 * copy, and no packet the receiver sees carries bytes of another. A raw source frontend sends
 * packets whose payload grant names a frame outside its device (validation checks flags only, the
 * fault comes at the first touch), and the backend's handler forwards every packet to the receiver.
 */
class RxSourceFaultTest
{
    private static final int PAGE = DeviceLayout.PAGE_SIZE;
    private static final int HEADER_LENGTH = 42;
    private static final int SLOT = 5;
    private static final int GOOD_GREF = 12;
    private static final int BAD_GREF = 13;
    /** More than the receiver's RX ring: a leak of one buffer per bad packet would starve it. */
    private static final int BAD_PACKETS = 300;

    @TempDir
    Path dir;

    private NetBack backend;
    private NetBackRunner runner;
    private NetFront source;
    private NetFront receiver;
    private volatile int receiverDomain;
    private final ConcurrentLinkedQueue<PacketStatus> deliveries = new ConcurrentLinkedQueue<>();

    /** Connects the pair; the receiver offers {@code receiverFeatures}. */
    private void launch(final long receiverFeatures)
    {
        backend = NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BACKOFF)
            .handler(packet ->
            {
                deliveries.add(backend.deliver(receiverDomain, packet));
                return PacketStatus.OKAY;
            }));
        runner = new NetBackRunner(backend, new BackoffIdleStrategy(), Throwable::printStackTrace);
        source = NetFront.connect(new FrontendContext().directory(dir).name("source").connectTimeoutMs(5000));
        receiver = NetFront.connect(new FrontendContext().directory(dir).name("receiver").connectTimeoutMs(5000)
            .features(receiverFeatures));
        receiverDomain = receiver.domainId();
    }

    @AfterEach
    void shutdown()
    {
        if (receiver != null)
        {
            receiver.close();
        }
        if (source != null)
        {
            source.close();
        }
        runner.close();
    }

    /** Sends header + good fragment + fragment over {@code secondGref}; returns the responses. */
    private List<Rsp> send(final RawTx tx, final int secondGref)
    {
        tx.writeHeader(SLOT, 0x5EED0000 | secondGref, HEADER_LENGTH);
        final int total = HEADER_LENGTH + 3000 + 2500;
        return tx.exchange(HostileFrontendTest.chain(
            new Req(SLOT, 0, NETTXF_SPLITNET_HEADER_SLOT, tx.id(), total),
            new Req(GOOD_GREF, 0, 0, tx.id(), 3000),
            new Req(secondGref, 0, 0, tx.id(), 2500)));
    }

    private long expectedCrc(final RawTx tx, final int secondGref)
    {
        final CRC32 crc = new CRC32();
        final byte[] header = new byte[HEADER_LENGTH];
        tx.slots.getBytes(SLOT * tx.slotSize, header);
        crc.update(header);
        final byte[] a = new byte[3000];
        tx.frames.getBytes(GOOD_GREF * PAGE, a);
        crc.update(a);
        final byte[] b = new byte[2500];
        tx.frames.getBytes(secondGref * PAGE, b);
        crc.update(b);
        return crc.getValue();
    }

    @ParameterizedTest(name = "receiver features {0}")
    @ValueSource(longs = {Features.DEFAULT, Features.HEADER_SLOTS})
    void shouldLeaveTheReceiverWholeWhenTheSourceGrantFaultsMidPacket(final long receiverFeatures)
    {
        launch(receiverFeatures);
        final RawTx tx = new RawTx(source);
        tx.grantFrame(GOOD_GREF, (byte)1);
        tx.grantFrame(14, (byte)2);
        // granted, flags valid, but the frame lies outside the device: passes validation, faults at first touch
        tx.grants.grantAccess(BAD_GREF, GrantConstants.BACKEND_DOMAIN_ID, tx.layout.frameCount() + 5, true);
        
        for (int i = 0; i < BAD_PACKETS; i++)
        {
            final List<Rsp> responses = send(tx, BAD_GREF);
            assertEquals(PacketStatus.ERROR, deliveries.poll(), "delivery " + i + " of a faulting source");
            for (final Rsp rsp : responses)
            {
                assertEquals(NetifConstants.NETIF_RSP_ERROR, rsp.status(), "the faulting packet fails at its source");
            }
        }
        assertEquals(BAD_PACKETS, CounterReadings.read(receiver.device(), dir, receiver.domainId()).get(DeviceCounter.RX_SOURCE_ERROR));
        assertEquals(BAD_PACKETS, CounterReadings.read(source.device(), dir, source.domainId()).get(DeviceCounter.ERROR_BAD_GREF), "one bad-gref error per source packet");
        assertEquals(0, CounterReadings.read(receiver.device(), dir, receiver.domainId()).get(DeviceCounter.RX_DELIVERED));

        final int[] received = new int[1];
        final long[] crc = new long[1];
        final UnsafeBuffer copy = new UnsafeBuffer(new byte[65536]);
        receiver.poll((id, status) -> { }, packet ->
        {
            received[0]++;
        });
        assertEquals(0, received[0], "the receiver saw nothing of the faulting packets");

        // the receiver still receives, whole and unspliced, more packets than its ring holds
        for (int i = 0; i < 300; i++)
        {
            for (final Rsp rsp : send(tx, 14))
            {
                assertEquals(NetifConstants.NETIF_RSP_OKAY, rsp.status());
            }
            assertEquals(PacketStatus.OKAY, deliveries.poll(), "delivery " + i);
            final int before = received[0];
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (received[0] == before)
            {
                assertTrue(System.nanoTime() < deadline, "packet " + i + " never reached the receiver");
                receiver.poll((id, status) -> { }, packet ->
                {
                    received[0]++;
                    final int length = packet.copyTo(copy, 0);
                    final CRC32 c = new CRC32();
                    c.update(copy.byteArray(), 0, length);
                    crc[0] = length == HEADER_LENGTH + 5500 ? c.getValue() : -length;
                });
            }
            assertEquals(before + 1, received[0]);
            assertEquals(expectedCrc(tx, 14), crc[0], "packet " + i + " carries exactly its own bytes");
        }
        // no write hold outlives its copy: only kept (permanent) RX grants may still be marked
        final GrantTable receiverGrants = new GrantTable(receiver.device().grantTableBuffer(),
            receiver.device().layout().grantEntries(), receiver.device().layout().frameCount());
        final boolean permanentRx = (receiver.negotiatedFeatures() & Features.PERMANENT_GRANTS) != 0;
        assertEquals((receiverFeatures & Features.PERMANENT_GRANTS) != 0, permanentRx);
        if (!permanentRx)
        {
            for (int gref = 0; gref < receiver.device().layout().grantEntries(); gref++)
            {
                assertEquals(0, receiverGrants.flags(gref) & GrantConstants.GTF_WRITING, "gref " + gref + " still held for writing");
            }
        }
        assertTrue(receiver.isConnected());
        assertTrue(runner.isRunning());
    }
}

package dev.splitnet.backend;

import dev.splitnet.api.Fragment;
import dev.splitnet.api.GrantConstants;
import dev.splitnet.api.IdleMode;
import dev.splitnet.api.NetifConstants;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.backend.HostileFrontendTest.RawTx;
import dev.splitnet.backend.HostileFrontendTest.Req;
import dev.splitnet.backend.HostileFrontendTest.Rsp;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import dev.splitnet.mmap.CounterReadings;
import dev.splitnet.mmap.DeviceCounter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import static dev.splitnet.api.NetifConstants.NETTXF_EXTRA_INFO;
import static dev.splitnet.api.NetifConstants.NETTXF_SPLITNET_HEADER_BY_ID;
import static dev.splitnet.api.NetifConstants.NETTXF_SPLITNET_HEADER_SLOT;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Property tests of TX request validation against a live backend: whatever a frontend puts in a
 * well-chained packet (grefs, offsets, sizes, flags, from edge values and at random), the backend
 * answers every request exactly once with its id, in order, gives the whole packet one status
 * (OKAY or ERROR), moves exactly one error counter for an ERROR and none for an OKAY, holds no
 * grant afterwards but the permanent ones, and never disconnects the frontend for it.
 */
class RequestValidationPropertiesTest
{
    private static final Integer[] GRANTED = {10, 11, 12, 13, 14, 15, 16, 17};
    private static final DeviceCounter[] ERRORS = {
        DeviceCounter.ERROR_BAD_GREF, DeviceCounter.ERROR_BAD_OFFSET, DeviceCounter.ERROR_BAD_SLOT,
        DeviceCounter.ERROR_TOO_MANY_FRAGMENTS, DeviceCounter.ERROR_SIZE_MISMATCH, DeviceCounter.ERROR_UNSUPPORTED,
        DeviceCounter.ERROR_HANDLER, DeviceCounter.ERROR_GRANT_UNSTABLE,
    };

    private static Path dir;
    private static NetBackRunner runner;
    private static NetFront front;
    private static RawTx tx;
    private static int okay;

    @BeforeContainer
    static void connect() throws Exception
    {
        dir = Files.createTempDirectory("splitnet-properties");
        final UnsafeBuffer scratch = new UnsafeBuffer(new byte[65536]);
        // the handler reads every byte, so a grant that passes validation but cannot be taken faults
        final NetBack backend = NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BACKOFF).handler(packet ->
        {
            for (int i = 0; i < packet.fragmentCount(); i++)
            {
                final Fragment fragment = packet.fragment(i);
                fragment.getBytes(0, scratch, 0, fragment.length());
            }
            return PacketStatus.OKAY;
        }));
        runner = new NetBackRunner(backend, new BackoffIdleStrategy(), Throwable::printStackTrace);
        front = NetFront.connect(new FrontendContext().directory(dir).name("properties"));
        tx = new RawTx(front);
        for (final int gref : GRANTED)
        {
            tx.grantFrame(gref, (byte)gref);
        }
        // granted, flags valid, frame outside the device: passes validation, faults at first touch
        tx.grants.grantAccess(18, GrantConstants.BACKEND_DOMAIN_ID, tx.layout.frameCount() + 3, true);
        tx.writeHeader(1, 0x1234, 128);
    }

    @AfterContainer
    static void disconnect()
    {
        // the generators must reach the handler, not only the validator
        System.out.println("request validation properties: " + okay + " packets passed validation and reached the handler");
        assertTrue(okay > 100, "only " + okay + " packets passed validation");
        front.close();
        runner.close();
    }

    @Provide
    Arbitrary<Integer> grefs()
    {
        return Arbitraries.oneOf(
            Arbitraries.of(0, 1, 9, 10, 11, 12, 17, 18, 19, 255, 256, 257, 1279, 1280, 1281, 0x7FFF, 0xFFFF, -1, Integer.MAX_VALUE),
            Arbitraries.of(GRANTED).map(g -> g | GrantConstants.GREF_PERMANENT),
            Arbitraries.integers().between(0, 2000));
    }

    @Provide
    Arbitrary<Integer> u16s()
    {
        return Arbitraries.oneOf(
            Arbitraries.of(0, 1, 18, 19, 20, 64, 127, 128, 129, 4095, 4096, 4097, 0x7FFF, 0x8000, 0xFFFF),
            Arbitraries.integers().between(0, 0xFFFF));
    }

    @Provide
    Arbitrary<Integer> firstFlags()
    {
        return Arbitraries.of(0, NETTXF_SPLITNET_HEADER_SLOT, NETTXF_SPLITNET_HEADER_SLOT, NETTXF_SPLITNET_HEADER_BY_ID,
            NETTXF_SPLITNET_HEADER_SLOT | NETTXF_SPLITNET_HEADER_BY_ID, NETTXF_EXTRA_INFO, NetifConstants.NETTXF_CSUM_BLANK);
    }

    @Provide
    Arbitrary<List<int[]>> payloads()
    {
        final Arbitrary<int[]> request = Combinators.combine(grefs(), u16s(), u16s(),
            Arbitraries.of(0, 0, 0, NETTXF_SPLITNET_HEADER_SLOT, NETTXF_EXTRA_INFO))
            .as((gref, offset, size, flags) -> new int[] {gref, offset, size, flags});
        return request.list().ofMinSize(0).ofMaxSize(20);
    }

    /**
     * Well-formed packets (a header slot, fragments over granted frames that fit, sizes that add
     * up), one in two with one field then set to an edge value: these reach the deep paths
     * (permanent grants, spans, the handler's faults) that fully random packets rarely pass.
     */
    @Provide
    Arbitrary<List<int[]>> nearlyValidPackets()
    {
        final Arbitrary<int[]> fragment = Combinators.combine(
            Arbitraries.of(10, 11, 12, 13, 14, 15, 16, 17, 18, 18 | GrantConstants.GREF_PERMANENT, 12 | GrantConstants.GREF_PERMANENT),
            Arbitraries.integers().between(0, 2048), Arbitraries.integers().between(0, 2048))
            .as((gref, offset, size) -> new int[] {gref, offset, size, 0});
        final Arbitrary<List<int[]>> fragments = fragment.list().ofMinSize(0).ofMaxSize(19);
        final Arbitrary<Integer> headerLength = Arbitraries.integers().between(0, 128);
        final Arbitrary<int[]> mutation = Combinators.combine(Arbitraries.integers().between(-1, 19),
            Arbitraries.integers().between(0, 3), u16s()).as((index, field, value) -> new int[] {index, field, value});
        return Combinators.combine(fragments, headerLength, mutation).as((frags, header, mutate) ->
        {
            final List<int[]> packet = new ArrayList<>(frags.size() + 1);
            int total = header;
            for (final int[] f : frags)
            {
                total += f[2];
            }
            packet.add(new int[] {1, 0, Math.min(total, 0xFFFF), NETTXF_SPLITNET_HEADER_SLOT});
            packet.addAll(frags);
            final int index = mutate[0];
            if (index >= 0 && index < packet.size())
            {
                packet.get(index)[mutate[1]] = mutate[2];
            }
            return packet;
        });
    }

    @Provide
    Arbitrary<List<int[]>> randomPackets()
    {
        return Combinators.combine(Combinators.combine(grefs(), u16s(), u16s(), firstFlags())
            .as((gref, offset, size, flags) -> new int[] {gref, offset, size, flags}), payloads())
            .as((first, rest) ->
            {
                final List<int[]> packet = new ArrayList<>(rest.size() + 1);
                packet.add(first);
                packet.addAll(rest);
                return packet;
            });
    }

    @Provide
    Arbitrary<List<int[]>> packets()
    {
        return Arbitraries.oneOf(randomPackets(), nearlyValidPackets());
    }

    /** Each packet: {gref, offset, size, flags} per request; the chain's more_data flags are set when sent. */
    @Property(tries = 4000)
    void everyRequestIsAnsweredOnceAndABadPacketMovesOneErrorCounter(@ForAll("packets") final List<int[]> packet)
    {
        final long[] before = errorCounts();
        final List<Req> requests = new ArrayList<>(packet.size());
        for (final int[] r : packet)
        {
            requests.add(new Req(r[0], r[1], r[3] & ~NetifConstants.NETTXF_MORE_DATA, tx.id(), r[2] & 0xFFFF));
        }
        // exchange checks one response per request, with the request's id, in order
        final List<Rsp> responses = tx.exchange(HostileFrontendTest.chain(requests.toArray(new Req[0])));
        final int status = responses.get(0).status();
        for (final Rsp rsp : responses)
        {
            assertEquals(status, rsp.status(), "one status for the whole packet");
        }
        assertTrue(status == NetifConstants.NETIF_RSP_OKAY || status == NetifConstants.NETIF_RSP_ERROR, "status " + status);
        final long[] after = errorCounts();
        long moved = 0;
        for (int i = 0; i < ERRORS.length; i++)
        {
            moved += after[i] - before[i];
        }
        assertEquals(status == NetifConstants.NETIF_RSP_ERROR ? 1 : 0, moved, "error counters moved for a packet of status " + status);
        if (status == NetifConstants.NETIF_RSP_OKAY)
        {
            okay++;
        }
        tx.assertNoGrantHeld();
        assertEquals(0, CounterReadings.read(front.device(), dir, front.domainId()).get(DeviceCounter.ERROR_FATAL),
            "a well-chained packet never disconnects its frontend");
    }

    private static long[] errorCounts()
    {
        final CounterReadings readings = CounterReadings.read(front.device(), dir, front.domainId());
        final long[] counts = new long[ERRORS.length];
        for (int i = 0; i < ERRORS.length; i++)
        {
            counts[i] = readings.get(ERRORS[i]);
        }
        return counts;
    }
}

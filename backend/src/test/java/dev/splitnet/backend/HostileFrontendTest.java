package dev.splitnet.backend;

import dev.splitnet.api.Features;
import dev.splitnet.api.Fragment;
import dev.splitnet.api.GrantConstants;
import dev.splitnet.api.IdleMode;
import dev.splitnet.api.NetifConstants;
import dev.splitnet.api.Packet;
import dev.splitnet.api.PacketHandler;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.SendResult;
import dev.splitnet.api.XenbusState;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.CounterReadings;
import dev.splitnet.mmap.DeviceLayout;
import dev.splitnet.mmap.GrantTable;
import dev.splitnet.mmap.NetifLimits;
import dev.splitnet.mmap.NetifV2Entries;
import dev.splitnet.mmap.RingFormat;
import dev.splitnet.mmap.RingV2Descriptor;
import dev.splitnet.mmap.SharedRingDescriptor;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import static dev.splitnet.api.NetifConstants.NETTXF_EXTRA_INFO;
import static dev.splitnet.api.NetifConstants.NETTXF_MORE_DATA;
import static dev.splitnet.api.NetifConstants.NETTXF_SPLITNET_HEADER_BY_ID;
import static dev.splitnet.api.NetifConstants.NETTXF_SPLITNET_HEADER_SLOT;
import static dev.splitnet.mmap.NetifDescriptor.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A frontend that writes raw netif TX requests straight into its shared TX ring, as a buggy or
 * malicious guest could, against a real {@link NetBack} running on its own thread. Bad packets
 * must get an error response for every request and bump exactly one error counter; protocol
 * violations must disconnect the offender and nobody else.
 */
class HostileFrontendTest
{
    private static final long DEADLINE_NS = TimeUnit.SECONDS.toNanos(10);
    private static final int PAGE = DeviceLayout.PAGE_SIZE;

    /** First header int of a packet whose handler must revoke a payload grant before reading. */
    private static final int MAGIC_REVOKE_BEFORE_TOUCH = 0x52564B31;
    /** First header int of a packet whose handler reads payload, then tries to revoke the held grant. */
    private static final int MAGIC_REVOKE_WHILE_HELD = 0x52564B32;
    /** First header int of a packet whose handler throws a RuntimeException. */
    private static final int MAGIC_THROW_RUNTIME = 0x54485231;
    /** First header int of a packet whose handler throws an Error. */
    private static final int MAGIC_THROW_ERROR = 0x54485232;

    /** Backend-side error counters: each bad packet must move exactly one of them. */
    private static final DeviceCounter[] ERROR_COUNTERS = {
        DeviceCounter.ERROR_BAD_GREF, DeviceCounter.ERROR_BAD_OFFSET, DeviceCounter.ERROR_BAD_SLOT,
        DeviceCounter.ERROR_TOO_MANY_FRAGMENTS, DeviceCounter.ERROR_SIZE_MISMATCH, DeviceCounter.ERROR_UNSUPPORTED,
        DeviceCounter.ERROR_HANDLER, DeviceCounter.ERROR_FATAL,
    };

    @TempDir
    Path dir;

    private NetBack backend;
    private NetBackRunner runner;
    private final List<NetFront> fronts = new ArrayList<>();

    // written by the handler on the backend thread, read by the test thread
    private final AtomicLong lastCrc = new AtomicLong(-1);
    private final AtomicInteger lastLength = new AtomicInteger(-1);
    private final AtomicInteger handled = new AtomicInteger();
    private volatile GrantTable revokeTable;
    private volatile int revokeGref = -1;
    private final AtomicInteger revokeResult = new AtomicInteger(-1);

    @BeforeEach
    void launch()
    {
        // a fragment may span frames (feature frame-spans): room for the largest
        final UnsafeBuffer scratch = new UnsafeBuffer(new byte[65536]);
        final PacketHandler handler = packet -> onPacket(packet, scratch);
        // file-backed devices allowed too: the truncation case needs one
        backend = NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BACKOFF).handler(handler).allowFileMemory(true));
        runner = new NetBackRunner(backend, new BackoffIdleStrategy(), Throwable::printStackTrace);
    }

    @AfterEach
    void shutdown()
    {
        for (final NetFront front : fronts)
        {
            front.close();
        }
        if (runner != null)
        {
            runner.close();
        }
    }

    /** The backend's handler: reads every byte through the lazy fragments and records a CRC. */
    private PacketStatus onPacket(final Packet packet, final UnsafeBuffer scratch)
    {
        handled.incrementAndGet();
        final int magic = packet.headerLength() >= 4 ? packet.header().getInt(0) : 0;
        if (magic == MAGIC_THROW_RUNTIME)
        {
            throw new IllegalStateException("handler failure injected by the test");
        }
        if (magic == MAGIC_THROW_ERROR)
        {
            throw new AssertionError("handler Error injected by the test");
        }
        if (magic == MAGIC_REVOKE_BEFORE_TOUCH)
        {
            // The frontend revokes after validation, before the backend touched (mapped) the payload.
            revokeResult.set(revokeTable.endForeignAccess(revokeGref) ? 1 : 0);
        }
        final CRC32 crc = new CRC32();
        final byte[] bytes = scratch.byteArray();
        packet.header().getBytes(0, bytes, 0, packet.headerLength());
        crc.update(bytes, 0, packet.headerLength());
        for (int i = 0; i < packet.fragmentCount(); i++)
        {
            final Fragment fragment = packet.fragment(i);
            fragment.getBytes(0, scratch, 0, fragment.length());
            crc.update(bytes, 0, fragment.length());
            if (magic == MAGIC_REVOKE_WHILE_HELD && i == 0)
            {
                // Mapped and held now: the granter cannot end access under the backend.
                revokeResult.set(revokeTable.endForeignAccess(revokeGref) ? 1 : 0);
            }
        }
        lastLength.set(packet.headerLength() + packet.payloadLength());
        lastCrc.set(crc.getValue());
        return PacketStatus.OKAY;
    }

    NetFront connect(final String name)
    {
        return connect(new FrontendContext().directory(dir).name(name).connectTimeoutMs(5000));
    }

    /** Features every frontend of the class offers on top of its own: none here, ring v2 in {@link HostileFrontendRingV2Test}. */
    protected long ringFeatures()
    {
        return 0;
    }

    private NetFront connect(final FrontendContext context)
    {
        final NetFront front = NetFront.connect(context.features(context.features() | ringFeatures()));
        fronts.add(front);
        return front;
    }

    /** The frontend's counters, read afresh at each get: its own from its device file, the backend's from the backend's file. */
    LiveCounters counters(final NetFront front)
    {
        return counter -> CounterReadings.read(front.device(), dir, front.domainId()).get(counter);
    }

    /** A counter reader that reads at each call. */
    @FunctionalInterface
    interface LiveCounters
    {
        long get(DeviceCounter counter);
    }

    private Map<DeviceCounter, Long> errorSnapshot(final NetFront front)
    {
        final LiveCounters counters = counters(front);
        final Map<DeviceCounter, Long> snapshot = new EnumMap<>(DeviceCounter.class);
        for (final DeviceCounter c : ERROR_COUNTERS)
        {
            snapshot.put(c, counters.get(c));
        }
        return snapshot;
    }

    /** Asserts that {@code expected} went up by exactly one and no other error counter moved. */
    private void assertOnlyCounterBumped(final NetFront front, final Map<DeviceCounter, Long> before, final DeviceCounter expected)
    {
        final Map<DeviceCounter, Long> after = errorSnapshot(front);
        for (final DeviceCounter c : ERROR_COUNTERS)
        {
            final long delta = after.get(c) - before.get(c);
            assertEquals(c == expected ? 1 : 0, delta, "counter " + c.key() + " delta");
        }
    }

    static void await(final BooleanSupplier condition, final String what)
    {
        final long deadline = System.nanoTime() + DEADLINE_NS;
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                fail("timed out waiting for " + what);
            }
            Thread.yield();
        }
    }

    // ---------------------------------------------------------------------------------------
    // A hostile peer writing the TX ring of a connected NetFront directly
    // ---------------------------------------------------------------------------------------

    /** One raw netif_tx_request. */
    record Req(int gref, int offset, int flags, int id, int size)
    {
    }

    /** One raw netif_tx_response. */
    record Rsp(int id, int status)
    {
    }

    /**
     * Owns the TX ring of a NetFront that has not sent anything: produces requests, publishes
     * req_prod, and consumes the responses the backend writes into the same slots.
     */
    static final class RawTx
    {
        final NetFront front;
        final UnsafeBuffer sring;
        final int size;
        final int mask;
        final GrantTable grants;
        final UnsafeBuffer slots;
        final int slotSize;
        final int slotCount;
        final UnsafeBuffer frames;
        final DeviceLayout layout;
        // ring v2: requests and responses in rings of their own, each entry's word tagged with its lap
        final boolean v2;
        final int responses;
        final int shift;
        // ring v2: the first word of the batch being written, stored at publish (as RingV2Producer)
        long heldWord;
        int heldWordAt = -1;
        int reqProd;
        int rspCons;
        int nextId;
        // grefs sent with GREF_PERMANENT: the backend may keep them (their in-use flag stays set)
        final java.util.Set<Integer> permanent = new java.util.HashSet<>();

        RawTx(final NetFront front)
        {
            this.front = front;
            this.layout = front.device().layout();
            this.sring = front.device().txRing();
            this.v2 = RingFormat.of(front.negotiatedFeatures()) == RingFormat.V2;
            this.size = v2 ? RingFormat.V2.entries(layout.ringBytes(), true) : layout.txRingEntries();
            this.mask = size - 1;
            this.shift = Integer.numberOfTrailingZeros(size);
            this.responses = RingV2Descriptor.responsesOffset(size, RingV2Descriptor.TX_REQUEST_LENGTH);
            this.grants = new GrantTable(front.device().grantTableBuffer(), layout.grantEntries(), layout.frameCount());
            this.slots = front.device().headerSlots();
            this.slotSize = layout.headerSlotSize();
            this.slotCount = layout.headerSlotCount();
            this.frames = front.device().frames();
            if (v2)
            {
                // nothing sent yet: the rings are as the frontend laid them out
                this.reqProd = front.device().initialRingIndex();
                this.rspCons = reqProd;
                assertEquals(reqProd, sring.getIntVolatile(RingV2Descriptor.REQ_CONS_OFFSET), "the NetFront must not have sent anything");
            }
            else
            {
                this.reqProd = sring.getIntVolatile(SharedRingDescriptor.REQ_PROD_OFFSET);
                this.rspCons = sring.getIntVolatile(SharedRingDescriptor.RSP_PROD_OFFSET);
                assertEquals(reqProd, rspCons, "the NetFront must not have sent anything on the TX ring");
            }
        }

        int id()
        {
            return nextId++ & 0xFFFF;
        }

        /** Grants TX frame {@code gref} (gref == frame, as NetFront does) read-only to the backend and fills it. */
        void grantFrame(final int gref, final byte seed)
        {
            for (int i = 0; i < PAGE; i++)
            {
                frames.putByte(gref * PAGE + i, (byte)(seed + i * 31));
            }
            grants.grantAccess(gref, GrantConstants.BACKEND_DOMAIN_ID, gref, true);
        }

        void writeHeader(final int slot, final int magic, final int length)
        {
            for (int i = 0; i < length; i++)
            {
                slots.putByte(slot * slotSize + i, (byte)(i * 7 + slot));
            }
            if (length >= 4)
            {
                slots.putInt(slot * slotSize, magic);
            }
        }

        /** Writes requests at the private producer; publishes nothing. */
        void write(final List<Req> requests)
        {
            for (final Req r : requests)
            {
                if ((r.gref() & GrantConstants.GREF_PERMANENT) != 0 && (r.flags() & NETTXF_SPLITNET_HEADER_SLOT) == 0)
                {
                    final int first = r.gref() & GrantConstants.GREF_MASK;
                    for (int g = first; g < Math.min(first + 1 + (r.offset() + r.size()) / PAGE, layout.grantEntries()); g++)
                    {
                        permanent.add(g);
                    }
                }
                if (v2)
                {
                    writeV2(r);
                    continue;
                }
                final int offset = SharedRingDescriptor.entryOffset(reqProd++, mask, TX_ENTRY_LENGTH);
                sring.putInt(offset + TX_REQ_GREF_OFFSET, r.gref());
                sring.putShort(offset + TX_REQ_OFFSET_OFFSET, (short)r.offset());
                sring.putShort(offset + TX_REQ_FLAGS_OFFSET, (short)r.flags());
                sring.putShort(offset + TX_REQ_ID_OFFSET, (short)r.id());
                sring.putShort(offset + TX_REQ_SIZE_OFFSET, (short)r.size());
            }
        }

        /** Ring v2: head fields plain, then the tagged word with a release store; a batch's first word is held for publish. */
        private void writeV2(final Req r)
        {
            final int at = RingV2Descriptor.ENTRIES_OFFSET + (reqProd & mask) * RingV2Descriptor.TX_REQUEST_LENGTH;
            NetifV2Entries.TxRequest.writeHead(sring, at, r.gref(), r.offset(), r.flags());
            final long word = NetifV2Entries.TxRequest.word(r.id(), r.size()) | (long)RingV2Descriptor.tag(reqProd, shift) << RingV2Descriptor.TAG_SHIFT;
            reqProd++;
            if (heldWordAt < 0)
            {
                heldWordAt = at + NetifV2Entries.TX_REQUEST_WORD_OFFSET;
                heldWord = word;
            }
            else
            {
                sring.putLongRelease(at + NetifV2Entries.TX_REQUEST_WORD_OFFSET, word);
            }
        }

        /** Makes everything written visible: one volatile store of req_prod (ring v2: the batch's first word). */
        void publish()
        {
            if (v2)
            {
                if (heldWordAt >= 0)
                {
                    sring.putLongRelease(heldWordAt, heldWord);
                    heldWordAt = -1;
                }
                return;
            }
            sring.putIntVolatile(SharedRingDescriptor.REQ_PROD_OFFSET, reqProd);
        }

        /** Publishes an impossible producer: req_prod past the ring (ring v2: the next entry tagged a lap ahead). */
        void publishPastTheRing()
        {
            if (v2)
            {
                sring.putLongVolatile(RingV2Descriptor.ENTRIES_OFFSET + (reqProd & mask) * RingV2Descriptor.TX_REQUEST_LENGTH
                    + NetifV2Entries.TX_REQUEST_WORD_OFFSET, (long)RingV2Descriptor.tag(reqProd + size, shift) << RingV2Descriptor.TAG_SHIFT);
                return;
            }
            sring.putIntVolatile(SharedRingDescriptor.REQ_PROD_OFFSET, rspCons + size + 1);
        }

        /** Publishes a producer gone backwards: req_prod behind (ring v2: the next entry's ownership tag flipped). */
        void publishBackwards()
        {
            if (v2)
            {
                sring.putLongVolatile(RingV2Descriptor.ENTRIES_OFFSET + (reqProd & mask) * RingV2Descriptor.TX_REQUEST_LENGTH
                    + NetifV2Entries.TX_REQUEST_WORD_OFFSET, (long)(RingV2Descriptor.tag(reqProd, shift) ^ 0x8000) << RingV2Descriptor.TAG_SHIFT);
                return;
            }
            sring.putIntVolatile(SharedRingDescriptor.REQ_PROD_OFFSET, rspCons - 1);
        }

        /** Requests answered so far: rsp_prod (ring v2: rsp_cons plus the ids of the responses written past it). */
        int rspProd()
        {
            if (v2)
            {
                int answered = rspCons;
                for (int i = rspCons; i - rspCons < size; i++)
                {
                    final long word = sring.getLongVolatile(responses + (i & mask) * RingV2Descriptor.RESPONSE_LENGTH);
                    if ((int)(word >>> RingV2Descriptor.TAG_SHIFT) != RingV2Descriptor.tag(i, shift))
                    {
                        break;
                    }
                    answered += NetifV2Entries.TxResponse.run(word);
                }
                return answered;
            }
            return sring.getIntVolatile(SharedRingDescriptor.RSP_PROD_OFFSET);
        }

        /** Waits for {@code n} responses and consumes them. */
        List<Rsp> awaitResponses(final int n)
        {
            await(() -> rspProd() - rspCons >= n, n + " TX responses");
            assertEquals(n, rspProd() - rspCons, "the backend answered more requests than were published");
            final List<Rsp> responses = new ArrayList<>(n);
            if (v2)
            {
                // one entry per run of ids; rspCons counts entries, the ids are expanded here
                while (responses.size() < n)
                {
                    final long word = sring.getLongVolatile(this.responses + (rspCons & mask) * RingV2Descriptor.RESPONSE_LENGTH);
                    rspCons++;
                    for (int k = 0; k < NetifV2Entries.TxResponse.run(word); k++)
                    {
                        responses.add(new Rsp((NetifV2Entries.TxResponse.id(word) + k) & 0xFFFF, NetifV2Entries.TxResponse.status(word)));
                    }
                }
                // the response slots are free again (the backend has no room for more otherwise)
                sring.putIntRelease(RingV2Descriptor.RSP_CONS_OFFSET, rspCons);
                return responses;
            }
            for (int i = 0; i < n; i++)
            {
                final int offset = SharedRingDescriptor.entryOffset(rspCons++, mask, TX_ENTRY_LENGTH);
                responses.add(new Rsp(sring.getShort(offset + TX_RSP_ID_OFFSET) & 0xFFFF, sring.getShort(offset + TX_RSP_STATUS_OFFSET)));
            }
            return responses;
        }

        /** Sends a chain and returns its responses, checking there is one per request, with the request's id, in order. */
        List<Rsp> exchange(final List<Req> requests)
        {
            write(requests);
            publish();
            final List<Rsp> responses = awaitResponses(requests.size());
            for (int i = 0; i < requests.size(); i++)
            {
                assertEquals(requests.get(i).id(), responses.get(i).id(), "response " + i + " id");
            }
            return responses;
        }

        /** Asserts no grant entry is still held (reading or writing) by the backend, but those sent as permanent. */
        void assertNoGrantHeld()
        {
            for (int gref = 0; gref < layout.grantEntries(); gref++)
            {
                if (permanent.contains(gref))
                {
                    continue;
                }
                assertEquals(0, grants.flags(gref) & (GrantConstants.GTF_READING | GrantConstants.GTF_WRITING),
                    "gref " + gref + " still held by the backend between packets");
            }
        }
    }

    /** A chain: MORE_DATA on every request but the last (the caller's flags are OR-ed in). */
    static List<Req> chain(final Req... requests)
    {
        final List<Req> list = new ArrayList<>(requests.length);
        for (int i = 0; i < requests.length; i++)
        {
            final Req r = requests[i];
            final int more = i + 1 < requests.length ? NETTXF_MORE_DATA : 0;
            list.add(new Req(r.gref(), r.offset(), r.flags() | more, r.id(), r.size()));
        }
        return list;
    }

    static final int GOOD_SLOT = 3;
    static final int GOOD_GREF_A = 10;
    static final int GOOD_GREF_B = 11;
    static final int HEADER_LENGTH = 42;

    /**
     * A well-formed packet through a header slot and two fragments; asserts OKAY on both
     * responses and that the handler saw exactly the bytes the frontend wrote.
     */
    private void sendGoodRawPacket(final RawTx tx)
    {
        sendGoodRawPacket(tx, GOOD_SLOT, 0x600D600D, new int[] {GOOD_GREF_A, GOOD_GREF_B}, new int[] {100, 1500});
    }

    private void sendGoodRawPacket(final RawTx tx, final int slot, final int magic, final int[] grefs, final int[] sizes)
    {
        tx.writeHeader(slot, magic, HEADER_LENGTH);
        final CRC32 crc = new CRC32();
        final byte[] header = new byte[HEADER_LENGTH];
        tx.slots.getBytes(slot * tx.slotSize, header);
        crc.update(header);
        final Req[] requests = new Req[1 + grefs.length];
        int total = HEADER_LENGTH;
        for (int i = 0; i < grefs.length; i++)
        {
            tx.grantFrame(grefs[i], (byte)(grefs[i] + i));
            final int offset = 64 * (i % 3);
            final byte[] payload = new byte[sizes[i]];
            tx.frames.getBytes(grefs[i] * PAGE + offset, payload);
            crc.update(payload);
            requests[i + 1] = new Req(grefs[i], offset, 0, tx.id(), sizes[i]);
            total += sizes[i];
        }
        requests[0] = new Req(slot, 0, NETTXF_SPLITNET_HEADER_SLOT, tx.id(), total);
        final List<Rsp> responses = tx.exchange(chain(requests));
        for (final Rsp r : responses)
        {
            assertEquals(NetifConstants.NETIF_RSP_OKAY, r.status(), "good packet response status");
        }
        assertEquals(total, lastLength.get());
        assertEquals(crc.getValue(), lastCrc.get(), "the handler saw other bytes than the frontend wrote");
        tx.assertNoGrantHeld();
    }

    // ---------------------------------------------------------------------------------------
    // Bad packets: error responses, one counter, and the ring keeps working
    // ---------------------------------------------------------------------------------------

    /**
     * A bad packet: the requests it is made of, the counter it must bump, and whether it passes
     * validation and fails only in the handler (a grant whose frame is checked when it is mapped).
     */
    record BadPacket(String name, DeviceCounter counter, boolean reachesHandler, Function<RawTx, List<Req>> build)
    {
        @Override
        public String toString()
        {
            return name;
        }
    }

    static Stream<Arguments> badPackets()
    {
        return Stream.of(
            bad("gref outside the grant table", DeviceCounter.ERROR_BAD_GREF, tx ->
                headerPlus(tx, new Req(tx.layout.grantEntries(), 0, 0, tx.id(), 100))),
            bad("negative gref (0xFFFFFFFF)", DeviceCounter.ERROR_BAD_GREF, tx ->
                headerPlus(tx, new Req(-1, 0, 0, tx.id(), 100))),
            bad("gref not granted (flags 0)", DeviceCounter.ERROR_BAD_GREF, tx ->
            {
                tx.grants.endForeignAccess(20);
                assertEquals(GrantConstants.GTF_INVALID, tx.grants.flags(20));
                return headerPlus(tx, new Req(20, 0, 0, tx.id(), 100));
            }),
            bad("grant for another domain", DeviceCounter.ERROR_BAD_GREF, tx ->
            {
                tx.grants.grantAccess(21, 7, 21, true);
                return headerPlus(tx, new Req(21, 0, 0, tx.id(), 100));
            }),
            bad("grant entry of type accept-transfer", DeviceCounter.ERROR_BAD_GREF, tx ->
            {
                tx.front.device().grantTableBuffer().putIntVolatile(22 * 8, GrantConstants.GTF_ACCEPT_TRANSFER);
                return headerPlus(tx, new Req(22, 0, 0, tx.id(), 100));
            }),
            badAtHandler("granted frame outside the device (fails when the handler maps it)", DeviceCounter.ERROR_BAD_GREF, tx ->
            {
                tx.grants.grantAccess(23, GrantConstants.BACKEND_DOMAIN_ID, tx.layout.frameCount(), true);
                return headerPlus(tx, new Req(23, 0, 0, tx.id(), 100));
            }),
            bad("offset+size past the 4096-byte frame", DeviceCounter.ERROR_BAD_OFFSET, tx ->
            {
                tx.grantFrame(24, (byte)1);
                return headerPlus(tx, new Req(24, 4000, 0, tx.id(), 97));
            }),
            bad("offset 0xFFFF and size 0xFFFF", DeviceCounter.ERROR_BAD_OFFSET, tx ->
            {
                tx.grantFrame(24, (byte)1);
                return headerPlus(tx, new Req(24, 0xFFFF, 0, tx.id(), 0xFFFF));
            }),
            bad("header slot index out of range", DeviceCounter.ERROR_BAD_SLOT, tx ->
                chain(new Req(tx.slotCount, 0, NETTXF_SPLITNET_HEADER_SLOT, tx.id(), 60))),
            bad("negative header slot index", DeviceCounter.ERROR_BAD_SLOT, tx ->
                chain(new Req(Integer.MIN_VALUE, 0, NETTXF_SPLITNET_HEADER_SLOT, tx.id(), 60))),
            bad("header longer than its slot", DeviceCounter.ERROR_BAD_OFFSET, tx ->
                chain(new Req(0, 0, NETTXF_SPLITNET_HEADER_SLOT, tx.id(), tx.slotSize + 1))),
            bad("header offset+length past its slot", DeviceCounter.ERROR_BAD_OFFSET, tx ->
            {
                tx.grantFrame(25, (byte)2);
                return chain(new Req(0, tx.slotSize - 10, NETTXF_SPLITNET_HEADER_SLOT, tx.id(), 11 + 200),
                    new Req(25, 0, 0, tx.id(), 200));
            }),
            bad("19 payload fragments (more than 18)", DeviceCounter.ERROR_TOO_MANY_FRAGMENTS, tx ->
            {
                final Req[] requests = new Req[1 + NetifLimits.MAX_PAYLOAD_FRAGMENTS + 1];
                for (int i = 1; i < requests.length; i++)
                {
                    tx.grantFrame(30 + i, (byte)i);
                    requests[i] = new Req(30 + i, 0, 0, tx.id(), 100);
                }
                requests[0] = new Req(0, 0, NETTXF_SPLITNET_HEADER_SLOT, tx.id(), 20 + 100 * (requests.length - 1));
                return chain(requests);
            }),
            bad("a chain filling the whole ring", DeviceCounter.ERROR_TOO_MANY_FRAGMENTS, tx ->
            {
                final Req[] requests = new Req[tx.size];
                tx.grantFrame(26, (byte)3);
                for (int i = 1; i < requests.length; i++)
                {
                    requests[i] = new Req(26, 0, 0, tx.id(), 1);
                }
                requests[0] = new Req(0, 0, NETTXF_SPLITNET_HEADER_SLOT, tx.id(), requests.length - 1);
                return chain(requests);
            }),
            bad("fragment sizes adding to more than the first size", DeviceCounter.ERROR_SIZE_MISMATCH, tx ->
            {
                tx.grantFrame(27, (byte)4);
                tx.grantFrame(28, (byte)5);
                return chain(new Req(0, 0, NETTXF_SPLITNET_HEADER_SLOT, tx.id(), 3000),
                    new Req(27, 0, 0, tx.id(), 2000), new Req(28, 0, 0, tx.id(), 1001));
            }),
            bad("header-slot flag on a payload request", DeviceCounter.ERROR_UNSUPPORTED, tx ->
                headerPlus(tx, new Req(1, 0, NETTXF_SPLITNET_HEADER_SLOT, tx.id(), 10))),
            bad("extra-info flag (not negotiated)", DeviceCounter.ERROR_UNSUPPORTED, tx ->
                chain(new Req(0, 0, NETTXF_SPLITNET_HEADER_SLOT | NETTXF_EXTRA_INFO, tx.id(), 60))),
            bad("plain first request (no header slot) with an ungranted gref", DeviceCounter.ERROR_BAD_GREF, tx ->
            {
                tx.grants.endForeignAccess(29);
                return chain(new Req(29, 0, 0, tx.id(), 60));
            }),
            bad("plain first request past its frame", DeviceCounter.ERROR_BAD_OFFSET, tx ->
            {
                tx.grantFrame(29, (byte)6);
                return chain(new Req(29, 4090, 0, tx.id(), 60));
            }),
            // frame spans (permanent grefs covering consecutive frames)
            bad("range past its frame without a permanent gref", DeviceCounter.ERROR_BAD_OFFSET, tx ->
            {
                tx.grantFrame(200, (byte)1);
                tx.grantFrame(201, (byte)2);
                return headerPlus(tx, new Req(200, 0, 0, tx.id(), 5000));
            }),
            bad("span running off the end of the grant table", DeviceCounter.ERROR_BAD_GREF, tx ->
                headerPlus(tx, new Req((tx.layout.grantEntries() - 1) | GrantConstants.GREF_PERMANENT, 0, 0, tx.id(), 2 * PAGE))),
            bad("span over a gref that is not granted", DeviceCounter.ERROR_BAD_GREF, tx ->
            {
                tx.grantFrame(202, (byte)3);
                tx.grants.endForeignAccess(203);
                return headerPlus(tx, new Req(202 | GrantConstants.GREF_PERMANENT, 0, 0, tx.id(), 6000));
            }),
            bad("span whose grefs name frames that are not consecutive", DeviceCounter.ERROR_BAD_GREF, tx ->
            {
                tx.grantFrame(204, (byte)4);
                tx.grants.grantAccess(205, GrantConstants.BACKEND_DOMAIN_ID, 210, true);
                return headerPlus(tx, new Req(204 | GrantConstants.GREF_PERMANENT, 0, 0, tx.id(), 6000));
            }),
            // the compact first request: header in slot `id`, its length in `offset`, data from the gref
            bad("header by id naming a slot out of range", DeviceCounter.ERROR_BAD_SLOT, tx ->
            {
                tx.grantFrame(208, (byte)6);
                return chain(new Req(208 | GrantConstants.GREF_PERMANENT, 20, NETTXF_SPLITNET_HEADER_BY_ID, tx.slotCount, 20 + 100));
            }),
            bad("header by id longer than its slot", DeviceCounter.ERROR_BAD_OFFSET, tx ->
            {
                tx.grantFrame(208, (byte)6);
                return chain(new Req(208 | GrantConstants.GREF_PERMANENT, tx.slotSize + 1, NETTXF_SPLITNET_HEADER_BY_ID, 1, tx.slotSize + 101));
            }),
            bad("header by id longer than the whole packet", DeviceCounter.ERROR_SIZE_MISMATCH, tx ->
            {
                tx.grantFrame(208, (byte)6);
                return chain(new Req(208 | GrantConstants.GREF_PERMANENT, 60, NETTXF_SPLITNET_HEADER_BY_ID, 1, 59));
            }),
            bad("header by id together with the header-slot flag", DeviceCounter.ERROR_UNSUPPORTED, tx ->
                chain(new Req(0, 20, NETTXF_SPLITNET_HEADER_BY_ID | NETTXF_SPLITNET_HEADER_SLOT, 1, 20))),
            bad("header by id on a payload request", DeviceCounter.ERROR_UNSUPPORTED, tx ->
            {
                tx.grantFrame(208, (byte)6);
                return headerPlus(tx, new Req(208 | GrantConstants.GREF_PERMANENT, 0, NETTXF_SPLITNET_HEADER_BY_ID, tx.id(), 100));
            }),
            bad("header by id whose data runs past a transient grant's frame", DeviceCounter.ERROR_BAD_OFFSET, tx ->
            {
                tx.grantFrame(209, (byte)7);
                return chain(new Req(209, 20, NETTXF_SPLITNET_HEADER_BY_ID, 1, 20 + 4097));
            }),
            bad("span over a grant for another domain", DeviceCounter.ERROR_BAD_GREF, tx ->
            {
                tx.grantFrame(206, (byte)5);
                tx.grants.grantAccess(207, 9, 207, true);
                return headerPlus(tx, new Req(206 | GrantConstants.GREF_PERMANENT, 0, 0, tx.id(), 4097));
            }));
    }

    private static Arguments bad(final String name, final DeviceCounter counter, final Function<RawTx, List<Req>> build)
    {
        return Arguments.of(new BadPacket(name, counter, false, build));
    }

    /** A bad packet validation cannot see: it reaches the handler once and fails there. */
    private static Arguments badAtHandler(final String name, final DeviceCounter counter, final Function<RawTx, List<Req>> build)
    {
        return Arguments.of(new BadPacket(name, counter, true, build));
    }

    /** A header-slot first request (20 header bytes) followed by one payload request. */
    private static List<Req> headerPlus(final RawTx tx, final Req payload)
    {
        tx.writeHeader(0, 0x0BAD0BAD, 20);
        return chain(new Req(0, 0, NETTXF_SPLITNET_HEADER_SLOT, tx.id(), 20 + payload.size()), payload);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badPackets")
    void badPacketGetsErrorForEveryRequestAndOneCounter(final BadPacket bad)
    {
        final NetFront evil = connect("evil");
        final RawTx tx = new RawTx(evil);
        sendGoodRawPacket(tx);

        final Map<DeviceCounter, Long> before = errorSnapshot(evil);
        final int handledBefore = handled.get();
        final List<Req> requests = bad.build().apply(tx);
        final List<Rsp> responses = tx.exchange(requests);
        for (int i = 0; i < responses.size(); i++)
        {
            assertEquals(NetifConstants.NETIF_RSP_ERROR, responses.get(i).status(), bad + ": response " + i + " status");
        }
        assertOnlyCounterBumped(evil, before, bad.counter());
        if (bad.reachesHandler())
        {
            assertEquals(handledBefore + 1, handled.get(), "a packet bad only where the handler maps it reaches the handler once");
        }
        else
        {
            assertEquals(handledBefore, handled.get(), "a packet that fails validation must never reach the handler");
        }
        tx.assertNoGrantHeld();

        // the same ring keeps working, and the offender stays connected
        sendGoodRawPacket(tx);
        sendGoodRawPacket(tx, 7, 0x600D0002, new int[] {12, 13, 14}, new int[] {4096, 1, 2000});
        assertEquals(XenbusState.CONNECTED, evil.device().backendState());
        assertEquals(0, counters(evil).get(DeviceCounter.ERROR_FATAL));
    }

    @Test
    void everyBadPacketInTurnOnOneRingEachFollowedByAGoodOne()
    {
        final NetFront evil = connect("evil");
        final RawTx tx = new RawTx(evil);
        final List<BadPacket> all = badPackets().map(a -> (BadPacket)a.get()[0]).toList();
        for (int round = 0; round < 2; round++)
        {
            for (final BadPacket bad : all)
            {
                final Map<DeviceCounter, Long> before = errorSnapshot(evil);
                final List<Rsp> responses = tx.exchange(bad.build().apply(tx));
                for (final Rsp r : responses)
                {
                    assertEquals(NetifConstants.NETIF_RSP_ERROR, r.status(), bad.name());
                }
                assertOnlyCounterBumped(evil, before, bad.counter());
                sendGoodRawPacket(tx);
            }
        }
        assertEquals(1, backend.connectedCount());
    }

    @Test
    void eighteenPayloadFragmentsAreAccepted()
    {
        final NetFront evil = connect("evil");
        final RawTx tx = new RawTx(evil);
        final int[] grefs = new int[NetifLimits.MAX_PAYLOAD_FRAGMENTS];
        final int[] sizes = new int[grefs.length];
        for (int i = 0; i < grefs.length; i++)
        {
            grefs[i] = 100 + i;
            sizes[i] = 1 + i * 200;
        }
        final Map<DeviceCounter, Long> before = errorSnapshot(evil);
        sendGoodRawPacket(tx, 5, 0x600D0018, grefs, sizes);
        assertOnlyCounterBumped(evil, before, null);
    }

    @Test
    void headerSlotFlagWithoutTheNegotiatedFeatureIsUnsupported()
    {
        final NetFront evil = connect(new FrontendContext().directory(dir).name("plain").features(0));
        assertEquals(0, evil.negotiatedFeatures() & Features.HEADER_SLOTS);
        final RawTx tx = new RawTx(evil);
        final Map<DeviceCounter, Long> before = errorSnapshot(evil);
        tx.writeHeader(0, 0x0BAD0BAD, 20);
        final List<Rsp> responses = tx.exchange(chain(new Req(0, 0, NETTXF_SPLITNET_HEADER_SLOT, tx.id(), 20)));
        assertEquals(NetifConstants.NETIF_RSP_ERROR, responses.get(0).status());
        assertOnlyCounterBumped(evil, before, DeviceCounter.ERROR_UNSUPPORTED);

        // a plain Xen packet (header in a granted frame) still works
        tx.grantFrame(40, (byte)9);
        tx.grantFrame(41, (byte)8);
        final List<Rsp> ok = tx.exchange(chain(new Req(40, 16, 0, tx.id(), 300 + 700), new Req(41, 0, 0, tx.id(), 700)));
        assertEquals(NetifConstants.NETIF_RSP_OKAY, ok.get(0).status());
        assertEquals(NetifConstants.NETIF_RSP_OKAY, ok.get(1).status());
        assertEquals(1000, lastLength.get());
        tx.assertNoGrantHeld();
    }

    @Test
    void permanentGrefWithoutTheNegotiatedFeatureIsUnsupported()
    {
        final NetFront evil = connect(new FrontendContext().directory(dir).name("transient").features(Features.HEADER_SLOTS));
        assertEquals(0, evil.negotiatedFeatures() & Features.PERMANENT_GRANTS);
        final RawTx tx = new RawTx(evil);
        tx.grantFrame(10, (byte)1);
        final Map<DeviceCounter, Long> before = errorSnapshot(evil);
        final List<Rsp> responses = tx.exchange(headerPlus(tx, new Req(10 | GrantConstants.GREF_PERMANENT, 0, 0, tx.id(), 100)));
        assertEquals(NetifConstants.NETIF_RSP_ERROR, responses.get(0).status());
        assertOnlyCounterBumped(evil, before, DeviceCounter.ERROR_UNSUPPORTED);
        assertEquals(0, tx.grants.flags(10) & GrantConstants.GTF_READING, "nothing was kept");
        sendGoodRawPacket(tx);
    }

    // ---------------------------------------------------------------------------------------
    // Permanent grants and frame spans
    // ---------------------------------------------------------------------------------------

    /** One packet: a 42-byte header in slot 4 and one permanent span over grefs [first, first+frames) from offset 100. */
    private List<Rsp> sendSpan(final RawTx tx, final int first, final int frames, final byte seed)
    {
        final int size = frames * PAGE - 200;
        for (int g = first; g < first + frames; g++)
        {
            tx.grantFrame(g, (byte)(seed + g));
        }
        tx.writeHeader(4, 0x5BA45BA4, HEADER_LENGTH);
        final CRC32 crc = new CRC32();
        final byte[] bytes = new byte[size];
        tx.slots.getBytes(4 * tx.slotSize, bytes, 0, HEADER_LENGTH);
        crc.update(bytes, 0, HEADER_LENGTH);
        tx.frames.getBytes(first * PAGE + 100, bytes, 0, size);
        crc.update(bytes, 0, size);
        final List<Rsp> responses = tx.exchange(chain(new Req(4, 0, NETTXF_SPLITNET_HEADER_SLOT, tx.id(), HEADER_LENGTH + size),
            new Req(first | GrantConstants.GREF_PERMANENT, 100, 0, tx.id(), size)));
        for (final Rsp r : responses)
        {
            assertEquals(NetifConstants.NETIF_RSP_OKAY, r.status(), "span packet response status");
        }
        assertEquals(HEADER_LENGTH + size, lastLength.get());
        assertEquals(crc.getValue(), lastCrc.get(), "the handler saw other bytes than the frames hold");
        return responses;
    }

    @Test
    void headerByIdCarriesTheHeaderAndTheFirstFragmentInOneRequest()
    {
        final NetFront evil = connect("evil");
        final RawTx tx = new RawTx(evil);
        final Map<DeviceCounter, Long> before = errorSnapshot(evil);
        for (int g = 400; g < 403; g++)
        {
            tx.grantFrame(g, (byte)g);
        }
        tx.grantFrame(410, (byte)3);
        final int slot = 9;
        final int first = 2 * PAGE + 1000;   // spans grefs 400..402
        tx.writeHeader(slot, 0x1DB41DB4, HEADER_LENGTH);
        final CRC32 crc = new CRC32();
        final byte[] bytes = new byte[first];
        tx.slots.getBytes(slot * tx.slotSize, bytes, 0, HEADER_LENGTH);
        crc.update(bytes, 0, HEADER_LENGTH);
        tx.frames.getBytes(400 * PAGE, bytes, 0, first);
        crc.update(bytes, 0, first);
        tx.frames.getBytes(410 * PAGE + 8, bytes, 0, 300);
        crc.update(bytes, 0, 300);
        final List<Rsp> responses = tx.exchange(chain(
            new Req(400 | GrantConstants.GREF_PERMANENT, HEADER_LENGTH, NETTXF_SPLITNET_HEADER_BY_ID, slot, HEADER_LENGTH + first + 300),
            new Req(410 | GrantConstants.GREF_PERMANENT, 8, 0, tx.id(), 300)));
        for (final Rsp r : responses)
        {
            assertEquals(NetifConstants.NETIF_RSP_OKAY, r.status());
        }
        assertEquals(HEADER_LENGTH + first + 300, lastLength.get());
        assertEquals(crc.getValue(), lastCrc.get(), "the handler saw other bytes than the slot and frames hold");
        assertEquals(HEADER_LENGTH, counters(evil).get(DeviceCounter.HEADER_BYTES_COPIED), "only the slot's header was copied");
        assertEquals(2, counters(evil).get(DeviceCounter.PAYLOAD_FAULTS), "two fragments, one fault each");
        assertOnlyCounterBumped(evil, before, null);

        // without frame spans negotiated the compact request is refused
        final NetFront older = connect(new FrontendContext().directory(dir).name("older")
            .features(Features.HEADER_SLOTS | Features.PERMANENT_GRANTS));
        final RawTx oldTx = new RawTx(older);
        oldTx.grantFrame(400, (byte)1);
        final Map<DeviceCounter, Long> oldBefore = errorSnapshot(older);
        assertEquals(NetifConstants.NETIF_RSP_ERROR, oldTx.exchange(chain(
            new Req(400 | GrantConstants.GREF_PERMANENT, 20, NETTXF_SPLITNET_HEADER_BY_ID, 1, 120))).get(0).status());
        assertOnlyCounterBumped(older, oldBefore, DeviceCounter.ERROR_UNSUPPORTED);
    }

    @Test
    void permanentSpanIsReadWholeMappedOnceKeptAcrossPacketsAndReleasedAtDisconnect()
    {
        final NetFront evil = connect("evil");
        assertEquals(Features.DEFAULT | ringFeatures(), evil.negotiatedFeatures());
        final RawTx tx = new RawTx(evil);
        final LiveCounters counters = counters(evil);
        final Map<DeviceCounter, Long> before = errorSnapshot(evil);

        // first use: validation keeps all three grants of the span (the fault then maps nothing)
        sendSpan(tx, 300, 3, (byte)1);
        assertEquals(0, counters.get(DeviceCounter.GRANT_MAPS));
        assertEquals(3, counters.get(DeviceCounter.PERMANENT_GRANTS));
        assertEquals(0, counters.get(DeviceCounter.GRANT_REUSES));
        for (int g = 300; g < 303; g++)
        {
            assertNotEquals(0, tx.grants.flags(g) & GrantConstants.GTF_READING, "gref " + g + " kept");
        }
        assertFalse(tx.grants.endForeignAccess(301), "a kept grant cannot be revoked under the backend");

        // reuse: new bytes in the same frames, no new mapping
        sendSpan(tx, 300, 3, (byte)77);
        assertEquals(3, counters.get(DeviceCounter.PERMANENT_GRANTS));
        assertEquals(1, counters.get(DeviceCounter.GRANT_REUSES));
        assertEquals(2, counters.get(DeviceCounter.PAYLOAD_FAULTS), "one fault per fragment, span or not");
        assertOnlyCounterBumped(evil, before, null);
        tx.assertNoGrantHeld();

        // the backend shuts down: every kept grant is released, the frontend may end access again
        runner.close();
        runner = null;
        for (int g = 300; g < 303; g++)
        {
            assertEquals(0, tx.grants.flags(g) & (GrantConstants.GTF_READING | GrantConstants.GTF_WRITING), "gref " + g + " released");
        }
        assertTrue(tx.grants.endForeignAccess(301));
        assertEquals(0, counters.get(DeviceCounter.PERMANENT_GRANTS));
    }

    @Test
    void netFrontSendsALargePayloadAsOneSpanAndEveryByteArrives()
    {
        final int ROUNDS = 80;
        final NetFront front = connect("spans");
        final LiveCounters counters = counters(front);
        final UnsafeBuffer header = new UnsafeBuffer(new byte[64]);
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[65000]);
        for (int round = 0; round < ROUNDS; round++)
        {
            for (int i = 0; i < payload.capacity(); i++)
            {
                payload.putByte(i, (byte)(i * 13 + round));
            }
            header.putInt(0, round);
            final CRC32 crc = new CRC32();
            crc.update(header.byteArray(), 0, 64);
            crc.update(payload.byteArray(), 0, 65000 - 64);
            assertEquals(PacketStatus.OKAY, sendAndComplete(front, header, payload, 65000 - 64));
            assertEquals(crc.getValue(), lastCrc.get(), "round " + round);
        }
        assertEquals(ROUNDS, counters.get(DeviceCounter.PAYLOAD_FAULTS), "one fragment per packet");
        assertEquals(ROUNDS, counters.get(DeviceCounter.BACKEND_TX_PACKETS));
        assertEquals(0, counters.get(DeviceCounter.GRANT_MAPS), "kept grants are not mapped per packet");
        // nothing went to the frontend's RX buffers, so every kept grant is a TX frame
        final long kept = counters.get(DeviceCounter.PERMANENT_GRANTS);
        assertTrue(kept >= 16 && kept <= front.device().layout().txFrameCount(), "kept=" + kept);
        // 16-frame spans from a 1024-frame pool: the first 64 packets keep fresh grants, the rest reuse
        assertEquals(ROUNDS - kept / 16, counters.get(DeviceCounter.GRANT_REUSES), "spans not kept fresh reused kept grants");
    }

    // ---------------------------------------------------------------------------------------
    // Grants revoked under the backend
    // ---------------------------------------------------------------------------------------

    @Test
    void grantRevokedAfterValidationBeforeTheBackendMapsItGivesError()
    {
        final NetFront evil = connect("evil");
        final RawTx tx = new RawTx(evil);
        sendGoodRawPacket(tx);
        final long faultsBefore = counters(evil).get(DeviceCounter.PAYLOAD_FAULTS);
        final Map<DeviceCounter, Long> before = errorSnapshot(evil);

        revokeTable = tx.grants;
        revokeGref = 50;
        tx.grantFrame(50, (byte)7);
        tx.writeHeader(2, MAGIC_REVOKE_BEFORE_TOUCH, 32);
        final List<Rsp> responses = tx.exchange(chain(new Req(2, 0, NETTXF_SPLITNET_HEADER_SLOT, tx.id(), 32 + 1000),
            new Req(50, 0, 0, tx.id(), 1000)));

        assertEquals(1, revokeResult.get(), "validation must not hold the grant: the frontend can still end access");
        assertEquals(NetifConstants.NETIF_RSP_ERROR, responses.get(0).status());
        assertEquals(NetifConstants.NETIF_RSP_ERROR, responses.get(1).status());
        assertOnlyCounterBumped(evil, before, DeviceCounter.ERROR_BAD_GREF);
        assertEquals(faultsBefore + 1, counters(evil).get(DeviceCounter.PAYLOAD_FAULTS), "the touch faulted");
        assertEquals(GrantConstants.GTF_INVALID, tx.grants.flags(50), "the revoked entry was not re-acquired");
        tx.assertNoGrantHeld();

        sendGoodRawPacket(tx);
    }

    @Test
    void grantCannotBeRevokedWhileTheBackendHoldsIt()
    {
        final NetFront evil = connect("evil");
        final RawTx tx = new RawTx(evil);
        revokeTable = tx.grants;
        revokeGref = GOOD_GREF_A;
        revokeResult.set(-1);
        sendGoodRawPacket(tx, GOOD_SLOT, MAGIC_REVOKE_WHILE_HELD, new int[] {GOOD_GREF_A, GOOD_GREF_B}, new int[] {512, 512});
        assertEquals(0, revokeResult.get(), "end foreign access must fail while the backend holds the grant");
        // released after the packet: now the frontend can end access
        assertTrue(tx.grants.endForeignAccess(GOOD_GREF_A));
    }

    @Test
    void grantRevokedByFlagsZeroAfterPublishingGivesErrorWhateverTheRace()
    {
        final NetFront evil = connect("evil");
        final RawTx tx = new RawTx(evil);
        for (int i = 0; i < 50; i++)
        {
            final Map<DeviceCounter, Long> before = errorSnapshot(evil);
            tx.grantFrame(60, (byte)i);
            tx.writeHeader(1, 0x0BAD0BAD, 20);
            tx.write(chain(new Req(1, 0, NETTXF_SPLITNET_HEADER_SLOT, tx.id(), 20 + 800), new Req(60, 0, 0, tx.id(), 800)));
            tx.publish();
            // flags=0 straight into the entry, as a hostile frontend would, racing the backend
            final boolean revoked = tx.grants.endForeignAccess(60);
            final List<Rsp> responses = tx.awaitResponses(2);
            if (!revoked)
            {
                continue; // the backend held it at that instant: it read a stable frame
            }
            final short status = (short)responses.get(0).status();
            assertEquals(status, responses.get(1).status());
            if (status == NetifConstants.NETIF_RSP_ERROR)
            {
                assertOnlyCounterBumped(evil, before, DeviceCounter.ERROR_BAD_GREF);
            }
            else
            {
                // the backend had finished with the packet before the revoke
                assertEquals(NetifConstants.NETIF_RSP_OKAY, status);
                assertOnlyCounterBumped(evil, before, null);
            }
            tx.assertNoGrantHeld();
        }
        sendGoodRawPacket(tx);
    }

    // ---------------------------------------------------------------------------------------
    // Handler failures
    // ---------------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(names = {"RUNTIME", "ERROR"})
    void handlerThatThrowsGivesErrorAndTheBackendKeepsServing(final Failure failure)
    {
        final NetFront front = connect("fe");
        final UnsafeBuffer header = new UnsafeBuffer(new byte[64]);
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[10_000]);
        for (int round = 0; round < 5; round++)
        {
            final Map<DeviceCounter, Long> before = errorSnapshot(front);
            header.putInt(0, failure.magic);
            assertEquals(PacketStatus.ERROR, sendAndComplete(front, header, payload, 5000 + round));
            assertOnlyCounterBumped(front, before, DeviceCounter.ERROR_HANDLER);

            header.putInt(0, 0x600D);
            assertEquals(PacketStatus.OKAY, sendAndComplete(front, header, payload, 3000));
            assertOnlyCounterBumped(front, before, DeviceCounter.ERROR_HANDLER);
        }
        assertTrue(front.isConnected());
        assertEquals(1, backend.connectedCount());
        assertEquals(XenbusState.CONNECTED, front.device().backendState());
        assertEquals(5, counters(front).get(DeviceCounter.TX_ERROR));
        assertEquals(5, counters(front).get(DeviceCounter.TX_OKAY));
    }

    enum Failure
    {
        RUNTIME(MAGIC_THROW_RUNTIME), ERROR(MAGIC_THROW_ERROR);

        final int magic;

        Failure(final int magic)
        {
            this.magic = magic;
        }
    }

    private static PacketStatus sendAndComplete(final NetFront front, final UnsafeBuffer header, final UnsafeBuffer payload, final int payloadLength)
    {
        final long correlation = System.nanoTime();
        await(() -> front.send(header, 0, 64, payload, 0, payloadLength, correlation) == SendResult.SENT, "send accepted");
        final PacketStatus[] status = new PacketStatus[1];
        await(() ->
        {
            front.poll((id, s) ->
            {
                assertEquals(correlation, id);
                status[0] = s;
            }, packet -> { });
            return status[0] != null;
        }, "TX completion");
        return status[0];
    }

    // ---------------------------------------------------------------------------------------
    // Protocol violations: only the offender is disconnected
    // ---------------------------------------------------------------------------------------

    enum Violation
    {
        /** req_prod more than the ring size ahead of the responses. */
        REQ_PROD_PAST_RING,
        /** req_prod moved behind the responses (a huge unsigned distance). */
        REQ_PROD_BACKWARDS,
        /** The last published request has more_data: the chain continues past req_prod. */
        MORE_DATA_ON_LAST_PUBLISHED
    }

    static Stream<Arguments> violations()
    {
        final List<Arguments> list = new ArrayList<>();
        for (final Violation v : Violation.values())
        {
            list.add(Arguments.of(v, 0));
            // indices about to cross 2^32: the distance checks must be unsigned and wrap-safe
            list.add(Arguments.of(v, -2));
        }
        return list.stream();
    }

    @ParameterizedTest(name = "{0}, initial ring index {1}")
    @MethodSource("violations")
    void protocolViolationDisconnectsOnlyTheOffender(final Violation violation, final int initialRingIndex)
    {
        final NetFront good = connect("good");
        final NetFront evil = connect(new FrontendContext().directory(dir).name("evil").initialRingIndex(initialRingIndex));
        final UnsafeBuffer header = new UnsafeBuffer(new byte[64]);
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[20_000]);
        for (int i = 0; i < 3; i++)
        {
            assertEquals(PacketStatus.OKAY, sendAndComplete(good, header, payload, 9000));
        }
        // the backend adopts a connected frontend at its next housekeeping (about a millisecond)
        await(() -> backend.connectedCount() == 2, "the backend to serve both frontends");
        final int evilDomain = evil.domainId();
        assertTrue(backend.isConnected(evilDomain));

        final ByteArrayOutputStream log = new ByteArrayOutputStream();
        final PrintStream originalErr = System.err;
        System.setErr(new PrintStream(new TeeStream(originalErr, log), true, StandardCharsets.UTF_8));
        try
        {
            final RawTx tx = new RawTx(evil);
            final int rspProdBefore = tx.rspProd();
            switch (violation)
            {
                case REQ_PROD_PAST_RING -> tx.publishPastTheRing();
                case REQ_PROD_BACKWARDS -> tx.publishBackwards();
                case MORE_DATA_ON_LAST_PUBLISHED ->
                {
                    tx.grantFrame(70, (byte)1);
                    tx.writeHeader(0, 0x0BAD0BAD, 20);
                    tx.write(List.of(new Req(0, 0, NETTXF_SPLITNET_HEADER_SLOT | NETTXF_MORE_DATA, tx.id(), 20 + 100),
                        new Req(70, 0, NETTXF_MORE_DATA, tx.id(), 100)));
                    tx.publish();
                }
                default -> throw new IllegalStateException();
            }

            // The backend says Closed only after it dropped the vif (release store; read volatile here).
            await(() -> evil.device().backendState() == XenbusState.CLOSED, "the backend to close the offender");
            assertEquals(1, backend.connectedCount(), "exactly one frontend dropped");
            assertFalse(backend.isConnected(evilDomain));
            assertEquals(1, counters(evil).get(DeviceCounter.ERROR_FATAL));
            assertEquals(rspProdBefore, tx.rspProd(), "no response is written for a violating chain");
            tx.assertNoGrantHeld();

            // The offender's doorbell socket is closed: its NetFront notices end-of-stream.
            await(() ->
            {
                evil.poll((id, s) -> fail("nothing was in flight"), packet -> { });
                return !evil.isConnected();
            }, "the offending NetFront to see the backend close its socket");

            await(() -> log.toString(StandardCharsets.UTF_8).contains("protocol violation"), "the backend to log the violation");
            final String text = log.toString(StandardCharsets.UTF_8);
            assertTrue(text.contains("domain " + evilDomain + " (evil)"), text);
        }
        finally
        {
            System.setErr(originalErr);
        }

        // The well-behaved frontend is untouched.
        for (int i = 0; i < 20; i++)
        {
            assertEquals(PacketStatus.OKAY, sendAndComplete(good, header, payload, 1 + i * 1000));
        }
        assertTrue(good.isConnected());
        assertEquals(XenbusState.CONNECTED, good.device().backendState());
        assertEquals(0, counters(good).get(DeviceCounter.ERROR_FATAL));
        assertEquals(1, backend.connectedCount());
    }

    @Test
    void offenderCanReconnectUnderItsNameAfterBeingDisconnected()
    {
        final NetFront evil = connect("evil");
        final RawTx tx = new RawTx(evil);
        tx.publishPastTheRing();
        await(() -> evil.device().backendState() == XenbusState.CLOSED, "the backend to close the offender");
        assertEquals(0, backend.connectedCount());
        evil.close();
        fronts.remove(evil);

        final NetFront again = connect("evil");
        final UnsafeBuffer header = new UnsafeBuffer(new byte[64]);
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[5000]);
        assertEquals(PacketStatus.OKAY, sendAndComplete(again, header, payload, 5000));
        assertEquals(1, backend.connectedCount());
    }

    /**
     * A frontend that shrinks its device file under the backend's mapping makes the backend's next
     * access fault (SIGBUS). HotSpot raises it as an InternalError, often only at a later
     * safepoint; NetBackRunner catches it anywhere in the loop, NetBack finds the truncated file
     * and disconnects that frontend, and the others keep being served.
     */
    @Test
    void frontendTruncatingItsDeviceFileMustNotStopTheBackend() throws Exception
    {
        final NetFront evil = connect(new FrontendContext().directory(dir).name("evil").connectTimeoutMs(5000).sealedMemory(false));
        final NetFront good = connect("good");
        final UnsafeBuffer header = new UnsafeBuffer(new byte[64]);
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[5000]);
        assertEquals(PacketStatus.OKAY, sendAndComplete(good, header, payload, 5000));
        try (RandomAccessFile file = new RandomAccessFile(dir.resolve("evil.dev").toFile(), "rw"))
        {
            file.setLength(DeviceLayout.PAGE_SIZE); // the control page stays, the rings are gone
        }
        // The fault may reach the backend late, while it handles a good packet: that one packet
        // then ends ERROR (still exactly one status); every packet after the disconnect is OKAY.
        int errors = 0;
        final long deadline = System.nanoTime() + DEADLINE_NS;
        while (backend.connectedCount() != 1 && System.nanoTime() < deadline)
        {
            errors += sendAndComplete(good, header, payload, 5000) == PacketStatus.OKAY ? 0 : 1;
        }
        assertEquals(1, backend.connectedCount());
        assertTrue(errors <= 1, errors + " good packets failed");
        for (int i = 0; i < 5; i++)
        {
            assertEquals(PacketStatus.OKAY, sendAndComplete(good, header, payload, 5000));
        }
        assertTrue(runner.isRunning(), "the duty cycle survives");
        fronts.remove(evil); // its own pages are gone too: closing it would fault in this thread
    }

    /**
     * With sealed memory (the default) the same attack cannot happen: the kernel refuses every
     * resize of the memory (by the name tools see, its claim file, nothing can reach it), the
     * backend never faults, and both frontends are served on.
     */
    @Test
    void frontendCannotTruncateItsSealedMemory() throws Exception
    {
        final NetFront evil = connect("evil");
        final NetFront good = connect("good");
        assertTrue(evil.device().isSealedMemory());
        final UnsafeBuffer header = new UnsafeBuffer(new byte[64]);
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[5000]);
        final long length = evil.device().layout().fileLength();
        try (RandomAccessFile memory = new RandomAccessFile(evil.device().memoryHandle(), "rw"))
        {
            for (final long target : new long[] {DeviceLayout.PAGE_SIZE, 0, length - DeviceLayout.PAGE_SIZE, length + DeviceLayout.PAGE_SIZE})
            {
                final java.io.IOException refused = assertThrows(java.io.IOException.class, () -> memory.setLength(target));
                assertTrue(String.valueOf(refused.getMessage()).contains("Operation not permitted"), refused.toString());
                assertEquals(length, memory.length());
            }
        }
        // the claim file is no way in: truncating it takes nothing from the memory
        try (RandomAccessFile claim = new RandomAccessFile(dir.resolve("evil.dev").toFile(), "rw"))
        {
            claim.setLength(0);
        }
        for (int i = 0; i < 5; i++)
        {
            assertEquals(PacketStatus.OKAY, sendAndComplete(evil, header, payload, 5000));
            assertEquals(PacketStatus.OKAY, sendAndComplete(good, header, payload, 5000));
        }
        assertEquals(2, backend.connectedCount());
        assertEquals(0, CounterReadings.read(evil.device(), dir, evil.domainId()).get(DeviceCounter.ERROR_FATAL));
        assertTrue(runner.isRunning(), "the duty cycle survives");
    }

    /** Copies what is written to two streams. */
    private static final class TeeStream extends OutputStream
    {
        private final OutputStream a;
        private final OutputStream b;

        TeeStream(final OutputStream a, final OutputStream b)
        {
            this.a = a;
            this.b = b;
        }

        @Override
        public synchronized void write(final int c) throws java.io.IOException
        {
            a.write(c);
            b.write(c);
        }

        @Override
        public synchronized void write(final byte[] bytes, final int off, final int len) throws java.io.IOException
        {
            a.write(bytes, off, len);
            b.write(bytes, off, len);
        }

        @Override
        public synchronized void flush() throws java.io.IOException
        {
            a.flush();
            b.flush();
        }
    }
}

package dev.splitnet.backend.fuzz;

import dev.splitnet.api.GrantConstants;
import dev.splitnet.api.NetifConstants;
import dev.splitnet.mmap.DeviceLayout;
import dev.splitnet.mmap.NetifDescriptor;
import dev.splitnet.mmap.NetifV2Entries;
import dev.splitnet.mmap.RingFormat;
import java.util.SplittableRandom;
import java.util.function.IntSupplier;
import org.agrona.concurrent.UnsafeBuffer;

import static dev.splitnet.mmap.RingV2Descriptor.*;

/**
 * The ring regions' corruptions of {@link FieldCorrupter} for a device on ring v2: the four
 * control lines, every field of request and response entries (their lap tags included: ownership
 * flipped, a lap ahead, a lap behind), and forged requests written with the right tags at the
 * frontend's producer, so the backend validates them instead of only rejecting their tags. As in
 * {@link FieldCorrupter}, the draws per step do not depend on what is in the file; only where the
 * producer is (found by reading the tags) does.
 */
final class RingV2Corrupter
{
    private static final long FORGE_WAIT_NS = 300_000;
    private static final int[] CONTROL_LINES = {RSP_CONS_OFFSET, RSP_EVENT_OFFSET, REQ_CONS_OFFSET, REQ_EVENT_OFFSET};
    /** TX request fields (offset in the entry, width) and TX response fields. */
    private static final int[][] TX_REQUEST_FIELDS = {
        {NetifDescriptor.TX_REQ_GREF_OFFSET, 4}, {NetifDescriptor.TX_REQ_OFFSET_OFFSET, 2}, {NetifDescriptor.TX_REQ_FLAGS_OFFSET, 2},
        {NetifV2Entries.TX_REQUEST_WORD_OFFSET, 2}, {NetifV2Entries.TX_REQUEST_WORD_OFFSET + 2, 2},
        {NetifV2Entries.TX_REQUEST_WORD_OFFSET + 4, 2}, {NetifV2Entries.TX_REQUEST_WORD_OFFSET + 6, 2},
    };
    /** RX request fields: gref, id, tag. Responses of both rings: four 16-bit fields, the last the tag. */
    private static final int[][] RX_REQUEST_FIELDS = {{0, 4}, {4, 2}, {6, 2}};

    private final DeviceLayout layout;
    private final UnsafeBuffer file;
    private final SplittableRandom random;
    private final IntSupplier u16;
    private final IntSupplier u32;
    private final IntSupplier txFlags;
    private final int txRing;
    private final int rxRing;
    private final int txSize;
    private final int rxSize;
    private final int[] ringDeltas;
    private final int[] forged = new int[20];

    RingV2Corrupter(final DeviceLayout layout, final UnsafeBuffer file, final SplittableRandom random, final IntSupplier u16,
        final IntSupplier u32, final IntSupplier txFlags)
    {
        this.layout = layout;
        this.file = file;
        this.random = random;
        this.u16 = u16;
        this.u32 = u32;
        this.txFlags = txFlags;
        this.txRing = (int)layout.txRingOffset();
        this.rxRing = (int)layout.rxRingOffset();
        this.txSize = RingFormat.V2.entries(layout.ringBytes(), true);
        this.rxSize = RingFormat.V2.entries(layout.ringBytes(), false);
        this.ringDeltas = new int[] {0, 1, -1, 2, txSize - 1, txSize, txSize + 1, -txSize + 1, -txSize, -txSize - 1,
            0x7FFFFFFF, 0x80000000, 0x40000000, -0x40000000, 1 << 16, -(1 << 16)};
    }

    /** One of the four control lines, relative to its live value or absolute. */
    int controlLine(final boolean tx)
    {
        final int ring = tx ? txRing : rxRing;
        final int field = CONTROL_LINES[random.nextInt(CONTROL_LINES.length)];
        final boolean relative = random.nextInt(3) != 0;
        final int delta = ringDeltas[random.nextInt(ringDeltas.length)] + (random.nextBoolean() ? 0 : random.nextInt(-3, 4));
        final int absolute = u32.getAsInt();
        final boolean volatileStore = random.nextBoolean();
        final int value = relative ? file.getIntVolatile(ring + field) + delta : absolute;
        if (volatileStore)
        {
            file.putIntVolatile(ring + field, value);
        }
        else
        {
            file.putInt(ring + field, value);
        }
        return 1;
    }

    /** A field of a request or a response entry near where the backend reads or writes next, or anywhere. */
    int entry(final boolean tx)
    {
        final int ring = tx ? txRing : rxRing;
        final int size = tx ? txSize : rxSize;
        final int requestLength = tx ? TX_REQUEST_LENGTH : RX_REQUEST_LENGTH;
        final boolean response = random.nextInt(3) == 0;
        final boolean near = random.nextInt(3) != 0;
        final int ahead = random.nextInt(-4, 8);
        final int any = random.nextInt(size);
        final int[][] fields = response ? null : tx ? TX_REQUEST_FIELDS : RX_REQUEST_FIELDS;
        final int fieldChoice = random.nextInt(response ? 4 : fields.length);
        final int lapChoice = random.nextInt(4);
        final int narrow = u16.getAsInt();
        final int wide = u32.getAsInt();
        final int flags = txFlags.getAsInt();
        // near the consumer the backend publishes (requests) or the frontend publishes (responses)
        final int base = file.getIntVolatile(ring + (response ? RSP_CONS_OFFSET : REQ_CONS_OFFSET)) + ahead;
        final int index = near ? base : base - (base & (size - 1)) + any;
        final int entry = ring + (response ? responsesOffset(size, requestLength) + (index & (size - 1)) * RESPONSE_LENGTH
            : ENTRIES_OFFSET + (index & (size - 1)) * requestLength);
        final int offset = response ? fieldChoice * 2 : fields[fieldChoice][0];
        final int width = response ? 2 : fields[fieldChoice][1];
        final boolean tagField = response ? fieldChoice == 3 : tx ? fieldChoice == 6 : fieldChoice == 2;
        final int sizeShift = Integer.numberOfTrailingZeros(size);
        if (tagField)
        {
            // the lap before (not yet), this lap (there: the garbage around it becomes an entry), a lap ahead, or any
            final int lap = tag(index, sizeShift);
            final int value = lapChoice == 0 ? lap - 1 : lapChoice == 1 ? lap : lapChoice == 2 ? lap + 1 : narrow;
            file.putShortVolatile(entry + offset, (short)value);
        }
        else if (width == 4)
        {
            file.putInt(entry + offset, wide);
        }
        else
        {
            file.putShort(entry + offset, (short)(tx && !response && offset == NetifDescriptor.TX_REQ_FLAGS_OFFSET ? flags : narrow));
        }
        return 1;
    }

    /**
     * The frontend's next request index: the first from the backend's published {@code req_cons}
     * whose tag is not this lap's (the producer's own index is private to the frontend).
     */
    private int producer(final int ring, final int size, final int requestLength, final int wordOffset)
    {
        final int start = file.getIntVolatile(ring + REQ_CONS_OFFSET);
        final int shift = Integer.numberOfTrailingZeros(size);
        for (int i = 0; i < size; i++)
        {
            final int index = start + i;
            final long word = file.getLongVolatile(ring + ENTRIES_OFFSET + (index & (size - 1)) * requestLength + wordOffset);
            if ((int)(word >>> TAG_SHIFT) != tag(index, shift))
            {
                return index;
            }
        }
        return start + size;
    }

    /**
     * Writes 1..20 plausible TX requests (FieldCorrupter's forgeTx) at the producer with the right
     * tags, now and then a wrong one or reserved bits, the first entry's word last, as a producer
     * publishes a batch.
     */
    int forgeTx()
    {
        final int count = random.nextInt(1, 21);
        final boolean cutChain = random.nextInt(8) == 0;
        final boolean grantFirst = random.nextBoolean();
        final boolean revokeAfter = random.nextInt(3) == 0;
        final int prod = producer(txRing, txSize, TX_REQUEST_LENGTH, NetifV2Entries.TX_REQUEST_WORD_OFFSET);
        final int shift = Integer.numberOfTrailingZeros(txSize);
        int fields = 0;
        long firstWord = 0;
        int firstWordAt = 0;
        for (int i = 0; i < count; i++)
        {
            final boolean first = i == 0;
            final boolean last = i == count - 1;
            final int plainGref = random.nextInt(layout.txFrameCount()) | (random.nextBoolean() ? GrantConstants.GREF_PERMANENT : 0);
            final int slot = random.nextInt(layout.headerSlotCount());
            final int size = random.nextInt(3) == 0 ? u16.getAsInt() : first ? random.nextInt(1, 20_000) : random.nextInt(1, DeviceLayout.PAGE_SIZE + 1);
            final int offset = random.nextInt(3) == 0 ? u16.getAsInt() : 0;
            final int id = random.nextInt(4) == 0 ? u16.getAsInt() : (prod + i) & (txSize - 1);
            final int gref = random.nextInt(4) == 0 ? u32.getAsInt() : first && random.nextBoolean() ? slot : plainGref;
            int flags = random.nextInt(4) == 0 ? txFlags.getAsInt()
                : first && random.nextBoolean() ? NetifConstants.NETTXF_SPLITNET_HEADER_SLOT : 0;
            final boolean wrongTag = random.nextInt(16) == 0;
            final boolean reserved = random.nextInt(16) == 0;
            if (!last || cutChain)
            {
                flags |= NetifConstants.NETTXF_MORE_DATA;
            }
            else if (random.nextInt(4) != 0)
            {
                flags &= ~NetifConstants.NETTXF_MORE_DATA;
            }
            final int index = prod + i;
            final int at = txRing + ENTRIES_OFFSET + (index & (txSize - 1)) * TX_REQUEST_LENGTH;
            forged[i] = gref;
            if (grantFirst)
            {
                fields += FieldCorrupter.grantForgedFrame(file, layout, gref);
            }
            NetifV2Entries.TxRequest.writeHead(file, at, gref, offset, flags);
            final long word = NetifV2Entries.TxRequest.word(id, size) | (reserved ? 1L << 32 : 0)
                | (long)((tag(index, shift) + (wrongTag ? 1 : 0)) & 0xFFFF) << TAG_SHIFT;
            if (first)
            {
                firstWord = word;
                firstWordAt = at + NetifV2Entries.TX_REQUEST_WORD_OFFSET;
            }
            else
            {
                // release: the head before the word, as RingV2Producer.commit
                file.putLongRelease(at + NetifV2Entries.TX_REQUEST_WORD_OFFSET, word);
            }
            fields += 6;
        }
        file.putLongRelease(firstWordAt, firstWord);
        if (revokeAfter)
        {
            fields += FieldCorrupter.revokeForged(file, layout, forged, count);
        }
        awaitConsumed(prod + count);
        return fields;
    }

    /** Posts 1..16 RX buffers at the producer with adversarial ids and grefs and the right tags (now and then a wrong one). */
    int forgeRx()
    {
        final int count = random.nextInt(1, 17);
        final int prod = producer(rxRing, rxSize, RX_REQUEST_LENGTH, 0);
        final int shift = Integer.numberOfTrailingZeros(rxSize);
        int fields = 0;
        for (int i = 0; i < count; i++)
        {
            final int rxGref = layout.txFrameCount() + random.nextInt(layout.rxFrameCount());
            final int gref = random.nextInt(3) == 0 ? u32.getAsInt() : rxGref | (random.nextBoolean() ? GrantConstants.GREF_PERMANENT : 0);
            final int id = random.nextInt(3) == 0 ? u16.getAsInt() : random.nextInt(layout.rxFrameCount());
            final boolean wrongTag = random.nextInt(16) == 0;
            final int index = prod + i;
            file.putLongRelease(rxRing + ENTRIES_OFFSET + (index & (rxSize - 1)) * RX_REQUEST_LENGTH,
                NetifV2Entries.RxRequest.word(id, gref) | (long)((tag(index, shift) + (wrongTag ? 2 : 0)) & 0xFFFF) << TAG_SHIFT);
            fields++;
        }
        return fields;
    }

    /** Gives the backend up to {@value #FORGE_WAIT_NS} ns to consume forged requests (FieldCorrupter.awaitResponses). */
    private void awaitConsumed(final int index)
    {
        final long deadline = System.nanoTime() + FORGE_WAIT_NS;
        while (file.getIntVolatile(txRing + REQ_CONS_OFFSET) - index < 0 && System.nanoTime() - deadline < 0)
        {
            Thread.onSpinWait();
        }
    }

}

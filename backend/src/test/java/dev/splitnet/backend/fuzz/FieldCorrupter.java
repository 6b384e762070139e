package dev.splitnet.backend.fuzz;

import dev.splitnet.api.GrantConstants;
import dev.splitnet.api.NetifConstants;
import dev.splitnet.mmap.ControlDescriptor;
import dev.splitnet.mmap.DeviceLayout;
import dev.splitnet.mmap.GrantEntryDescriptor;
import dev.splitnet.mmap.NetifDescriptor;
import dev.splitnet.mmap.RingFormat;
import dev.splitnet.mmap.SharedRingDescriptor;
import java.util.SplittableRandom;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A hostile writer over one device file: each {@link #step} picks a region, a field in it and an
 * adversarial value (0, -1, 0x7FFF, 0x8000, 0xFFFF, 4095..4097, 18..20, ring size +-1, table sizes
 * +-1, indices far ahead of and behind the live ones, or random) and writes it. Every choice comes
 * from the {@link SplittableRandom} it is given, and the number of draws per step does not depend
 * on what is in the file, so the sequence of (region, field, value choice) is a pure function of
 * the random's seed. Only values relative to a live ring index depend on the moment they are
 * written. Offsets come from {@link DeviceLayout} and the descriptors, never from literals. On a
 * device with ring v2 the ring regions are corrupted by a {@link RingV2Corrupter}.
 */
public final class FieldCorrupter
{
    private static final int PAGE = DeviceLayout.PAGE_SIZE;
    /** Control page fields as (offset, width in bytes); the frontend's and backend's lines included. */
    private static final int[][] CONTROL_FIELDS = {
        {ControlDescriptor.MAGIC_OFFSET, 8}, {ControlDescriptor.LAYOUT_VERSION_OFFSET, 4}, {ControlDescriptor.PAGE_SIZE_OFFSET, 4},
        {ControlDescriptor.FILE_LENGTH_OFFSET, 8}, {ControlDescriptor.RING_PAGES_OFFSET, 4}, {ControlDescriptor.TX_RING_ENTRIES_OFFSET, 4},
        {ControlDescriptor.RX_RING_ENTRIES_OFFSET, 4}, {ControlDescriptor.HEADER_SLOT_SIZE_OFFSET, 4},
        {ControlDescriptor.HEADER_SLOT_COUNT_OFFSET, 4}, {ControlDescriptor.GRANT_ENTRIES_OFFSET, 4}, {ControlDescriptor.FRAME_COUNT_OFFSET, 4},
        {ControlDescriptor.TX_FRAME_COUNT_OFFSET, 4}, {ControlDescriptor.COUNTER_COUNT_OFFSET, 4},
        {ControlDescriptor.INITIAL_RING_INDEX_OFFSET, 4}, {ControlDescriptor.TX_RING_OFFSET_OFFSET, 8},
        {ControlDescriptor.RX_RING_OFFSET_OFFSET, 8}, {ControlDescriptor.HEADER_SLOTS_OFFSET_OFFSET, 8},
        {ControlDescriptor.GRANT_TABLE_OFFSET_OFFSET, 8}, {ControlDescriptor.P2M_OFFSET_OFFSET, 8},
        {ControlDescriptor.COUNTERS_METADATA_OFFSET_OFFSET, 8}, {ControlDescriptor.COUNTERS_VALUES_OFFSET_OFFSET, 8},
        {ControlDescriptor.FRAMES_OFFSET_OFFSET, 8}, {ControlDescriptor.FEATURES_OFFERED_OFFSET, 8},
        {ControlDescriptor.DEVICE_NAME_LENGTH_OFFSET, 4}, {ControlDescriptor.DEVICE_NAME_OFFSET, 4},
        {ControlDescriptor.FRONTEND_STATE_OFFSET, 4}, {ControlDescriptor.BACKEND_STATE_OFFSET, 4},
        {ControlDescriptor.DOMAIN_ID_OFFSET, 4}, {ControlDescriptor.FEATURES_NEGOTIATED_OFFSET, 8},
    };
    private static final int[] RING_INDEX_FIELDS = {
        SharedRingDescriptor.REQ_PROD_OFFSET, SharedRingDescriptor.REQ_EVENT_OFFSET, SharedRingDescriptor.RSP_PROD_OFFSET,
        SharedRingDescriptor.RSP_EVENT_OFFSET, SharedRingDescriptor.PVT_OFFSET,
    };
    private static final int[] TX_ENTRY_FIELDS = {
        NetifDescriptor.TX_REQ_GREF_OFFSET, NetifDescriptor.TX_REQ_OFFSET_OFFSET, NetifDescriptor.TX_REQ_FLAGS_OFFSET,
        NetifDescriptor.TX_REQ_ID_OFFSET, NetifDescriptor.TX_REQ_SIZE_OFFSET, NetifDescriptor.TX_RSP_STATUS_OFFSET,
    };
    private static final int[] RX_ENTRY_FIELDS = {
        NetifDescriptor.RX_REQ_ID_OFFSET, NetifDescriptor.RX_REQ_GREF_OFFSET, NetifDescriptor.RX_RSP_OFFSET_OFFSET,
        NetifDescriptor.RX_RSP_FLAGS_OFFSET, NetifDescriptor.RX_RSP_STATUS_OFFSET,
    };
    /** Region weights, in the order of {@link Region}'s constants (they sum to 100). */
    private static final int[] WEIGHTS = {5, 22, 8, 3, 12, 2, 15, 19, 8, 6};
    private static final long FORGE_WAIT_NS = 300_000;

    private final DeviceLayout layout;
    private final UnsafeBuffer file;
    private final SplittableRandom random;
    private final int txRing;
    private final int rxRing;
    private final int txSize;
    private final int rxSize;
    private final int[] small;
    private final int[] wide;
    private final int[] ringDeltas;
    private final int[] forged = new int[20];
    // the ring regions' corruptions on ring v2; null on Xen's ring
    private final RingV2Corrupter v2;

    /**
     * @param layout the device's layout (its offsets and sizes).
     * @param file the whole device file, mapped by the hostile writer itself.
     * @param random the only source of choices.
     */
    public FieldCorrupter(final DeviceLayout layout, final UnsafeBuffer file, final SplittableRandom random)
    {
        this(layout, file, random, RingFormat.XEN);
    }

    /** As the three-argument constructor, for a device whose rings are in {@code format}. */
    public FieldCorrupter(final DeviceLayout layout, final UnsafeBuffer file, final SplittableRandom random, final RingFormat format)
    {
        this.layout = layout;
        this.file = file;
        this.random = random;
        this.txRing = (int)layout.txRingOffset();
        this.rxRing = (int)layout.rxRingOffset();
        this.txSize = layout.txRingEntries();
        this.rxSize = layout.rxRingEntries();
        this.small = new int[] {0, 0xFFFF, 0x7FFF, 0x8000, 4095, 4096, 4097, 18, 19, 20, 1, 2,
            txSize - 1, txSize, txSize + 1, layout.headerSlotSize() - 1, layout.headerSlotSize(), layout.headerSlotSize() + 1,
            layout.headerSlotCount() - 1, layout.headerSlotCount(), layout.txFrameCount() - 1, layout.txFrameCount(),
            layout.frameCount() - 1, layout.frameCount(), layout.frameCount() + 1, 0x7FEF, 0x7FF0};
        this.wide = new int[] {0, -1, 0x7FFFFFFF, 0x80000000, 0xFFFF, 0x10000, 4096, 4097, 18, 19, 20,
            layout.grantEntries() - 1, layout.grantEntries(), layout.grantEntries() + 1,
            GrantConstants.GREF_PERMANENT, GrantConstants.GREF_PERMANENT | 1, GrantConstants.GREF_PERMANENT | (layout.grantEntries() - 1),
            GrantConstants.GREF_PERMANENT | layout.grantEntries(), GrantConstants.GREF_PERMANENT | 0x7FFF};
        this.v2 = format == RingFormat.V2 ? new RingV2Corrupter(layout, file, random, this::u16, this::u32, this::txFlags) : null;
        this.ringDeltas = new int[] {0, 1, -1, 2, txSize - 1, txSize, txSize + 1, -txSize + 1, -txSize, -txSize - 1,
            0x7FFFFFFF, 0x80000000, 0x40000000, -0x40000000, 1 << 16, -(1 << 16)};
    }

    /**
     * Writes one corruption: one field, or for a forged chain the requests' fields and the index
     * that publishes them.
     *
     * @return the number of fields written (added to {@code accounting} by region).
     */
    public int step(final FuzzAccounting accounting)
    {
        final Region region = pickRegion();
        final int fields = v2 != null ? switch (region)
        {
            case TX_RING_INDEX -> v2.controlLine(true);
            case RX_RING_INDEX -> v2.controlLine(false);
            case TX_RING_ENTRY -> v2.entry(true);
            case RX_RING_ENTRY -> v2.entry(false);
            case TX_FORGED_REQUEST -> v2.forgeTx();
            case RX_FORGED_REQUEST -> v2.forgeRx();
            default -> other(region);
        } : switch (region)
        {
            case TX_RING_INDEX -> ringIndex(txRing, txSize);
            case RX_RING_INDEX -> ringIndex(rxRing, rxSize);
            case TX_RING_ENTRY -> txEntry();
            case RX_RING_ENTRY -> rxEntry();
            case TX_FORGED_REQUEST -> forgeTx();
            case RX_FORGED_REQUEST -> forgeRx();
            default -> other(region);
        };
        accounting.fields(region, fields);
        return fields;
    }

    /** The regions outside the rings, the same in both ring formats. */
    private int other(final Region region)
    {
        return switch (region)
        {
            case HEADER_SLOT -> headerSlot();
            case GRANT_ENTRY -> grantEntry();
            case CONTROL -> control();
            default -> p2m();
        };
    }

    private Region pickRegion()
    {
        int r = random.nextInt(100);
        final Region[] regions = Region.values();
        for (int i = 0; i < regions.length; i++)
        {
            r -= WEIGHTS[i];
            if (r < 0)
            {
                return regions[i];
            }
        }
        return regions[regions.length - 1];
    }

    /** A 16-bit value: mostly from the adversarial list, sometimes random. */
    private int u16()
    {
        final int choice = random.nextInt(4);
        final int listed = small[random.nextInt(small.length)];
        final int any = random.nextInt(1 << 16);
        return choice == 0 ? any : listed;
    }

    /** A 32-bit value: adversarial wide or narrow values, or random. */
    private int u32()
    {
        final int choice = random.nextInt(5);
        final int listedWide = wide[random.nextInt(wide.length)];
        final int listedSmall = small[random.nextInt(small.length)];
        final int any = random.nextInt();
        return choice == 0 ? any : choice <= 2 ? listedWide : listedSmall;
    }

    private int ringIndex(final int ring, final int size)
    {
        final int field = RING_INDEX_FIELDS[random.nextInt(RING_INDEX_FIELDS.length)];
        final boolean relative = random.nextInt(3) != 0;
        final int delta = ringDeltas[random.nextInt(ringDeltas.length)] + (random.nextBoolean() ? 0 : random.nextInt(-3, 4));
        final int absolute = u32();
        final boolean volatileStore = random.nextBoolean();
        // relative to the live index: the only value that depends on timing
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

    /** A slot near the live producer (where requests are about to be read) or anywhere in the ring. */
    private int slotNearProducer(final int ring, final int size)
    {
        final boolean near = random.nextInt(3) != 0;
        final int ahead = random.nextInt(-4, 8);
        final int any = random.nextInt(size);
        return near ? (file.getIntVolatile(ring + SharedRingDescriptor.REQ_PROD_OFFSET) + ahead) & (size - 1) : any;
    }

    private int txEntry()
    {
        final int slot = slotNearProducer(txRing, txSize);
        final int field = TX_ENTRY_FIELDS[random.nextInt(TX_ENTRY_FIELDS.length)];
        final int offset = txRing + SharedRingDescriptor.ENTRIES_OFFSET + slot * NetifDescriptor.TX_ENTRY_LENGTH + field;
        final int wideValue = u32();
        final int narrowValue = field == NetifDescriptor.TX_REQ_FLAGS_OFFSET ? txFlags() : u16();
        if (field == NetifDescriptor.TX_REQ_GREF_OFFSET)
        {
            file.putInt(offset, wideValue);
        }
        else
        {
            file.putShort(offset, (short)narrowValue);
        }
        return 1;
    }

    private int txFlags()
    {
        final int bits = random.nextInt(1 << 16);
        final int known = (random.nextBoolean() ? NetifConstants.NETTXF_MORE_DATA : 0)
            | (random.nextInt(4) == 0 ? NetifConstants.NETTXF_EXTRA_INFO : 0)
            | (random.nextBoolean() ? NetifConstants.NETTXF_SPLITNET_HEADER_SLOT : 0)
            | (random.nextInt(3) == 0 ? NetifConstants.NETTXF_SPLITNET_HEADER_BY_ID : 0)
            | (random.nextInt(4) == 0 ? NetifConstants.NETTXF_CSUM_BLANK | NetifConstants.NETTXF_DATA_VALIDATED : 0);
        final boolean anyBits = random.nextInt(6) == 0;
        return anyBits ? bits : known;
    }

    private int rxEntry()
    {
        final int slot = slotNearProducer(rxRing, rxSize);
        final int field = RX_ENTRY_FIELDS[random.nextInt(RX_ENTRY_FIELDS.length)];
        final int offset = rxRing + SharedRingDescriptor.ENTRIES_OFFSET + slot * NetifDescriptor.RX_ENTRY_LENGTH + field;
        final int wideValue = u32();
        final int narrowValue = u16();
        if (field == NetifDescriptor.RX_REQ_GREF_OFFSET)
        {
            file.putInt(offset, wideValue);
        }
        else
        {
            file.putShort(offset, (short)narrowValue);
        }
        return 1;
    }

    /**
     * Writes 1..20 TX requests at the live producer, each a plausible request (header slot or a TX
     * frame's gref) with some fields adversarial, then publishes them with one store of req_prod:
     * this is what makes the backend validate hostile requests rather than only race them.
     */
    private int forgeTx()
    {
        final int count = random.nextInt(1, 21);
        final boolean cutChain = random.nextInt(8) == 0;
        // grant the frames first, so that the packet passes validation and reaches the handler;
        // then maybe revoke them right after publishing, racing the backend between its check
        // and its first access (a lazy fragment, or a copy into another frontend)
        final boolean grantFirst = random.nextBoolean();
        final boolean revokeAfter = random.nextInt(3) == 0;
        final int reqProd = file.getIntVolatile(txRing + SharedRingDescriptor.REQ_PROD_OFFSET);
        int fields = 0;
        for (int i = 0; i < count; i++)
        {
            final boolean first = i == 0;
            final boolean last = i == count - 1;
            final int plainGref = random.nextInt(layout.txFrameCount()) | (random.nextBoolean() ? GrantConstants.GREF_PERMANENT : 0);
            final int slot = random.nextInt(layout.headerSlotCount());
            final int size = random.nextInt(3) == 0 ? u16() : first ? random.nextInt(1, 20_000) : random.nextInt(1, PAGE + 1);
            final int offset = random.nextInt(3) == 0 ? u16() : 0;
            final int id = random.nextInt(4) == 0 ? u16() : (reqProd + i) & (txSize - 1);
            final int gref = random.nextInt(4) == 0 ? u32() : first && random.nextBoolean() ? slot : plainGref;
            int flags = random.nextInt(4) == 0 ? txFlags()
                : first && random.nextBoolean() ? NetifConstants.NETTXF_SPLITNET_HEADER_SLOT : 0;
            if (!last || cutChain)
            {
                flags |= NetifConstants.NETTXF_MORE_DATA;
            }
            else if (random.nextInt(4) != 0)
            {
                flags &= ~NetifConstants.NETTXF_MORE_DATA;
            }
            final int at = txRing + SharedRingDescriptor.ENTRIES_OFFSET + ((reqProd + i) & (txSize - 1)) * NetifDescriptor.TX_ENTRY_LENGTH;
            forged[i] = gref;
            if (grantFirst)
            {
                fields += grantForgedFrame(file, layout, gref);
            }
            file.putInt(at + NetifDescriptor.TX_REQ_GREF_OFFSET, gref);
            file.putShort(at + NetifDescriptor.TX_REQ_OFFSET_OFFSET, (short)offset);
            file.putShort(at + NetifDescriptor.TX_REQ_FLAGS_OFFSET, (short)flags);
            file.putShort(at + NetifDescriptor.TX_REQ_ID_OFFSET, (short)id);
            file.putShort(at + NetifDescriptor.TX_REQ_SIZE_OFFSET, (short)size);
            fields += 5;
        }
        // ordered store -> the entries above are visible before the backend sees req_prod move (its acquire load)
        file.putIntVolatile(txRing + SharedRingDescriptor.REQ_PROD_OFFSET, reqProd + count);
        if (revokeAfter)
        {
            fields += revokeForged(file, layout, forged, count);
        }
        awaitResponses(reqProd + count);
        return fields + 1;
    }

    /** Posts 1..16 RX buffers at the live producer with adversarial ids and grefs, then publishes them. */
    private int forgeRx()
    {
        final int count = random.nextInt(1, 17);
        final int reqProd = file.getIntVolatile(rxRing + SharedRingDescriptor.REQ_PROD_OFFSET);
        int fields = 0;
        for (int i = 0; i < count; i++)
        {
            final int rxGref = layout.txFrameCount() + random.nextInt(layout.rxFrameCount());
            final int gref = random.nextInt(3) == 0 ? u32() : rxGref | (random.nextBoolean() ? GrantConstants.GREF_PERMANENT : 0);
            final int id = random.nextInt(3) == 0 ? u16() : random.nextInt(layout.rxFrameCount());
            final int at = rxRing + SharedRingDescriptor.ENTRIES_OFFSET + ((reqProd + i) & (rxSize - 1)) * NetifDescriptor.RX_ENTRY_LENGTH;
            file.putShort(at + NetifDescriptor.RX_REQ_ID_OFFSET, (short)id);
            file.putInt(at + NetifDescriptor.RX_REQ_GREF_OFFSET, gref);
            fields += 2;
        }
        // ordered store -> entries before the index, as a producer publishes
        file.putIntVolatile(rxRing + SharedRingDescriptor.REQ_PROD_OFFSET, reqProd + count);
        return fields + 1;
    }

    private int headerSlot()
    {
        final int slot = random.nextInt(layout.headerSlotCount());
        final int width = 1 << random.nextInt(3);
        final int at = random.nextInt(layout.headerSlotSize() / width) * width;
        final int value = u32();
        final int offset = (int)layout.headerSlotsOffset() + slot * layout.headerSlotSize() + at;
        switch (width)
        {
            case 1 -> file.putByte(offset, (byte)value);
            case 2 -> file.putShort(offset, (short)value);
            default -> file.putInt(offset, value);
        }
        return 1;
    }

    /**
     * Gives the backend up to {@value #FORGE_WAIT_NS} ns to answer a forged chain, so that it
     * validates the chain before the next corruptions (an index written a microsecond later would
     * otherwise disconnect it first). Draws nothing from the random.
     */
    private void awaitResponses(final int rspProd)
    {
        final long deadline = System.nanoTime() + FORGE_WAIT_NS;
        while (file.getIntVolatile(txRing + SharedRingDescriptor.RSP_PROD_OFFSET) - rspProd < 0 && System.nanoTime() - deadline < 0)
        {
            Thread.onSpinWait();
        }
    }

    private int grantEntryOffset(final int gref)
    {
        return grantEntryOffset(layout, gref);
    }

    private static int grantEntryOffset(final DeviceLayout layout, final int gref)
    {
        return (int)layout.grantTableOffset() + gref * GrantEntryDescriptor.ENTRY_LENGTH;
    }

    /**
     * A forged request's TX frame granted read-only to the backend, so the chain passes validation
     * and reaches the handler (both ring formats' forgeTx); returns the fields written.
     */
    static int grantForgedFrame(final UnsafeBuffer file, final DeviceLayout layout, final int gref)
    {
        final int frame = gref & GrantConstants.GREF_MASK;
        if (frame >= layout.txFrameCount())
        {
            return 0;
        }
        final int entry = grantEntryOffset(layout, frame);
        file.putInt(entry + GrantEntryDescriptor.FRAME_OFFSET, frame);
        // ordered store -> the frame before the flags, as a granter does
        file.putIntRelease(entry + GrantEntryDescriptor.FLAGS_OFFSET,
            GrantEntryDescriptor.word(GrantConstants.GTF_PERMIT_ACCESS | GrantConstants.GTF_READONLY, GrantConstants.BACKEND_DOMAIN_ID));
        return 2;
    }

    /**
     * Revokes the grants of the first {@code count} forged requests right after they were
     * published, racing the backend between its check and its first access; returns the fields written.
     */
    static int revokeForged(final UnsafeBuffer file, final DeviceLayout layout, final int[] grefs, final int count)
    {
        int fields = 0;
        for (int i = 0; i < count; i++)
        {
            final int gref = grefs[i] & GrantConstants.GREF_MASK;
            if (gref < layout.grantEntries())
            {
                // flags 0 straight into the word, whatever the backend holds (a CAS would be refused)
                file.putIntVolatile(grantEntryOffset(layout, gref) + GrantEntryDescriptor.FLAGS_OFFSET, 0);
                fields++;
            }
        }
        return fields;
    }

    private int grantEntry()
    {
        final int gref = random.nextInt(4) == 0 ? layout.grantEntries() - 1 - random.nextInt(layout.rxFrameCount()) : random.nextInt(layout.grantEntries());
        final int field = random.nextInt(4);
        final int flags = random.nextInt(3) == 0 ? u16()
            : GrantConstants.GTF_PERMIT_ACCESS | random.nextInt(4) << 2 | (random.nextInt(4) == 0 ? GrantConstants.GTF_WRITING : 0);
        final int domid = random.nextInt(3) == 0 ? u16() : random.nextInt(3);
        final int frame = random.nextInt(3) == 0 ? random.nextInt(layout.frameCount()) : u32();
        final boolean casLike = random.nextBoolean();
        final int entry = (int)layout.grantTableOffset() + gref * GrantEntryDescriptor.ENTRY_LENGTH;
        switch (field)
        {
            case 0 -> file.putShort(entry + GrantEntryDescriptor.FLAGS_OFFSET, (short)flags);
            case 1 -> file.putShort(entry + GrantEntryDescriptor.DOMID_OFFSET, (short)domid);
            case 2 ->
            {
                if (casLike)
                {
                    file.putIntVolatile(entry + GrantEntryDescriptor.FLAGS_OFFSET, GrantEntryDescriptor.word(flags, domid));
                }
                else
                {
                    file.putInt(entry + GrantEntryDescriptor.FLAGS_OFFSET, GrantEntryDescriptor.word(flags, domid));
                }
            }
            default -> file.putInt(entry + GrantEntryDescriptor.FRAME_OFFSET, frame);
        }
        return 1;
    }

    private int control()
    {
        final int[] field = CONTROL_FIELDS[random.nextInt(CONTROL_FIELDS.length)];
        final int value = u32();
        final long wideValue = random.nextBoolean() ? value : random.nextLong();
        if (field[1] == 8)
        {
            file.putLong(field[0], wideValue);
        }
        else
        {
            file.putInt(field[0], value);
        }
        return 1;
    }

    private int p2m()
    {
        final int entry = random.nextInt(layout.frameCount());
        // a whole entry or its low or high half (frame or state and sequence)
        final int at = (int)layout.p2mOffset() + dev.splitnet.mmap.P2mDescriptor.offset(entry);
        switch (random.nextInt(3))
        {
            case 0 -> file.putLong(at, random.nextLong());
            case 1 -> file.putInt(at, u32());
            default -> file.putInt(at + Integer.BYTES, u32());
        }
        return 1;
    }
}

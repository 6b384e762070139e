package dev.splitnet.mmap;

import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.status.CountersReader;

import static dev.splitnet.mmap.ControlDescriptor.*;

/**
 * Where each region of a device file lies. Regions follow each other page-aligned:
 *
 * <pre>
 * +----------------+ 0
 * | control page   |  magic, version, geometry, region offsets, states, features, domain id
 * +----------------+ txRingOffset
 * | TX shared ring |  ringPages pages: Xen sring header + netif_tx entries
 * +----------------+ rxRingOffset
 * | RX shared ring |  ringPages pages: Xen sring header + netif_rx entries
 * +----------------+ headerSlotsOffset
 * | header slots   |  headerSlotCount x headerSlotSize bytes
 * +----------------+ grantTableOffset
 * | grant table    |  grant_entry_v1 x grantEntries (one per frame)
 * +----------------+ p2mOffset
 * | P2M table      |  u64 per frame: state, seq, backing frame (P2mDescriptor; own frame until lazy RX)
 * +----------------+ countersMetadataOffset
 * | counters meta  |  Agrona CountersReader metadata records
 * +----------------+ countersValuesOffset
 * | counter values |  Agrona CountersReader value records
 * +----------------+ framesOffset
 * | frames         |  4 KiB frames: TX pool first, then RX buffers
 * +----------------+ fileLength
 * </pre>
 */
public record DeviceLayout(
    int ringPages, int txRingEntries, int rxRingEntries, int headerSlotSize, int headerSlotCount,
    int grantEntries, int frameCount, int txFrameCount, int counterCount,
    long txRingOffset, long rxRingOffset, long headerSlotsOffset, long grantTableOffset, long p2mOffset,
    long countersMetadataOffset, long countersValuesOffset, long framesOffset, long fileLength)
{
    /** Size of a frame and of the alignment of every region. */
    public static final int PAGE_SIZE = 4096;
    /** The cache line every region is aligned to (regions start on pages). */
    public static final int CACHE_LINE_SIZE = 64;

    /** Computes offsets for a geometry. */
    public static DeviceLayout of(final DeviceGeometry g)
    {
        final int frames = g.txFrameCount() + g.rxFrameCount();
        final long txRing = CONTROL_LENGTH;
        final long rxRing = txRing + (long)g.ringPages() * PAGE_SIZE;
        final long slots = rxRing + (long)g.ringPages() * PAGE_SIZE;
        final long grants = slots + align((long)g.headerSlotCount() * g.headerSlotSize());
        final long p2m = grants + align((long)frames * GrantEntryDescriptor.ENTRY_LENGTH);
        final long meta = p2m + align((long)frames * P2mDescriptor.ENTRY_LENGTH);
        final long values = meta + align((long)g.counterCount() * CountersReader.METADATA_LENGTH);
        final long framesOffset = values + align((long)g.counterCount() * CountersReader.COUNTER_LENGTH);
        final long length = framesOffset + (long)frames * PAGE_SIZE;
        return new DeviceLayout(g.ringPages(), g.txRingEntries(), g.rxRingEntries(), g.headerSlotSize(),
            g.headerSlotCount(), frames, frames, g.txFrameCount(), g.counterCount(),
            txRing, rxRing, slots, grants, p2m, meta, values, framesOffset, length);
    }

    static long align(final long n)
    {
        return (n + PAGE_SIZE - 1) & -PAGE_SIZE;
    }

    public int ringBytes()
    {
        return ringPages * PAGE_SIZE;
    }

    public int rxFrameCount()
    {
        return frameCount - txFrameCount;
    }

    public int countersMetadataLength()
    {
        return counterCount * CountersReader.METADATA_LENGTH;
    }

    public int countersValuesLength()
    {
        return counterCount * CountersReader.COUNTER_LENGTH;
    }

    /** Offset of frame {@code frame} within the file. */
    public long frameOffset(final int frame)
    {
        return framesOffset + (long)frame * PAGE_SIZE;
    }

    /** Writes geometry and offsets into the control page (not the version word: that is the ready signal). */
    public void writeTo(final AtomicBuffer control, final int initialRingIndex)
    {
        control.putLong(MAGIC_OFFSET, MAGIC);
        control.putInt(PAGE_SIZE_OFFSET, PAGE_SIZE);
        control.putLong(FILE_LENGTH_OFFSET, fileLength);
        control.putInt(RING_PAGES_OFFSET, ringPages);
        control.putInt(TX_RING_ENTRIES_OFFSET, txRingEntries);
        control.putInt(RX_RING_ENTRIES_OFFSET, rxRingEntries);
        control.putInt(HEADER_SLOT_SIZE_OFFSET, headerSlotSize);
        control.putInt(HEADER_SLOT_COUNT_OFFSET, headerSlotCount);
        control.putInt(GRANT_ENTRIES_OFFSET, grantEntries);
        control.putInt(FRAME_COUNT_OFFSET, frameCount);
        control.putInt(TX_FRAME_COUNT_OFFSET, txFrameCount);
        control.putInt(COUNTER_COUNT_OFFSET, counterCount);
        control.putInt(INITIAL_RING_INDEX_OFFSET, initialRingIndex);
        control.putLong(TX_RING_OFFSET_OFFSET, txRingOffset);
        control.putLong(RX_RING_OFFSET_OFFSET, rxRingOffset);
        control.putLong(HEADER_SLOTS_OFFSET_OFFSET, headerSlotsOffset);
        control.putLong(GRANT_TABLE_OFFSET_OFFSET, grantTableOffset);
        control.putLong(P2M_OFFSET_OFFSET, p2mOffset);
        control.putLong(COUNTERS_METADATA_OFFSET_OFFSET, countersMetadataOffset);
        control.putLong(COUNTERS_VALUES_OFFSET_OFFSET, countersValuesOffset);
        control.putLong(FRAMES_OFFSET_OFFSET, framesOffset);
    }

    /**
     * Reads a layout a frontend wrote and checks it as untrusted input: magic, major version, and
     * that the geometry is sane and every offset is exactly what that geometry gives, within a file
     * of {@code actualFileLength} bytes. Call after the version word was seen.
     *
     * @throws DeviceFileException naming the field that is wrong.
     */
    public static DeviceLayout readFrom(final AtomicBuffer control, final long actualFileLength, final String file)
    {
        final long magic = control.getLong(MAGIC_OFFSET);
        if (magic != MAGIC)
        {
            throw new DeviceFileException(file + ": not a splitnet device file (magic=0x" + Long.toHexString(magic) + ")");
        }
        final int version = control.getIntVolatile(LAYOUT_VERSION_OFFSET);
        if (major(version) != major(LAYOUT_VERSION))
        {
            throw new DeviceFileException(file + ": layout version " + major(version) + "." + (version & 0xFFFF)
                + " is not supported (this build reads " + major(LAYOUT_VERSION) + ".x); use matching splitnet versions");
        }
        final DeviceGeometry geometry;
        try
        {
            geometry = new DeviceGeometry(control.getInt(RING_PAGES_OFFSET), control.getInt(HEADER_SLOT_SIZE_OFFSET),
                control.getInt(HEADER_SLOT_COUNT_OFFSET), control.getInt(TX_FRAME_COUNT_OFFSET),
                control.getInt(FRAME_COUNT_OFFSET) - control.getInt(TX_FRAME_COUNT_OFFSET), control.getInt(COUNTER_COUNT_OFFSET));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new DeviceFileException(file + ": corrupt geometry: " + ex.getMessage());
        }
        final DeviceLayout expected = of(geometry);
        final DeviceLayout stored = new DeviceLayout(control.getInt(RING_PAGES_OFFSET), control.getInt(TX_RING_ENTRIES_OFFSET),
            control.getInt(RX_RING_ENTRIES_OFFSET), control.getInt(HEADER_SLOT_SIZE_OFFSET), control.getInt(HEADER_SLOT_COUNT_OFFSET),
            control.getInt(GRANT_ENTRIES_OFFSET), control.getInt(FRAME_COUNT_OFFSET), control.getInt(TX_FRAME_COUNT_OFFSET),
            control.getInt(COUNTER_COUNT_OFFSET), control.getLong(TX_RING_OFFSET_OFFSET), control.getLong(RX_RING_OFFSET_OFFSET),
            control.getLong(HEADER_SLOTS_OFFSET_OFFSET), control.getLong(GRANT_TABLE_OFFSET_OFFSET), control.getLong(P2M_OFFSET_OFFSET),
            control.getLong(COUNTERS_METADATA_OFFSET_OFFSET), control.getLong(COUNTERS_VALUES_OFFSET_OFFSET),
            control.getLong(FRAMES_OFFSET_OFFSET), control.getLong(FILE_LENGTH_OFFSET));
        if (!stored.equals(expected))
        {
            throw new DeviceFileException(file + ": region offsets do not match the geometry: stored " + stored + ", expected " + expected);
        }
        if (stored.fileLength != actualFileLength)
        {
            throw new DeviceFileException(file + ": file is " + actualFileLength + " bytes, its layout says " + stored.fileLength
                + "; the file was truncated or is still being created");
        }
        return stored;
    }

    /** Every region's offset and size as one JSON object, for {@code splitnet layout}. */
    public String toJson()
    {
        final StringBuilder sb = new StringBuilder(1024);
        sb.append("{\"page_size\":").append(PAGE_SIZE)
            .append(",\"file_length\":").append(fileLength)
            .append(",\"layout_version\":\"").append(major(LAYOUT_VERSION)).append('.').append(LAYOUT_VERSION & 0xFFFF).append('"')
            .append(",\"tx_ring_entries\":").append(txRingEntries)
            .append(",\"rx_ring_entries\":").append(rxRingEntries)
            .append(",\"header_slot_size\":").append(headerSlotSize)
            .append(",\"header_slot_count\":").append(headerSlotCount)
            .append(",\"grant_entries\":").append(grantEntries)
            .append(",\"frame_count\":").append(frameCount)
            .append(",\"tx_frame_count\":").append(txFrameCount)
            .append(",\"counter_count\":").append(counterCount)
            .append(",\"regions\":[");
        region(sb, "control", 0, CONTROL_LENGTH, true);
        region(sb, "tx_ring", txRingOffset, ringBytes(), false);
        region(sb, "rx_ring", rxRingOffset, ringBytes(), false);
        region(sb, "header_slots", headerSlotsOffset, (long)headerSlotCount * headerSlotSize, false);
        region(sb, "grant_table", grantTableOffset, (long)grantEntries * GrantEntryDescriptor.ENTRY_LENGTH, false);
        region(sb, "p2m", p2mOffset, (long)frameCount * P2mDescriptor.ENTRY_LENGTH, false);
        region(sb, "counters_metadata", countersMetadataOffset, countersMetadataLength(), false);
        region(sb, "counters_values", countersValuesOffset, countersValuesLength(), false);
        region(sb, "frames", framesOffset, (long)frameCount * PAGE_SIZE, false);
        return sb.append("]}").toString();
    }

    private static void region(final StringBuilder sb, final String name, final long offset, final long size, final boolean first)
    {
        if (!first)
        {
            sb.append(',');
        }
        sb.append("{\"name\":\"").append(name).append("\",\"offset\":").append(offset).append(",\"size\":").append(size).append('}');
    }
}

package dev.splitnet.mmap;

/**
 * The sizes a frontend chooses for its device: ring pages, header slots, frames, counters.
 * {@link DeviceLayout} turns them into region offsets.
 */
public record DeviceGeometry(
    int ringPages, int headerSlotSize, int headerSlotCount, int txFrameCount, int rxFrameCount, int counterCount)
{
    public static final int MAX_RING_PAGES = 16;
    public static final int MIN_HEADER_SLOT_SIZE = 64;
    public static final int MAX_HEADER_SLOT_SIZE = 4096;
    /** Frames are addressed by 16-bit ring ids and int offsets: keep the file well under 2 GiB. */
    public static final int MAX_FRAMES = 65536;

    /** Validates every size and fails with the offending {@code name=value}. */
    public DeviceGeometry
    {
        checkRingPages(ringPages);
        if (headerSlotSize < MIN_HEADER_SLOT_SIZE || headerSlotSize > MAX_HEADER_SLOT_SIZE || Integer.bitCount(headerSlotSize) != 1)
        {
            throw new IllegalArgumentException("headerSlotSize=" + headerSlotSize + " must be a power of two from "
                + MIN_HEADER_SLOT_SIZE + " to " + MAX_HEADER_SLOT_SIZE);
        }
        if (headerSlotCount < 1 || headerSlotCount > MAX_FRAMES)
        {
            throw new IllegalArgumentException("headerSlotCount=" + headerSlotCount + " must be 1 to " + MAX_FRAMES);
        }
        if (txFrameCount < NetifLimits.MAX_PAYLOAD_FRAGMENTS || rxFrameCount < NetifLimits.MAX_RX_BUFFERS_PER_PACKET
            || (long)txFrameCount + rxFrameCount > MAX_FRAMES)
        {
            throw new IllegalArgumentException("txFrames=" + txFrameCount + " rxFrames=" + rxFrameCount
                + ": need at least " + NetifLimits.MAX_PAYLOAD_FRAGMENTS + " TX and " + NetifLimits.MAX_RX_BUFFERS_PER_PACKET
                + " RX frames, at most " + MAX_FRAMES + " in all");
        }
        if (counterCount < 1 || counterCount > 1024)
        {
            throw new IllegalArgumentException("counterCount=" + counterCount + " must be 1 to 1024");
        }
    }

    private static void checkRingPages(final int ringPages)
    {
        if (ringPages < 1 || ringPages > MAX_RING_PAGES || Integer.bitCount(ringPages) != 1)
        {
            throw new IllegalArgumentException("ringPages=" + ringPages + " must be a power of two from 1 to " + MAX_RING_PAGES);
        }
    }

    /** Entries of the TX ring for these ring pages. */
    public int txRingEntries()
    {
        return SharedRingDescriptor.ringSize(ringPages * DeviceLayout.PAGE_SIZE, NetifDescriptor.TX_ENTRY_LENGTH);
    }

    /** Entries of the RX ring for these ring pages. */
    public int rxRingEntries()
    {
        return SharedRingDescriptor.ringSize(ringPages * DeviceLayout.PAGE_SIZE, NetifDescriptor.RX_ENTRY_LENGTH);
    }

    /** A geometry for a frontend: one header slot per TX ring entry. */
    public static DeviceGeometry of(final int ringPages, final int headerSlotSize, final int txFrames, final int rxFrames)
    {
        // Before the ring size below, which cannot name a bad ringPages (or overflows on a huge one).
        checkRingPages(ringPages);
        final int txEntries = SharedRingDescriptor.ringSize(ringPages * DeviceLayout.PAGE_SIZE, NetifDescriptor.TX_ENTRY_LENGTH);
        return new DeviceGeometry(ringPages, headerSlotSize, txEntries, txFrames, rxFrames, DeviceCounter.COUNT);
    }
}

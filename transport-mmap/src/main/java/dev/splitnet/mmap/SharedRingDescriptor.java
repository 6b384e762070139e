package dev.splitnet.mmap;

/**
 * Byte layout of a Xen shared ring ({@code io/ring.h}, {@code struct __name##_sring}) on x86-64.
 *
 * <pre>
 *   0                   4                   8                  12                  16
 *   +-------------------+-------------------+-------------------+-------------------+
 *   |     req_prod      |     req_event     |     rsp_prod      |     rsp_event     |
 *   +-------------------+-------------------+-------------------+-------------------+
 *   | pvt (4)           | __pad (44)                                                |
 *   +-------------------+-----------------------------------------------------------+
 *  64: ring[0] ring[1] ... ring[size - 1]   (union of request and response entries)
 * </pre>
 *
 * Indices are free-running unsigned 32-bit counters; an entry's slot is {@code index & (size - 1)}.
 * Requests and responses share the slots: a response overwrites the request it answers.
 */
public final class SharedRingDescriptor
{
    public static final int REQ_PROD_OFFSET = 0;
    public static final int REQ_EVENT_OFFSET = 4;
    public static final int RSP_PROD_OFFSET = 8;
    public static final int RSP_EVENT_OFFSET = 12;
    public static final int PVT_OFFSET = 16;
    /** Offset of ring[0]: the header is 16 bytes of indices, 4 of pvt and 44 of padding. */
    public static final int ENTRIES_OFFSET = 64;

    private SharedRingDescriptor()
    {
    }

    /**
     * Xen's {@code __RING_SIZE}: the largest power of two number of entries that fits after the
     * header in {@code ringBytes}.
     */
    public static int ringSize(final int ringBytes, final int entryBytes)
    {
        final int fit = (ringBytes - ENTRIES_OFFSET) / entryBytes;
        if (fit < 1)
        {
            throw new IllegalArgumentException("ring of " + ringBytes + " bytes holds no entry of " + entryBytes);
        }
        return Integer.highestOneBit(fit);
    }

    /** Offset of the entry for a free-running index. */
    public static int entryOffset(final int index, final int mask, final int entryBytes)
    {
        return ENTRIES_OFFSET + (index & mask) * entryBytes;
    }
}

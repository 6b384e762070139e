package dev.splitnet.mmap;

/**
 * Byte layout of Xen's {@code struct grant_entry_v1}: flags:u16 @0 | domid:u16 @2 | frame:u32 @4.
 * Flags and domid are read and swapped together as one little-endian 32-bit word (flags in the low
 * half), as Xen's hypervisor does with cmpxchg on the pair.
 */
public final class GrantEntryDescriptor
{
    public static final int FLAGS_OFFSET = 0;
    public static final int DOMID_OFFSET = 2;
    public static final int FRAME_OFFSET = 4;
    public static final int ENTRY_LENGTH = 8;

    private GrantEntryDescriptor()
    {
    }

    /** The 32-bit flags+domid word for an entry. */
    public static int word(final int flags, final int domid)
    {
        return (flags & 0xFFFF) | (domid << 16);
    }

    public static int flagsOf(final int word)
    {
        return word & 0xFFFF;
    }

    public static int domidOf(final int word)
    {
        return word >>> 16;
    }
}

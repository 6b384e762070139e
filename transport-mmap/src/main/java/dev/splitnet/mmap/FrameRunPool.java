package dev.splitnet.mmap;

/**
 * Free frames as a bitmap, handed out as runs of consecutive frames (a frame span needs its frames
 * consecutive so that one request and one view cover them). Next-fit from where the last run
 * ended: with completions coming back roughly in order this walks the pool like a ring, and a run
 * is found at the cursor without searching. Private to one thread; allocation-free after
 * construction; double free and foreign values are rejected.
 */
public final class FrameRunPool
{
    private final long[] used;
    private final int base;
    private final int capacity;
    private int available;
    private int cursor;

    /** A pool of frames {@code base .. base+count-1}, all free. */
    public FrameRunPool(final int base, final int count)
    {
        if (count < 1)
        {
            throw new IllegalArgumentException("count=" + count + " must be at least 1");
        }
        this.base = base;
        this.capacity = count;
        this.available = count;
        this.used = new long[(count + 63) >>> 6];
    }

    public int capacity()
    {
        return capacity;
    }

    /** Free frames in all (a run of that length may still not exist). */
    public int available()
    {
        return available;
    }

    /**
     * Takes {@code length} consecutive frames.
     *
     * @return the first frame of the run, or -1 when no run that long is free.
     */
    public int acquire(final int length)
    {
        if (length < 1 || length > available)
        {
            return -1;
        }
        // next fit: from the cursor to the end, then once more from the start
        int start = findRun(cursor, length);
        if (start < 0 && cursor != 0)
        {
            start = findRun(0, length);
        }
        if (start < 0)
        {
            return -1;
        }
        setRange(start, length, true);
        available -= length;
        cursor = start + length == capacity ? 0 : start + length;
        return base + start;
    }

    /** Gives back a run taken with {@link #acquire}. */
    public void release(final int first, final int length)
    {
        final int start = first - base;
        if (length == 1 && start >= 0 && start < capacity)
        {
            // one frame (a lent frame coming back): one bit, no range walk
            final long bit = 1L << start;
            final int word = start >>> 6;
            if ((used[word] & bit) == 0)
            {
                throw new IllegalStateException("frame " + first + " is not held from pool [" + base + ", " + (base + capacity) + ")");
            }
            used[word] &= ~bit;
            available++;
            return;
        }
        if (start < 0 || length < 1 || start + length > capacity || !isRangeUsed(start, length))
        {
            throw new IllegalStateException("frames [" + first + ", " + (first + length) + ") are not held from pool ["
                + base + ", " + (base + capacity) + ")");
        }
        setRange(start, length, false);
        available += length;
    }

    /** Whether {@code frame} is currently handed out. */
    public boolean isHeld(final int frame)
    {
        final int i = frame - base;
        return i >= 0 && i < capacity && (used[i >>> 6] & (1L << i)) != 0;
    }

    private int findRun(final int from, final int length)
    {
        int position = from;
        while (position + length <= capacity)
        {
            final int start = nextFree(position);
            if (start < 0 || start + length > capacity)
            {
                return -1;
            }
            final int end = nextUsed(start, start + length);
            if (end - start >= length)
            {
                return start;
            }
            position = end;
        }
        return -1;
    }

    /** The first free frame index at or after {@code from}, or -1. */
    private int nextFree(final int from)
    {
        int word = from >>> 6;
        long free = ~used[word] & (-1L << from);
        while (free == 0)
        {
            if (++word == used.length)
            {
                return -1;
            }
            free = ~used[word];
        }
        final int index = (word << 6) + Long.numberOfTrailingZeros(free);
        return index < capacity ? index : -1;
    }

    /** The first used frame index in {@code [from, limit)}, or {@code limit}. */
    private int nextUsed(final int from, final int limit)
    {
        int word = from >>> 6;
        long taken = used[word] & (-1L << from);
        while (taken == 0)
        {
            if (++word == used.length || word << 6 >= limit)
            {
                return limit;
            }
            taken = used[word];
        }
        return Math.min(limit, (word << 6) + Long.numberOfTrailingZeros(taken));
    }

    private boolean isRangeUsed(final int start, final int length)
    {
        final int end = start + length;
        for (int i = start; i < end; )
        {
            final int bits = Math.min(64 - (i & 63), end - i);
            final long mask = maskOf(i, bits);
            if ((used[i >>> 6] & mask) != mask)
            {
                return false;
            }
            i += bits;
        }
        return true;
    }

    /** Marks or clears a range a word at a time (a 16-frame run is one or two masks, not 16 bit ops). */
    private void setRange(final int start, final int length, final boolean value)
    {
        final int end = start + length;
        for (int i = start; i < end; )
        {
            final int bits = Math.min(64 - (i & 63), end - i);
            final long mask = maskOf(i, bits);
            if (value)
            {
                used[i >>> 6] |= mask;
            }
            else
            {
                used[i >>> 6] &= ~mask;
            }
            i += bits;
        }
    }

    /** {@code bits} ones (1..64) starting at bit {@code i & 63} of a word. */
    private static long maskOf(final int i, final int bits)
    {
        return (bits == 64 ? -1L : (1L << bits) - 1) << i;
    }
}

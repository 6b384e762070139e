package dev.splitnet.backend;

import java.nio.ByteBuffer;
import org.agrona.BufferUtil;

/**
 * The backend's own memory for late copies of held packets: one region allocated at launch and
 * carved into runs of {@link #UNIT}-byte units, found first-fit from a rover in a free bitmap. A
 * held packet's payload is copied into one run, so that each fragment stays one contiguous view.
 * Bounded in total here; each frontend's share is bounded by its {@link PendingTable}. Used on the
 * duty-cycle thread only.
 */
final class CopyMemory
{
    /** Allocation granule: small packets take 256 bytes, not a page. */
    static final int UNIT = 256;

    private final ByteBuffer region;
    private final long address;
    private final int units;
    // bit u set: unit u is in use
    private final long[] used;
    private int freeUnits;
    private int rover;

    CopyMemory(final long bytes)
    {
        final long rounded = (bytes + UNIT - 1) / UNIT * UNIT;
        if (rounded > Integer.MAX_VALUE - UNIT)
        {
            throw new IllegalArgumentException("copyMemoryBytes=" + bytes + " must be below 2 GiB");
        }
        this.units = (int)(rounded / UNIT);
        this.region = ByteBuffer.allocateDirect((int)Math.max(rounded, UNIT));
        this.address = BufferUtil.address(region);
        this.used = new long[(units + 63) / 64];
        this.freeUnits = units;
    }

    /** Units a copy of {@code bytes} takes. */
    static int unitsFor(final int bytes)
    {
        return Math.max(1, (bytes + UNIT - 1) / UNIT);
    }

    /**
     * Takes a run of units for {@code bytes}.
     *
     * @return the first unit, or -1 when no run that long is free.
     */
    int allocate(final int bytes)
    {
        final int need = unitsFor(bytes);
        if (need > freeUnits)
        {
            return -1;
        }
        // first fit from the rover, wrapping once: runs are freed roughly in the order they were taken
        int start = rover;
        int scanned = 0;
        while (scanned < units)
        {
            if (start + need > units)
            {
                scanned += units - start;
                start = 0;
                continue;
            }
            final int busy = firstUsed(start, need);
            if (busy < 0)
            {
                mark(start, need, true);
                freeUnits -= need;
                rover = start + need == units ? 0 : start + need;
                return start;
            }
            scanned += busy + 1 - start;
            start = busy + 1;
        }
        return -1;
    }

    /** Gives back a run {@link #allocate} returned for {@code bytes}. */
    void free(final int unit, final int bytes)
    {
        final int n = unitsFor(bytes);
        mark(unit, n, false);
        freeUnits += n;
    }

    /** The address of a unit, for an UnsafeBuffer to wrap. */
    long address(final int unit)
    {
        return address + (long)unit * UNIT;
    }

    /** A new view of the whole region for channel writes (each fragment keeps its own). */
    ByteBuffer channelView()
    {
        return region.duplicate();
    }

    /** Byte position of a unit in {@link #channelView()}. */
    static int position(final int unit)
    {
        return unit * UNIT;
    }

    private int firstUsed(final int from, final int count)
    {
        for (int u = from; u < from + count; u++)
        {
            if ((used[u >>> 6] & (1L << u)) != 0)
            {
                return u;
            }
        }
        return -1;
    }

    private void mark(final int from, final int count, final boolean inUse)
    {
        for (int u = from; u < from + count; u++)
        {
            if (inUse)
            {
                used[u >>> 6] |= 1L << u;
            }
            else
            {
                used[u >>> 6] &= ~(1L << u);
            }
        }
    }
}

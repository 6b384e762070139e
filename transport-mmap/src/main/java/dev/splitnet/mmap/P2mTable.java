package dev.splitnet.mmap;

import org.agrona.concurrent.AtomicBuffer;

import static dev.splitnet.mmap.P2mDescriptor.*;

/**
 * Flyweight over a device's P2M region ({@link P2mDescriptor}). Every access is a volatile load,
 * a compare-and-set or a release store on the whole 64-bit entry: the two sides hand frames over
 * through these words alone, and each ordering is named where it is used (RxDelivery, LentFrames,
 * RxPath).
 */
public final class P2mTable
{
    private final AtomicBuffer buffer;
    private final int entries;

    public P2mTable(final AtomicBuffer buffer, final int entries)
    {
        if ((long)entries * ENTRY_LENGTH > buffer.capacity())
        {
            throw new IllegalArgumentException(entries + " P2M entries do not fit " + buffer.capacity() + " bytes");
        }
        this.buffer = buffer;
        this.entries = entries;
    }

    public int entries()
    {
        return entries;
    }

    /** Creator, before the device is published: every frame backed by itself. */
    void initIdentity()
    {
        for (int frame = 0; frame < entries; frame++)
        {
            buffer.putLong(offset(frame), encode(OWN, 0, frame));
        }
    }

    /** Acquire load: what was written before the entry's last release store or CAS is visible after it. */
    public long load(final int frame)
    {
        return buffer.getLongVolatile(offset(frame));
    }

    /** Full-fence compare-and-set of the whole entry. */
    public boolean compareAndSet(final int frame, final long expected, final long update)
    {
        return buffer.compareAndSetLong(offset(frame), expected, update);
    }

    /**
     * Frontend: pins a LENT entry before reading the backend frame it names (LENT to PINNED). The
     * full fence of the CAS orders it before the reads of the frame; a backend that takes the
     * frame back first makes it fail.
     *
     * @return the PINNED entry, or 0 when the entry is no longer {@code lent}.
     */
    public long pin(final int frame, final long lent)
    {
        final long pinned = moved(lent, PINNED);
        return compareAndSet(frame, lent, pinned) ? pinned : 0;
    }

    /**
     * Backend: starts taking a lent frame back (LENT or PINNED to RECLAIMING); the copy into the
     * frontend's own frame follows, then {@link #finishReclaim}.
     *
     * @return the RECLAIMING entry, or 0 when the entry is no longer {@code expected}.
     */
    public long beginReclaim(final int frame, final long expected)
    {
        final long reclaiming = moved(expected, RECLAIMING);
        return compareAndSet(frame, expected, reclaiming) ? reclaiming : 0;
    }

    /**
     * Backend: the frontend's own frame holds the copy: OWN, with a release store (pairs with the
     * frontend's acquire load, after which it reads the copied bytes). Returns the OWN entry.
     */
    public long finishReclaim(final int frame, final long reclaiming)
    {
        final long own = encode(OWN, next(seq(reclaiming)), frame);
        storeRelease(frame, own);
        return own;
    }

    /** Release store: what this thread wrote before it (a frame's bytes) is visible to an acquire load of it. */
    public void storeRelease(final int frame, final long entry)
    {
        buffer.putLongRelease(offset(frame), entry);
    }
}

package dev.splitnet.mmap;

import java.lang.invoke.VarHandle;
import org.agrona.concurrent.AtomicBuffer;

/**
 * The producing end of one of a ring v2 region's two rings ({@link RingV2Descriptor}): the
 * frontend's requests or the backend's responses. It writes only its own entries; it reads the
 * consumer's line only when it must: {@code cons} when its cached copy says the ring is full
 * (Agrona's ring caches its head the same way), {@code event} once per push.
 *
 * <p>The consumer's line is hostile input: a {@code cons} behind the last one seen or ahead of
 * what was produced is {@link #CORRUPT}.
 */
public final class RingV2Producer
{
    /** {@link #claim} result: every slot holds an entry the consumer has not consumed yet. */
    public static final int FULL = -1;
    /** {@link #claim} result: the consumer published an impossible {@code cons}. */
    public static final int CORRUPT = -2;

    private static final int CACHE_LINE_SHIFT = 6;
    /** Entries of 8 bytes, the smallest, on one 64-byte line. */
    private static final int MAX_HELD = 8;
    private static final long NO_HEAD = 0;

    private final AtomicBuffer region;
    private final int entriesOffset;
    private final int entryLength;
    private final int wordOffset;
    private final int consOffset;
    private final int eventOffset;
    private final int size;
    private final int mask;
    private final int shift;
    private int prod;
    private int cachedCons;
    private int pushed;
    private boolean corrupt;
    private int badCons;
    // the batch's entries on the line of its first, stored only at the push (see commit)
    private final int[] heldAt = new int[MAX_HELD];
    private final long[] heldHeads = new long[MAX_HELD];
    private final boolean[] heldHasHead = new boolean[MAX_HELD];
    private final long[] heldWords = new long[MAX_HELD];
    private int heldCount;
    private int heldLine;

    /**
     * @param entriesOffset where this ring's entry 0 is in the region
     * @param entryLength   bytes per entry
     * @param wordOffset    where the tagged word is within an entry
     * @param consOffset    the consumer's {@code cons} in the region (its line)
     * @param eventOffset   the consumer's {@code event} in the region (its line)
     */
    public RingV2Producer(final AtomicBuffer region, final int size, final int entriesOffset, final int entryLength,
        final int wordOffset, final int consOffset, final int eventOffset)
    {
        RingV2Descriptor.checkSize(size);
        this.region = region;
        this.entriesOffset = entriesOffset;
        this.entryLength = entryLength;
        this.wordOffset = wordOffset;
        this.consOffset = consOffset;
        this.eventOffset = eventOffset;
        this.size = size;
        this.mask = size - 1;
        this.shift = Integer.numberOfTrailingZeros(size);
    }

    /**
     * Lays the ring out for a first index of {@code start}: every slot tagged as written one lap
     * before its first use (so it reads "not yet"), the consumer's {@code cons} at {@code start},
     * its event one past it. Only the side that initialises the region calls this (the frontend,
     * for both rings, before the backend attaches); the other end then calls its {@code attachAt}; this end, {@link #attachAt}, when it did not initialise.
     */
    public void init(final int start)
    {
        for (int slot = 0; slot < size; slot++)
        {
            // the first index at or after start that uses this slot
            final int first = start + ((slot - start) & mask);
            region.putLong(entryOffset(first) + wordOffset, (long)RingV2Descriptor.tag(first - size, shift) << RingV2Descriptor.TAG_SHIFT);
        }
        region.putInt(consOffset, start);
        region.putInt(eventOffset, start + 1);
        attachAt(start);
    }

    /** Starts producing at {@code start}, as the region was initialised. */
    public void attachAt(final int start)
    {
        prod = start;
        pushed = start;
        cachedCons = start;
        corrupt = false;
    }

    public int size()
    {
        return size;
    }

    /** The next index to produce. */
    public int producer()
    {
        return prod;
    }

    /**
     * Whether {@code entries} more may be claimed now; false also when the consumer's {@code cons}
     * is impossible (the next {@link #claim} says {@link #CORRUPT}). Reads {@code cons} only when
     * the cached copy leaves too little room.
     */
    public boolean hasRoomFor(final int entries)
    {
        return !corrupt && (size - (prod - cachedCons) >= entries || refreshCons() && size - (prod - cachedCons) >= entries);
    }

    /**
     * Reads the consumer's {@code cons}; false (and {@link #badConsumer} keeps it) when it is
     * behind the last one seen or ahead of what was produced.
     */
    private boolean refreshCons()
    {
        // Acquire pairs with the consumer's release store of cons after it copied the entries
        // out: the slots below it may be overwritten.
        final int cons = region.getIntAcquire(consOffset);
        if (Integer.compareUnsigned(cons - cachedCons, prod - cachedCons) > 0)
        {
            badCons = cons;
            corrupt = true;
            return false;
        }
        cachedCons = cons;
        return true;
    }

    /** Whether the consumer ever published an impossible {@code cons}. */
    public boolean isCorrupt()
    {
        return corrupt;
    }

    /** The impossible {@code cons} the consumer published (valid when {@link #isCorrupt()}). */
    public int badConsumer()
    {
        return badCons;
    }

    /** The consumer's {@code cons} as last read. */
    public int cachedConsumer()
    {
        return cachedCons;
    }

    /**
     * Offset of the next entry to write, or {@link #FULL}, or {@link #CORRUPT}. Reads the
     * consumer's {@code cons} only when the cached copy says full.
     */
    public int claim()
    {
        if (corrupt)
        {
            return CORRUPT;
        }
        if (prod - cachedCons == size)
        {
            if (!refreshCons())
            {
                return CORRUPT;
            }
            if (prod - cachedCons == size)
            {
                return FULL;
            }
        }
        return entryOffset(prod);
    }

    /**
     * Commits the claimed entry: its other bytes are written, {@code fields} are the tagged word's
     * low 48 bits. Each word is one release store, pairing with the consumer's acquire load of it.
     * <p>The batch's first entry, and every later one on the same cache line, is held and stored
     * only at {@link #pushAndCheckNotify}, the first word last (as a virtio packed ring writes a
     * chain's first descriptor's flags last). The consumer polls the first entry: it sees the
     * whole batch at once, and no store of the batch lands on the line it is polling before then.
     * Otherwise each store to that line takes it from the polling consumer and the consumer's next
     * poll takes it back: measured 5-12 M/s against 25-65 M/s with every entry stored at once.
     */
    public void commit(final int entryOffset, final long fields)
    {
        commit(entryOffset, NO_HEAD, false, fields);
    }

    /**
     * As {@link #commit(int, long)} for an entry whose first 8 bytes (its {@code head}) precede
     * the word, given here rather than written by the caller, so that a held entry is held whole.
     * A head the caller wrote itself into the polled line would take the line from the consumer
     * and the word would take it back: two more line transfers on a round trip.
     */
    public void commit(final int entryOffset, final long head, final long fields)
    {
        commit(entryOffset, head, true, fields);
    }

    private void commit(final int entryOffset, final long head, final boolean hasHead, final long fields)
    {
        final long word = (fields & ((1L << RingV2Descriptor.TAG_SHIFT) - 1))
            | (long)RingV2Descriptor.tag(prod, shift) << RingV2Descriptor.TAG_SHIFT;
        // the region starts on a page, so offset / 64 is the entry's cache line
        final int line = entryOffset >>> CACHE_LINE_SHIFT;
        if (heldCount == 0 || line == heldLine && heldCount < heldAt.length)
        {
            heldLine = line;
            heldAt[heldCount] = entryOffset;
            heldHeads[heldCount] = head;
            heldHasHead[heldCount] = hasHead;
            heldWords[heldCount] = word;
            heldCount++;
        }
        else
        {
            if (hasHead)
            {
                region.putLong(entryOffset, head);
            }
            region.putLongRelease(entryOffset + wordOffset, word);
        }
        prod++;
    }

    /**
     * After a batch of commits: whether the consumer asked to be woken for one of them (its event
     * index in the batch, Xen's RING_PUSH_*_AND_CHECK_NOTIFY).
     */
    public boolean pushAndCheckNotify()
    {
        final int old = pushed;
        final int now = prod;
        if (old == now)
        {
            return false;
        }
        // the held entries, back to back, the batch's first word last: its release orders every
        // other entry of the batch before it, so acquiring it makes them all visible. Only then
        // is the batch pushed: a push a late memory fault interrupts here is repeated whole (the
        // stores are idempotent) instead of leaving its batch unpublished
        for (int i = heldCount - 1; i >= 0; i--)
        {
            if (heldHasHead[i])
            {
                region.putLong(heldAt[i], heldHeads[i]);
            }
            region.putLongRelease(heldAt[i] + wordOffset, heldWords[i]);
        }
        heldCount = 0;
        pushed = now;
        // StoreLoad between the batch's last entry store and the load of event (Xen's mb()). Pairs
        // with the consumer's volatile store of event then volatile load of the entry in
        // finalCheck: either this load sees its event (and notifies) or its re-check sees the entry.
        VarHandle.fullFence();
        final int event = region.getIntVolatile(eventOffset);
        return Integer.compareUnsigned(now - event, now - old) < 0;
    }

    private int entryOffset(final int index)
    {
        return entriesOffset + (index & mask) * entryLength;
    }
}

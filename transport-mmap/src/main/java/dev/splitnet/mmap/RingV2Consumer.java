package dev.splitnet.mmap;

import org.agrona.concurrent.AtomicBuffer;

/**
 * The consuming end of one of a ring v2 region's two rings ({@link RingV2Descriptor}): it polls
 * the next entry's tagged word (no shared producer index), copies what it needs out of it, and
 * publishes how far it has consumed in its own line, once per batch.
 *
 * <p>The entries are hostile input: a tag that is neither the index's lap nor the lap before (an
 * ownership tag flipped, a producer racing a lap ahead, garbage) is {@link #CORRUPT}.
 */
public final class RingV2Consumer
{
    /** {@link #poll} result: the next entry is not written yet. */
    public static final long EMPTY = -1;
    /** {@link #poll} result: the next entry's tag is impossible. */
    public static final long CORRUPT = -2;

    private static final long FIELDS = (1L << RingV2Descriptor.TAG_SHIFT) - 1;

    private final AtomicBuffer region;
    private final int entriesOffset;
    private final int entryLength;
    private final int wordOffset;
    private final int consOffset;
    private final int eventOffset;
    private final int mask;
    private final int shift;
    private int cons;
    private int published;

    /**
     * @param consOffset  this side's {@code cons} in the region (its own line)
     * @param eventOffset this side's {@code event} in the region (its own line)
     */
    public RingV2Consumer(final AtomicBuffer region, final int size, final int entriesOffset, final int entryLength,
        final int wordOffset, final int consOffset, final int eventOffset)
    {
        RingV2Descriptor.checkSize(size);
        this.region = region;
        this.entriesOffset = entriesOffset;
        this.entryLength = entryLength;
        this.wordOffset = wordOffset;
        this.consOffset = consOffset;
        this.eventOffset = eventOffset;
        this.mask = size - 1;
        this.shift = Integer.numberOfTrailingZeros(size);
    }

    /** Starts consuming at {@code start}, as the producer initialised the ring. */
    public void attachAt(final int start)
    {
        cons = start;
        published = start;
    }

    /** The next index to consume. */
    public int consumer()
    {
        return cons;
    }

    /** Offset of the next entry (its bytes before the word are valid once {@link #poll} returned its fields). */
    public int entryOffset()
    {
        return entryOffset(0);
    }

    /** Offset of the entry {@code ahead} past the next one. */
    public int entryOffset(final int ahead)
    {
        return entriesOffset + ((cons + ahead) & mask) * entryLength;
    }

    /**
     * The next entry's word fields (its low 48 bits, never negative), or {@link #EMPTY}, or
     * {@link #CORRUPT}. Acquire pairs with the producer's release store in commit: the entry's
     * other bytes, written before it, are visible. Consumes nothing; {@link #consume} does.
     */
    public long poll()
    {
        return poll(0);
    }

    /**
     * As {@link #poll()}, for the entry {@code ahead} past the next one (0 to size - 1): a chain's
     * later requests, read before the chain is consumed.
     */
    public long poll(final int ahead)
    {
        final long word = region.getLongAcquire(entryOffset(ahead) + wordOffset);
        final int tag = (int)(word >>> RingV2Descriptor.TAG_SHIFT);
        final int expected = RingV2Descriptor.tag(cons + ahead, shift);
        if (tag == expected)
        {
            return word & FIELDS;
        }
        return tag == ((expected - 1) & 0xFFFF) ? EMPTY : CORRUPT;
    }

    /** Consumes the entry {@link #poll} returned: copy out what is needed first, the producer may reuse it after {@link #publish}. */
    public void consume()
    {
        cons++;
    }

    /** Consumes {@code n} entries. */
    public void consume(final int n)
    {
        cons += n;
    }

    /** The tag found in the entry {@code ahead} past the next one, for a corruption's message. */
    public int tagAt(final int ahead)
    {
        return (int)(region.getLongVolatile(entryOffset(ahead) + wordOffset) >>> RingV2Descriptor.TAG_SHIFT);
    }

    /** The tag the entry {@code ahead} past the next one should carry. */
    public int expectedTag(final int ahead)
    {
        return RingV2Descriptor.tag(cons + ahead, shift);
    }

    /**
     * Tells the producer how far this side consumed, if it moved: one release store per batch on
     * this side's own line, pairing with the producer's acquire in claim (the entries below were
     * copied out before it).
     */
    public void publish()
    {
        if (published != cons)
        {
            published = cons;
            region.putIntRelease(consOffset, cons);
        }
    }

    /**
     * Before sleeping (Xen's RING_FINAL_CHECK_FOR_*): publishes, asks to be woken at the next
     * entry, then looks again, so an entry that raced the arming is seen instead of slept through.
     *
     * @return whether an entry (or a corrupt one) is waiting.
     */
    public boolean finalCheck()
    {
        if (poll() != EMPTY)
        {
            return true;
        }
        publish();
        // Volatile store of event then a volatile load of the entry: the store-load order the
        // producer's fence in pushAndCheckNotify pairs with (no lost wake-up).
        region.putIntVolatile(eventOffset, cons + 1);
        return (int)(region.getLongVolatile(entryOffset() + wordOffset) >>> RingV2Descriptor.TAG_SHIFT) != ((RingV2Descriptor.tag(cons, shift) - 1) & 0xFFFF);
    }
}

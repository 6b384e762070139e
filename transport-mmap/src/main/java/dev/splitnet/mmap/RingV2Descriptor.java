package dev.splitnet.mmap;

/**
 * Byte layout of a ring v2 region (feature {@code ring-v2}; docs/PROTOCOL.md, "Ring v2"). One
 * region (the device file's {@code tx_ring} or {@code rx_ring}) holds two one-way rings: requests,
 * which only the frontend writes, and responses, which only the backend writes. Each side also
 * writes two control lines of its own. So no cache line is written by both sides, and a consumer
 * polls the next entry itself (its tag) instead of an index the producer shares.
 *
 * <pre>
 *   0     rsp_cons   (frontend's line: how far it consumed responses)
 * 128     rsp_event  (frontend's line: the response index it wants a doorbell at; written to sleep)
 * 256     req_cons   (backend's line, as rsp_cons for requests)
 * 384     req_event  (backend's line, as rsp_event for requests)
 * 512: request[0] ... request[size - 1]     (frontend writes; requestLength bytes each)
 *      response[0] ... response[size - 1]   (backend writes; 8 bytes each, from 512 + size * requestLength)
 * </pre>
 *
 * <p>The control words are 128 bytes apart: the adjacent-line prefetcher fetches 64-byte lines
 * in aligned pairs, so a word on the other half of a pair the peer writes would be pulled from
 * under it (JCTools and Aeron pad to 128 bytes for the same reason).
 *
 * <p>{@code cons} and {@code event} sit on lines of their own: the consumer writes {@code cons}
 * once a batch and the producer reads it only when the ring looks full, while the producer reads
 * {@code event} once a batch and the consumer writes it only before it sleeps. On one line each
 * {@code cons} update would cost the producer a miss at its next event check (measured: the
 * round trip 1.54x the bare line with them together; see {@code RingLayoutBench}).
 *
 * <p>Every entry ends in (TX request) or is (the others) one little-endian 64-bit word whose top 16
 * bits are the entry's <b>tag</b>: the lap of the free-running index it was written for
 * ({@code index >>> log2(size)}, mod 2^16). The producer writes the entry's other bytes, then the
 * word with one release store; the consumer reads the word with one acquire load. A tag of the
 * index's lap means the entry is there; of the lap before, not yet; anything else, a broken or
 * hostile producer. The consumer publishes how far it has consumed ({@code *_cons}) so the
 * producer may reuse slots, and the index it wants to be woken at ({@code *_event}, Xen's event
 * index, as virtio's event suppression): a polling consumer never arms it, so a busy ring rings
 * no doorbell.
 */
public final class RingV2Descriptor
{
    /** The frontend's control lines: how far it consumed responses, and where it wants a doorbell. */
    public static final int RSP_CONS_OFFSET = 0;
    public static final int RSP_EVENT_OFFSET = 128;
    /** The backend's control lines: how far it consumed requests, and where it wants a doorbell. */
    public static final int REQ_CONS_OFFSET = 256;
    public static final int REQ_EVENT_OFFSET = 384;
    /** Offset of request[0]: four control words, 128 bytes apart, before it. */
    public static final int ENTRIES_OFFSET = 512;
    /** Response entries of both rings: one tagged word. */
    public static final int RESPONSE_LENGTH = 8;
    /** TX requests: gref, offset, flags, then the tagged word (id, size, tag). */
    public static final int TX_REQUEST_LENGTH = 16;
    /** RX requests: one tagged word (gref, id, tag). */
    public static final int RX_REQUEST_LENGTH = 8;
    /** Bit position of the tag in an entry's word. */
    public static final int TAG_SHIFT = 48;

    private RingV2Descriptor()
    {
    }

    /**
     * Entries in each of the two rings of a region of {@code regionBytes}: the largest power of
     * two whose requests and responses fit after the control lines.
     */
    public static int ringSize(final int regionBytes, final int requestLength)
    {
        final int fit = (regionBytes - ENTRIES_OFFSET) / (requestLength + RESPONSE_LENGTH);
        if (fit < 1)
        {
            throw new IllegalArgumentException("ring v2 region of " + regionBytes + " bytes holds no entry of " + requestLength
                + " + " + RESPONSE_LENGTH + " bytes");
        }
        return Integer.highestOneBit(fit);
    }

    /** Sizes both ends accept: a power of two, at most 65536 (a 16-bit lap tag then never repeats within a ring). */
    static void checkSize(final int size)
    {
        if (Integer.bitCount(size) != 1 || size > 1 << 16)
        {
            throw new IllegalArgumentException("ring v2 size=" + size + " must be a power of two, at most 65536");
        }
    }

    /** Offset of response[0] in a region whose rings have {@code size} entries. */
    public static int responsesOffset(final int size, final int requestLength)
    {
        return ENTRIES_OFFSET + size * requestLength;
    }

    /** The tag an entry written for free-running {@code index} carries. */
    public static int tag(final int index, final int sizeShift)
    {
        return (index >>> sizeShift) & 0xFFFF;
    }
}

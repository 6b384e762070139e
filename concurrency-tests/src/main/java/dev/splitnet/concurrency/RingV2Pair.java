package dev.splitnet.concurrency;

import dev.splitnet.mmap.NetifV2Entries;
import dev.splitnet.mmap.RingV2Consumer;
import dev.splitnet.mmap.RingV2Producer;
import java.nio.ByteBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import static dev.splitnet.mmap.RingV2Descriptor.*;

/**
 * A real ring v2 request ring (the frontend's {@link RingV2Producer}, the backend's
 * {@link RingV2Consumer}) over fresh off-heap memory, its free-running index starting just below
 * 2^32 so every test crosses the wrap.
 */
final class RingV2Pair
{
    static final int START = -2;
    static final int NOTHING = -1;

    final AtomicBuffer region;
    final RingV2Producer producer;
    final RingV2Consumer consumer;

    RingV2Pair(final int size)
    {
        final int bytes = ENTRIES_OFFSET + size * (TX_REQUEST_LENGTH + RESPONSE_LENGTH);
        region = new UnsafeBuffer(ByteBuffer.allocateDirect(bytes));
        final int ringSize = ringSize(bytes, TX_REQUEST_LENGTH);
        producer = new RingV2Producer(region, ringSize, ENTRIES_OFFSET, TX_REQUEST_LENGTH, NetifV2Entries.TX_REQUEST_WORD_OFFSET,
            REQ_CONS_OFFSET, REQ_EVENT_OFFSET);
        consumer = new RingV2Consumer(region, ringSize, ENTRIES_OFFSET, TX_REQUEST_LENGTH, NetifV2Entries.TX_REQUEST_WORD_OFFSET,
            REQ_CONS_OFFSET, REQ_EVENT_OFFSET);
        producer.init(START);
        consumer.attachAt(START);
    }

    /** Producer: claims, commits a request whose gref is {@code 1000 + id} (head and word); false when full. */
    boolean write(final int id)
    {
        final int at = producer.claim();
        if (at < 0)
        {
            return false;
        }
        // the head given to the producer, as FrontendRingV2 does: a batch's first entry is held whole
        producer.commit(at, NetifV2Entries.TxRequest.head(1000 + id, 0, 0), NetifV2Entries.TxRequest.word(id, 64));
        return true;
    }

    /**
     * Consumer: the next request's id if it is there and its head (the gref, written before the
     * tagged word) is the one written with it; -99 when the head is not; {@link #NOTHING} when
     * there is no request.
     */
    int read()
    {
        final long fields = consumer.poll();
        if (fields < 0)
        {
            return NOTHING;
        }
        final int id = NetifV2Entries.TxRequest.id(fields);
        final int gref = NetifV2Entries.TxRequest.gref(region, consumer.entryOffset());
        consumer.consume();
        consumer.publish();
        return gref == 1000 + id ? id : -99;
    }
}

package dev.splitnet.mmap;

import org.agrona.concurrent.AtomicBuffer;

import static dev.splitnet.mmap.RingV2Descriptor.*;

/**
 * {@link FrontendRing} over a ring v2 region ({@link RingV2Descriptor}, entries as
 * {@link NetifV2Entries}): requests through a {@link RingV2Producer}, responses through a
 * {@link RingV2Consumer} that polls each response's tag. Responses name their ids and may come in
 * any order; a TX response may answer a run of ids.
 */
final class FrontendRingV2 implements FrontendRing
{
    private final AtomicBuffer region;
    private final boolean tx;
    private final String name;
    private final int size;
    private final int requestLength;
    private final RingV2Producer requests;
    private final RingV2Consumer responses;
    private int id;
    private int status;
    private int run;
    private int dataOffset;
    private int flags;
    private String violation;

    FrontendRingV2(final AtomicBuffer region, final boolean tx)
    {
        this.region = region;
        this.tx = tx;
        this.name = tx ? "TX" : "RX";
        this.requestLength = tx ? TX_REQUEST_LENGTH : RX_REQUEST_LENGTH;
        this.size = RingFormat.V2.entries(region.capacity(), tx);
        this.requests = new RingV2Producer(region, size, ENTRIES_OFFSET, requestLength,
            tx ? NetifV2Entries.TX_REQUEST_WORD_OFFSET : 0, REQ_CONS_OFFSET, REQ_EVENT_OFFSET);
        this.responses = new RingV2Consumer(region, size, responsesOffset(size, requestLength), RESPONSE_LENGTH, 0,
            RSP_CONS_OFFSET, RSP_EVENT_OFFSET);
    }

    /** Lays out both rings of the region for a first index of {@code start} (the frontend owns the region's layout). */
    void init(final int start)
    {
        // nothing of an earlier layout (the device is created with Xen's) may read as an entry
        region.setMemory(0, region.capacity(), (byte)0);
        requests.init(start);
        // the response ring's slots and the frontend's own lines; its producer (the backend's)
        // attaches at start when it connects
        new RingV2Producer(region, size, responsesOffset(size, requestLength), RESPONSE_LENGTH, 0, RSP_CONS_OFFSET, RSP_EVENT_OFFSET)
            .init(start);
        responses.attachAt(start);
    }

    @Override
    public int size()
    {
        return size;
    }

    @Override
    public boolean hasRoomFor(final int entries)
    {
        if (requests.hasRoomFor(entries))
        {
            return true;
        }
        if (requests.isCorrupt() && violation == null)
        {
            violation = name + " req_cons=" + Integer.toUnsignedString(requests.badConsumer()) + " is impossible: behind "
                + Integer.toUnsignedString(requests.cachedConsumer()) + " or ahead of " + Integer.toUnsignedString(requests.producer())
                + ", the requests produced";
        }
        return false;
    }

    @Override
    public void putTxRequest(final int gref, final int dataOffset, final int flags, final int id, final int size)
    {
        final int at = requests.claim();
        if (at >= 0)
        {
            requests.commit(at, NetifV2Entries.TxRequest.head(gref, dataOffset, flags), NetifV2Entries.TxRequest.word(id, size));
        }
        // else hasRoomFor said no room first (the caller's check): not reached honestly
    }

    @Override
    public void putRxRequest(final int id, final int gref)
    {
        final int at = requests.claim();
        if (at >= 0)
        {
            requests.commit(at, NetifV2Entries.RxRequest.word(id, gref));
        }
    }

    @Override
    public boolean pushRequests()
    {
        return requests.pushAndCheckNotify();
    }

    @Override
    public int pollResponse()
    {
        if (violation != null)
        {
            return CORRUPT;
        }
        final long fields = responses.poll();
        if (fields == RingV2Consumer.EMPTY)
        {
            return EMPTY;
        }
        if (fields == RingV2Consumer.CORRUPT)
        {
            violation = name + " response " + Integer.toUnsignedString(responses.consumer()) + " has tag " + responses.tagAt(0) + ", expected "
                + responses.expectedTag(0) + " (written) or " + ((responses.expectedTag(0) - 1) & 0xFFFF)
                + " (not yet): its ownership was flipped or it was written out of turn";
            return CORRUPT;
        }
        // the fields are a copy in a register: the backend may rewrite the slot from here on
        if (tx)
        {
            id = NetifV2Entries.TxResponse.id(fields);
            status = NetifV2Entries.TxResponse.status(fields);
            run = NetifV2Entries.TxResponse.run(fields);
        }
        else
        {
            id = NetifV2Entries.RxResponse.id(fields);
            dataOffset = NetifV2Entries.RxResponse.dataOffset(fields);
            flags = NetifV2Entries.RxResponse.flags(fields);
            status = NetifV2Entries.RxResponse.status(fields);
            run = 1;
        }
        return READY;
    }

    @Override
    public int responseId()
    {
        return id;
    }

    @Override
    public int responseStatus()
    {
        return status;
    }

    @Override
    public int responseRun()
    {
        return run;
    }

    @Override
    public int responseOffset()
    {
        return dataOffset;
    }

    @Override
    public int responseFlags()
    {
        return flags;
    }

    @Override
    public void consumeResponse()
    {
        responses.consume();
        // Published at once (a store to this side's own line): the slot is free before anything
        // the response freed (an id, a buffer) can be posted again, so the backend always has a
        // response slot for every request it holds.
        responses.publish();
    }

    @Override
    public boolean finalCheckForResponses()
    {
        return violation != null || responses.finalCheck();
    }

    @Override
    public String violation()
    {
        return violation;
    }

    /** The private indices, for failure reports. */
    @Override
    public String toString()
    {
        return name + " ring-v2 req_prod=" + Integer.toUnsignedString(requests.producer()) + " rsp_cons="
            + Integer.toUnsignedString(responses.consumer());
    }
}

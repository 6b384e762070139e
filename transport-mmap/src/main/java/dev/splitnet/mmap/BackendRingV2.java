package dev.splitnet.mmap;

import org.agrona.concurrent.AtomicBuffer;

import static dev.splitnet.mmap.RingV2Descriptor.*;

/**
 * {@link BackendRing} over a ring v2 region ({@link RingV2Descriptor}, entries as
 * {@link NetifV2Entries}): requests through a {@link RingV2Consumer} that polls each request's
 * tag, responses through a {@link RingV2Producer}. TX responses for consecutive ids with one
 * status are merged into one response that names the run (a batch completes in one word).
 */
final class BackendRingV2 implements BackendRing
{
    private final AtomicBuffer region;
    private final boolean tx;
    private final String name;
    private final int size;
    private final RingV2Consumer requests;
    private final RingV2Producer responses;
    private int gref;
    private int dataOffset;
    private int flags;
    private int id;
    private int requestSize;
    // the TX run being merged: ids runId .. runId + runLength - 1, all answered runStatus
    private int runId;
    private int runLength;
    private short runStatus;
    private String violation;

    BackendRingV2(final AtomicBuffer region, final boolean tx)
    {
        this.region = region;
        this.tx = tx;
        this.name = tx ? "TX" : "RX";
        final int requestLength = tx ? TX_REQUEST_LENGTH : RX_REQUEST_LENGTH;
        this.size = RingFormat.V2.entries(region.capacity(), tx);
        this.requests = new RingV2Consumer(region, size, ENTRIES_OFFSET, requestLength, tx ? NetifV2Entries.TX_REQUEST_WORD_OFFSET : 0,
            REQ_CONS_OFFSET, REQ_EVENT_OFFSET);
        this.responses = new RingV2Producer(region, size, responsesOffset(size, requestLength), RESPONSE_LENGTH, 0,
            RSP_CONS_OFFSET, RSP_EVENT_OFFSET);
        // Volatile loads: the frontend laid the region out (FrontendRingV2.init) before its release
        // store of INITIALISED and its HELLO, both seen by the backend before it attaches. A lying
        // start shows as tags that do not match, at the first poll.
        requests.attachAt(region.getIntVolatile(REQ_CONS_OFFSET));
        responses.attachAt(region.getIntVolatile(RSP_CONS_OFFSET));
    }

    @Override
    public int size()
    {
        return size;
    }

    @Override
    public int fetchRequest(final int ahead)
    {
        if (violation != null)
        {
            return CORRUPT;
        }
        if (ahead >= size)
        {
            // a chain as long as the ring continues into entries not written yet
            return EMPTY;
        }
        final long fields = requests.poll(ahead);
        if (fields == RingV2Consumer.EMPTY)
        {
            return EMPTY;
        }
        if (fields == RingV2Consumer.CORRUPT)
        {
            return corrupt(name + " request " + Integer.toUnsignedString(requests.consumer() + ahead) + " has tag " + requests.tagAt(ahead) + ", expected "
                + requests.expectedTag(ahead) + " (written) or " + ((requests.expectedTag(ahead) - 1) & 0xFFFF)
                + " (not yet): its ownership was flipped or it was written a lap ahead");
        }
        if (tx)
        {
            if (NetifV2Entries.TxRequest.reserved(fields) != 0)
            {
                return corrupt(name + " request " + Integer.toUnsignedString(requests.consumer() + ahead) + " has reserved bits 0x"
                    + Integer.toHexString(NetifV2Entries.TxRequest.reserved(fields)) + " set; a ring v2 frontend writes 0");
            }
            id = NetifV2Entries.TxRequest.id(fields);
            requestSize = NetifV2Entries.TxRequest.size(fields);
            // the head was written before the tagged word's release, which poll acquired
            final int at = requests.entryOffset(ahead);
            gref = NetifV2Entries.TxRequest.gref(region, at);
            dataOffset = NetifV2Entries.TxRequest.dataOffset(region, at);
            flags = NetifV2Entries.TxRequest.flags(region, at);
        }
        else
        {
            id = NetifV2Entries.RxRequest.id(fields);
            gref = NetifV2Entries.RxRequest.gref(fields);
        }
        return READY;
    }

    private int corrupt(final String reason)
    {
        violation = reason;
        return CORRUPT;
    }

    @Override
    public int requestGref()
    {
        return gref;
    }

    @Override
    public int requestOffset()
    {
        return dataOffset;
    }

    @Override
    public int requestFlags()
    {
        return flags;
    }

    @Override
    public int requestId()
    {
        return id;
    }

    @Override
    public int requestSize()
    {
        return requestSize;
    }

    @Override
    public void consumeRequests(final int n)
    {
        requests.consume(n);
    }

    @Override
    public int requestConsumer()
    {
        return requests.consumer();
    }

    @Override
    public void publishConsumed()
    {
        requests.publish();
    }

    @Override
    public void putTxResponse(final int id, final short status)
    {
        if (runLength > 0 && id == runId + runLength && status == runStatus && runLength < 0xFFFF)
        {
            runLength++;
            return;
        }
        flushRun();
        runId = id;
        runStatus = status;
        runLength = 1;
    }

    private void flushRun()
    {
        if (runLength > 0)
        {
            put(NetifV2Entries.TxResponse.word(runId, runStatus, runLength));
            runLength = 0;
        }
    }

    @Override
    public void putRxResponse(final int id, final int dataOffset, final int flags, final int status)
    {
        put(NetifV2Entries.RxResponse.word(id, dataOffset, flags, status));
    }

    private void put(final long word)
    {
        final int at = responses.claim();
        if (at >= 0)
        {
            responses.commit(at, word);
        }
        else if (violation == null)
        {
            // every request held has a response slot once the frontend publishes what it
            // consumed (FrontendRingV2.consumeResponse): a full ring is a frontend that did not
            violation = at == RingV2Producer.FULL
                ? name + " response ring is full: the frontend did not free the slots of responses it consumed (rsp_cons="
                    + Integer.toUnsignedString(responses.cachedConsumer()) + ", " + size + " responses written past it)"
                : name + " rsp_cons=" + Integer.toUnsignedString(responses.badConsumer()) + " is impossible: behind "
                    + Integer.toUnsignedString(responses.cachedConsumer()) + " or ahead of " + Integer.toUnsignedString(responses.producer())
                    + ", the responses written";
        }
    }

    @Override
    public boolean pushResponses()
    {
        flushRun();
        return responses.pushAndCheckNotify();
    }

    @Override
    public boolean finalCheckForRequests()
    {
        return violation != null || requests.finalCheck();
    }

    @Override
    public String violation()
    {
        return violation;
    }
}

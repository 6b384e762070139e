package dev.splitnet.mmap;

import org.agrona.concurrent.AtomicBuffer;

/**
 * {@link FrontendRing} over Xen's shared ring ({@link FrontRing}, entries as {@link NetifEntries}):
 * byte for byte Xen's netif. Responses come back in the request slots; the backend's rsp_prod is
 * checked against the requests published before any response is read.
 */
final class FrontendRingV1 implements FrontendRing
{
    private final FrontRing ring;
    private final AtomicBuffer sring;
    private final boolean tx;
    private final String name;
    // responses below rsp_prod as last read and not yet consumed
    private int available;
    // rsp_prod was read in this round of polls
    private boolean readThisRound;
    private int id;
    private int status;
    private int dataOffset;
    private int flags;
    private String violation;

    FrontendRingV1(final AtomicBuffer region, final boolean tx)
    {
        this.sring = region;
        this.tx = tx;
        this.name = tx ? "TX" : "RX";
        this.ring = new FrontRing(region, RingFormat.XEN.entries(region.capacity(), tx),
            tx ? NetifDescriptor.TX_ENTRY_LENGTH : NetifDescriptor.RX_ENTRY_LENGTH);
    }

    void init(final int start)
    {
        ring.init(start);
    }

    @Override
    public int size()
    {
        return ring.size();
    }

    @Override
    public boolean hasRoomFor(final int requests)
    {
        return ring.freeRequests() >= requests;
    }

    @Override
    public void putTxRequest(final int gref, final int dataOffset, final int flags, final int id, final int size)
    {
        NetifEntries.TxRequest.write(sring, ring.nextRequestOffset(0), gref, dataOffset, flags, id, size);
        ring.produce(1);
    }

    @Override
    public void putRxRequest(final int id, final int gref)
    {
        NetifEntries.RxRequest.write(sring, ring.nextRequestOffset(0), id, gref);
        ring.produce(1);
    }

    @Override
    public boolean pushRequests()
    {
        return ring.pushRequestsAndCheckNotify();
    }

    @Override
    public int pollResponse()
    {
        if (violation != null)
        {
            return CORRUPT;
        }
        if (available == 0)
        {
            if (readThisRound)
            {
                // rsp_prod is read once per round of polls (a round ends at EMPTY), as before
                readThisRound = false;
                return EMPTY;
            }
            final int unconsumed = ring.unconsumedResponses();
            if (unconsumed == 0)
            {
                return EMPTY;
            }
            readThisRound = true;
            if (unconsumed < 0 || unconsumed > ring.outstandingRequests())
            {
                violation = name + " rsp_prod is " + unconsumed + " past rsp_cons but only " + ring.outstandingRequests()
                    + (tx ? " requests were published" : " buffers were posted") + ": more responses than requests";
                return CORRUPT;
            }
            available = unconsumed;
        }
        // Copy the response out once: the backend may rewrite the slot.
        final int offset = ring.nextResponseOffset();
        if (tx)
        {
            id = NetifEntries.TxResponse.id(sring, offset);
            status = NetifEntries.TxResponse.status(sring, offset);
        }
        else
        {
            id = NetifEntries.RxResponse.id(sring, offset);
            dataOffset = NetifEntries.RxResponse.dataOffset(sring, offset);
            flags = NetifEntries.RxResponse.flags(sring, offset);
            status = NetifEntries.RxResponse.status(sring, offset);
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
        return 1;
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
        ring.consumeResponse();
        available--;
    }

    @Override
    public boolean finalCheckForResponses()
    {
        return violation != null || ring.finalCheckForResponses();
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
        return name + " xen-netif req_prod_pvt=" + Integer.toUnsignedString(ring.requestProducer()) + " rsp_cons="
            + Integer.toUnsignedString(ring.responseConsumer());
    }
}

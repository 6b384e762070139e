package dev.splitnet.mmap;

import org.agrona.concurrent.AtomicBuffer;

/**
 * {@link BackendRing} over Xen's shared ring ({@link BackRing}, entries as {@link NetifEntries}):
 * the frontend's req_prod is checked (Xen's RING_REQUEST_PROD_OVERFLOW) before any request below
 * it is read, and re-read only when the requests seen so far are used up.
 */
final class BackendRingV1 implements BackendRing
{
    private final BackRing ring;
    private final AtomicBuffer sring;
    private final boolean tx;
    private final String name;
    // requests below req_prod as last read and not yet consumed
    private int available;
    // req_prod was read in this round of fetches (a round ends at EMPTY or publishConsumed)
    private boolean readThisRound;
    private int gref;
    private int dataOffset;
    private int flags;
    private int id;
    private int size;
    private String violation;

    BackendRingV1(final AtomicBuffer region, final boolean tx)
    {
        this.sring = region;
        this.tx = tx;
        this.name = tx ? "TX" : "RX";
        this.ring = new BackRing(region, RingFormat.XEN.entries(region.capacity(), tx),
            tx ? NetifDescriptor.TX_ENTRY_LENGTH : NetifDescriptor.RX_ENTRY_LENGTH);
        ring.attach();
    }

    @Override
    public int size()
    {
        return ring.size();
    }

    @Override
    public int fetchRequest(final int ahead)
    {
        if (violation != null)
        {
            return CORRUPT;
        }
        if (ahead >= available)
        {
            if (readThisRound)
            {
                // req_prod is read once a round, as before the ring had an interface: a chain
                // that continues past it is incomplete, and the next round reads it again
                readThisRound = false;
                return EMPTY;
            }
            readThisRound = true;
            final int published = ring.availableRequests();
            if (published == BackRing.OVERFLOW)
            {
                violation = name + " req_prod is impossible: more than the ring size (" + ring.size()
                    + ") ahead of the responses, or behind the consumer";
                return CORRUPT;
            }
            available = published;
            if (ahead >= published)
            {
                readThisRound = false;
                return EMPTY;
            }
        }
        // One fetch into the private copy: the frontend may rewrite the slot after this.
        final int at = ring.requestOffset(ahead);
        if (tx)
        {
            gref = NetifEntries.TxRequest.gref(sring, at);
            dataOffset = NetifEntries.TxRequest.dataOffset(sring, at);
            flags = NetifEntries.TxRequest.flags(sring, at);
            id = NetifEntries.TxRequest.id(sring, at);
            size = NetifEntries.TxRequest.size(sring, at);
        }
        else
        {
            id = NetifEntries.RxRequest.id(sring, at);
            gref = NetifEntries.RxRequest.gref(sring, at);
        }
        return READY;
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
        return size;
    }

    @Override
    public void consumeRequests(final int n)
    {
        // available first: a fault delivered between the two leaves it too small (req_prod is read
        // again), never too large (entries past req_prod would be read as requests)
        available -= n;
        ring.consumeRequests(n);
    }

    @Override
    public int requestConsumer()
    {
        return ring.requestConsumer();
    }

    @Override
    public void publishConsumed()
    {
        // Xen's ring frees a slot with its response: the consumer index is private. The end of a
        // round of fetches: the next one reads req_prod again
        readThisRound = false;
    }

    @Override
    public void putTxResponse(final int id, final short status)
    {
        // Plain stores: pushResponses publishes them with its release of rsp_prod.
        NetifEntries.TxResponse.write(sring, ring.nextResponseOffset(), id, status);
        ring.produceResponse();
    }

    @Override
    public void putRxResponse(final int id, final int dataOffset, final int flags, final int status)
    {
        NetifEntries.RxResponse.write(sring, ring.nextResponseOffset(), id, dataOffset, flags, status);
        ring.produceResponse();
    }

    @Override
    public boolean pushResponses()
    {
        return ring.pushResponsesAndCheckNotify();
    }

    @Override
    public boolean finalCheckForRequests()
    {
        return violation != null || ring.finalCheckForRequests();
    }

    @Override
    public String violation()
    {
        return violation;
    }
}

package dev.splitnet.mmap;

import org.agrona.concurrent.AtomicBuffer;

import static dev.splitnet.mmap.SharedRingDescriptor.*;

/**
 * The backend's end of a shared ring (Xen's {@code BACK_RING}): it consumes requests and produces
 * responses. The shared producer index is hostile input: {@link #availableRequests} rejects a
 * distance larger than the ring.
 */
public final class BackRing
{
    /** {@link #availableRequests} result when the frontend's producer is impossibly far ahead (or behind). */
    public static final int OVERFLOW = -1;

    private final AtomicBuffer sring;
    private final int size;
    private final int mask;
    private final int entryLength;
    private int reqCons;
    private int rspProdPvt;

    public BackRing(final AtomicBuffer sring, final int size, final int entryLength)
    {
        this.sring = sring;
        this.size = size;
        this.mask = size - 1;
        this.entryLength = entryLength;
    }

    /** BACK_RING_ATTACH: starts from the producer indices the frontend initialised. */
    public void attach()
    {
        reqCons = sring.getIntVolatile(RSP_PROD_OFFSET);
        rspProdPvt = reqCons;
    }

    public int size()
    {
        return size;
    }

    /**
     * Requests published and not yet consumed, read from one load of req_prod.
     *
     * @return the count, or {@link #OVERFLOW} when {@code req_prod - rsp_prod_pvt} exceeds the ring
     *     (Xen's RING_REQUEST_PROD_OVERFLOW) or {@code req_prod - req_cons} does, as it does when
     *     req_prod went back behind req_cons (netback's "impossible number of requests").
     */
    public int availableRequests()
    {
        // Acquire pairs with the frontend's volatile store of req_prod: entries below it are visible.
        final int reqProd = sring.getIntAcquire(REQ_PROD_OFFSET);
        final int available = reqProd - reqCons;
        if (Integer.compareUnsigned(reqProd - rspProdPvt, size) > 0 || Integer.compareUnsigned(available, size) > 0)
        {
            return OVERFLOW;
        }
        return available;
    }

    /** Offset of the request {@code n} entries past the consumer. */
    public int requestOffset(final int n)
    {
        return entryOffset(reqCons + n, mask, entryLength);
    }

    /** Consumes {@code n} requests. */
    public void consumeRequests(final int n)
    {
        reqCons += n;
    }

    /** Offset of the next response to write; its slot is that of a request already consumed. */
    public int nextResponseOffset()
    {
        return entryOffset(rspProdPvt, mask, entryLength);
    }

    public void produceResponse()
    {
        rspProdPvt++;
    }

    /** Responses that may still be written: requests consumed and not yet answered. */
    public int unansweredRequests()
    {
        return reqCons - rspProdPvt;
    }

    /**
     * RING_PUSH_RESPONSES_AND_CHECK_NOTIFY.
     *
     * @return whether the frontend asked to be woken (rsp_event crossed).
     */
    public boolean pushResponsesAndCheckNotify()
    {
        final int old = sring.getInt(RSP_PROD_OFFSET);
        final int now = rspProdPvt;
        if (old == now)
        {
            return false;
        }
        // Volatile store: releases the response entries (pairs with the frontend's acquire of
        // rsp_prod) and, as a full fence, orders it before the rsp_event load (Xen's mb()).
        sring.putIntVolatile(RSP_PROD_OFFSET, now);
        final int event = sring.getIntVolatile(RSP_EVENT_OFFSET);
        return Integer.compareUnsigned(now - event, now - old) < 0;
    }

    /**
     * RING_FINAL_CHECK_FOR_REQUESTS: ask to be woken at the next request, then look again.
     *
     * @return whether requests are waiting (or the ring is corrupt, which the next poll reports).
     */
    public boolean finalCheckForRequests()
    {
        if (availableRequests() != 0)
        {
            return true;
        }
        // Volatile store then volatile load: the store-load order the frontend's notify check relies on.
        sring.putIntVolatile(REQ_EVENT_OFFSET, reqCons + 1);
        return availableRequests() != 0;
    }

    public int requestConsumer()
    {
        return reqCons;
    }

    public int responseProducer()
    {
        return rspProdPvt;
    }

    public AtomicBuffer buffer()
    {
        return sring;
    }
}

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
        // Volatile load: the frontend initialised the ring before its release store of INITIALISED
        // and its handshake message, both seen by the backend before it attaches.
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
        // Acquire pairs with the frontend's volatile store of req_prod in pushRequestsAndCheckNotify
        // (Xen's wmb() then rmb()): the entries below the loaded index are visible.
        return availableRequests(sring.getIntAcquire(REQ_PROD_OFFSET));
    }

    private int availableRequests(final int reqProd)
    {
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
        // Plain load: this side is the only writer of rsp_prod.
        final int old = sring.getInt(RSP_PROD_OFFSET);
        final int now = rspProdPvt;
        if (old == now)
        {
            return false;
        }
        // Volatile store of rsp_prod: a release of the response entries written before it (pairs
        // with the frontend's acquire of rsp_prod in unconsumedResponses, Xen's wmb()).
        sring.putIntVolatile(RSP_PROD_OFFSET, now);
        // Volatile load after the volatile store (Xen's mb()): pairs with the frontend's volatile
        // store of rsp_event then volatile load of rsp_prod in finalCheckForResponses. Both pairs are
        // in the one total order of volatile accesses, so either this load sees the new rsp_event
        // (and we notify) or the frontend's re-check sees the new rsp_prod: no lost wake-up.
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
        // Volatile store of req_event, then a volatile (not acquire) load of req_prod: Xen's mb()
        // between them. Only a volatile load after a volatile store is ordered after it by the Java
        // memory model; an acquire load may be satisfied before the store is visible (it works on
        // x86 only because HotSpot fences after a volatile store). Pairs with the frontend's
        // volatile store of req_prod then volatile load of req_event in pushRequestsAndCheckNotify:
        // either the frontend sees this req_event and notifies, or this load sees its req_prod.
        // The volatile load is also an acquire, so the requests below it are visible.
        sring.putIntVolatile(REQ_EVENT_OFFSET, reqCons + 1);
        return availableRequests(sring.getIntVolatile(REQ_PROD_OFFSET)) != 0;
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

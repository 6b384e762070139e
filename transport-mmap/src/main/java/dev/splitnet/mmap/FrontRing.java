package dev.splitnet.mmap;

import org.agrona.concurrent.AtomicBuffer;

import static dev.splitnet.mmap.SharedRingDescriptor.*;

/**
 * The frontend's end of a shared ring (Xen's {@code FRONT_RING}): it produces requests and
 * consumes responses. Private indices live here; the shared ones in the ring header.
 */
public final class FrontRing
{
    private final AtomicBuffer sring;
    private final int size;
    private final int mask;
    private final int entryLength;
    private int reqProdPvt;
    // the req_prod last published: the backend may answer only requests below it. Kept here, not
    // read back from the shared ring, which the backend can overwrite.
    private int reqProd;
    private int rspCons;

    public FrontRing(final AtomicBuffer sring, final int size, final int entryLength)
    {
        this.sring = sring;
        this.size = size;
        this.mask = size - 1;
        this.entryLength = entryLength;
    }

    /**
     * SHARED_RING_INIT + FRONT_RING_INIT, starting the free-running indices at {@code start} (Xen
     * starts at 0; any start works, which lets tests cross 2^32 quickly).
     */
    public void init(final int start)
    {
        sring.putInt(REQ_PROD_OFFSET, start);
        sring.putInt(RSP_PROD_OFFSET, start);
        sring.putInt(REQ_EVENT_OFFSET, start + 1);
        sring.putInt(RSP_EVENT_OFFSET, start + 1);
        reqProdPvt = start;
        reqProd = start;
        rspCons = start;
    }

    public int size()
    {
        return size;
    }

    /** RING_FREE_REQUESTS: slots neither holding an unanswered request nor an unconsumed response. */
    public int freeRequests()
    {
        return size - (reqProdPvt - rspCons);
    }

    /** Offset of the next request to write, {@code n} entries past the private producer. */
    public int nextRequestOffset(final int n)
    {
        return entryOffset(reqProdPvt + n, mask, entryLength);
    }

    /** Makes {@code n} written requests part of the private producer index (not yet visible). */
    public void produce(final int n)
    {
        reqProdPvt += n;
    }

    /**
     * RING_PUSH_REQUESTS_AND_CHECK_NOTIFY.
     *
     * @return whether the consumer asked to be woken for these requests (req_event crossed).
     */
    public boolean pushRequestsAndCheckNotify()
    {
        // The private copy: this side is the only rightful writer of req_prod.
        final int old = reqProd;
        final int now = reqProdPvt;
        if (old == now)
        {
            return false;
        }
        reqProd = now;
        // Volatile store of req_prod: a release of the request entries written before it (pairs
        // with the backend's acquire of req_prod in availableRequests, Xen's wmb()).
        sring.putIntVolatile(REQ_PROD_OFFSET, now);
        // Volatile load after the volatile store (Xen's mb()): pairs with the backend's volatile
        // store of req_event then volatile load of req_prod in finalCheckForRequests. Both pairs are
        // in the one total order of volatile accesses, so either this load sees the new req_event
        // (and we notify) or the backend's re-check sees the new req_prod: no lost wake-up.
        final int event = sring.getIntVolatile(REQ_EVENT_OFFSET);
        return Integer.compareUnsigned(now - event, now - old) < 0;
    }

    /** Responses written by the backend and not yet consumed here. */
    public int unconsumedResponses()
    {
        // Acquire pairs with the backend's volatile store of rsp_prod in pushResponsesAndCheckNotify
        // (Xen's wmb() then rmb()): the responses below the loaded index are visible.
        return sring.getIntAcquire(RSP_PROD_OFFSET) - rspCons;
    }

    /**
     * Requests published and not yet answered by a consumed response: the most responses the
     * backend may honestly have produced. More means it wrote an impossible rsp_prod.
     */
    public int outstandingRequests()
    {
        return reqProd - rspCons;
    }

    /** Offset of the next response to consume. */
    public int nextResponseOffset()
    {
        return entryOffset(rspCons, mask, entryLength);
    }

    /** Consumes one response. */
    public void consumeResponse()
    {
        rspCons++;
    }

    /**
     * RING_FINAL_CHECK_FOR_RESPONSES: before sleeping, ask to be woken at the next response, then
     * look again so a response that raced the request is not missed.
     *
     * @return whether responses are waiting.
     */
    public boolean finalCheckForResponses()
    {
        if (unconsumedResponses() > 0)
        {
            return true;
        }
        // Volatile store of rsp_event, then a volatile (not acquire) load of rsp_prod: Xen's mb()
        // between them, the store-load order only volatile-then-volatile gives in the Java memory
        // model. Pairs with the backend's volatile store of rsp_prod then volatile load of rsp_event
        // in pushResponsesAndCheckNotify: either the backend sees this rsp_event and notifies, or
        // this load sees its rsp_prod. The volatile load is also an acquire of the responses.
        sring.putIntVolatile(RSP_EVENT_OFFSET, rspCons + 1);
        return sring.getIntVolatile(RSP_PROD_OFFSET) - rspCons > 0;
    }

    public int requestProducer()
    {
        return reqProdPvt;
    }

    public int responseConsumer()
    {
        return rspCons;
    }

    public AtomicBuffer buffer()
    {
        return sring;
    }
}

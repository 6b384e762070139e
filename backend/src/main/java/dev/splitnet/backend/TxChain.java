package dev.splitnet.backend;

import dev.splitnet.api.NetifConstants;
import dev.splitnet.mmap.BackendRing;

/**
 * One packet's TX requests, copied out of the shared ring once each (netback's
 * {@code xenvif_count_requests} filling its private descriptor): everything after, validation,
 * building the packet and answering it, reads these copies, never the ring, which the frontend
 * may rewrite at any time.
 */
final class TxChain
{
    final int[] gref;
    final int[] offset;
    final int[] flags;
    final int[] id;
    final int[] size;
    int count;

    /** @param capacity the ring's size: a chain is cut off (a violation) before it could be longer. */
    TxChain(final int capacity)
    {
        gref = new int[capacity];
        offset = new int[capacity];
        flags = new int[capacity];
        id = new int[capacity];
        size = new int[capacity];
    }

    /** {@link #copyFrom} result: the chain continues past the last published request. */
    static final int INCOMPLETE = -1;
    /** {@link #copyFrom} result: the ring is corrupt ({@link BackendRing#violation()}). */
    static final int CORRUPT = -2;

    /**
     * Copies the requests of the next packet, from the ring's consumer on, up to the first without
     * more_data. The first was just fetched ({@link BackendRing#fetchRequest}(0) returned READY):
     * its copy is taken from the ring's cursor, not read from shared memory again. Consumes nothing.
     *
     * @return the number of requests, {@link #INCOMPLETE} or {@link #CORRUPT}.
     */
    int copyFrom(final BackendRing ring)
    {
        int n = 0;
        while (true)
        {
            final int fetched = n == 0 ? BackendRing.READY : n < gref.length ? ring.fetchRequest(n) : BackendRing.EMPTY;
            if (fetched != BackendRing.READY)
            {
                count = 0;
                return fetched == BackendRing.CORRUPT ? CORRUPT : INCOMPLETE;
            }
            gref[n] = ring.requestGref();
            offset[n] = ring.requestOffset();
            flags[n] = ring.requestFlags();
            id[n] = ring.requestId();
            size[n] = ring.requestSize();
            final boolean more = (flags[n] & NetifConstants.NETTXF_MORE_DATA) != 0;
            n++;
            if (!more)
            {
                count = n;
                return n;
            }
        }
    }

    /** Bytes of the requests after the first (the first request's size is the whole packet's). */
    int payloadOfLaterRequests()
    {
        int payload = 0;
        for (int i = 1; i < count; i++)
        {
            payload += size[i];
        }
        return payload;
    }
}

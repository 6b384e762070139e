package dev.splitnet.backend;

import dev.splitnet.api.NetifConstants;
import dev.splitnet.mmap.BackRing;
import dev.splitnet.mmap.NetifEntries;
import org.agrona.concurrent.AtomicBuffer;

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

    /**
     * Copies the requests of the next packet, from the ring's consumer on, up to the first without
     * more_data.
     *
     * @return the number of requests, or -1 when the chain continues past the {@code available} ones.
     */
    int copyFrom(final BackRing ring, final AtomicBuffer sring, final int available)
    {
        int n = 0;
        while (true)
        {
            if (n == available)
            {
                count = 0;
                return -1;
            }
            final int at = ring.requestOffset(n);
            gref[n] = NetifEntries.TxRequest.gref(sring, at);
            offset[n] = NetifEntries.TxRequest.dataOffset(sring, at);
            flags[n] = NetifEntries.TxRequest.flags(sring, at);
            id[n] = NetifEntries.TxRequest.id(sring, at);
            size[n] = NetifEntries.TxRequest.size(sring, at);
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

package dev.splitnet.frontend;

import dev.splitnet.api.GrantConstants;
import dev.splitnet.api.NetifConstants;
import dev.splitnet.api.ReceivedPacket;
import dev.splitnet.api.RxHandler;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.DeviceCounters;
import dev.splitnet.mmap.DeviceLayout;
import dev.splitnet.mmap.FrontendRing;
import dev.splitnet.mmap.GrantTable;
import dev.splitnet.mmap.NetifLimits;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;


/**
 * netfront's receive side: posts writable grants of its receive frames on the RX ring, gathers
 * the responses of one packet (more_data chains), ends foreign access, hands the application a
 * view onto its own frames, then grants and posts the buffers again.
 *
 * <p>It trusts nothing the backend wrote: a response for a buffer not posted (an unknown, stale or
 * duplicate id), more responses than posted buffers, a status that is neither a length nor an error
 * code, or bytes outside the posted buffer is a protocol violation ({@link #violation()}), and the
 * frontend disconnects. A chain's buffers go back to the free list only when its last response
 * has been handled: a chain split across polls is never posted (and overwritten) half-delivered.
 */
final class RxPath
{
    private final FrontendRing ring;
    private final GrantTable grants;
    private final UnsafeBuffer frames;
    private final int firstFrame;
    private final int bufferCount;
    private final boolean[] posted;
    // per buffer: posted with a permanent gref (no end of access at its response); granted for good
    private final boolean[] postedPermanent;
    private final boolean[] grantedForGood;
    private boolean permanentGrants;
    private final int[] unposted;
    private int unpostedCount;
    // buffers posted and not yet answered (posted[id] true)
    private int outstanding;

    private final View view = new View();
    private boolean packetBad;
    // ids of the buffers of the chain being gathered, reposted only once the chain ends
    private final int[] chain = new int[NetifLimits.MAX_RX_BUFFERS_PER_PACKET];
    private int chainLength;

    private final AtomicCounter rxPackets;
    private final AtomicCounter rxBytes;
    private int droppedPackets;
    private String violation;

    RxPath(final FrontendRing ring, final GrantTable grants, final UnsafeBuffer frames, final int firstFrame,
        final int bufferCount, final DeviceCounters counters)
    {
        if (bufferCount > 0xFFFF)
        {
            throw new IllegalArgumentException("rxFrames=" + bufferCount + " exceeds the 16-bit RX request id");
        }
        this.ring = ring;
        this.grants = grants;
        this.frames = frames;
        this.firstFrame = firstFrame;
        this.bufferCount = bufferCount;
        this.posted = new boolean[bufferCount];
        this.postedPermanent = new boolean[bufferCount];
        this.grantedForGood = new boolean[bufferCount];
        this.unposted = new int[bufferCount];
        for (int id = bufferCount - 1; id >= 0; id--)
        {
            unposted[unpostedCount++] = id;
        }
        this.rxPackets = counters.get(DeviceCounter.RX_PACKETS);
        this.rxBytes = counters.get(DeviceCounter.RX_BYTES);
    }

    /**
     * After the backend agreed to permanent grants: buffers posted from now on carry
     * {@link GrantConstants#GREF_PERMANENT}, are granted once and never ended while connected.
     * Those posted before the handshake stay ordinary until their response.
     */
    void usePermanentGrants()
    {
        permanentGrants = true;
    }

    /** Posts as many free buffers as the ring takes; returns how many. Does not push. */
    int postBuffers()
    {
        int count = 0;
        // at most a ring's worth outstanding: on Xen's ring a slot frees only with its response, but
        // ring v2 frees request slots as soon as the backend copies them out, and more buffers
        // outstanding than response slots would leave the backend nowhere to answer them
        while (unpostedCount > 0 && outstanding < ring.size() && ring.hasRoomFor(1))
        {
            final int id = unposted[--unpostedCount];
            final int frame = firstFrame + id;
            if (!grantedForGood[id])
            {
                grants.grantAccess(frame, GrantConstants.BACKEND_DOMAIN_ID, frame, false);
                grantedForGood[id] = permanentGrants;
            }
            ring.putRxRequest(id, permanentGrants ? frame | GrantConstants.GREF_PERMANENT : frame);
            posted[id] = true;
            outstanding++;
            postedPermanent[id] = permanentGrants;
            count++;
        }
        return count;
    }

    /** Buffers posted to the backend now. */
    int postedCount()
    {
        return bufferCount - unpostedCount;
    }

    /** Packets the backend marked failed (a buffer with an error status): dropped, not delivered. */
    int droppedPackets()
    {
        return droppedPackets;
    }

    /** Buffers of a chain whose last response has not arrived yet (held, not posted). */
    int heldForChain()
    {
        return chainLength;
    }

    /** The protocol violation that made {@link #processResponses} return -1, or null. */
    String violation()
    {
        return violation;
    }

    /**
     * Consumes RX responses and delivers complete packets.
     *
     * @return packets delivered, or -1 when the backend broke the protocol ({@link #violation()} says how).
     */
    int processResponses(final RxHandler handler)
    {
        int delivered = 0;
        while (true)
        {
            final int polled = ring.pollResponse();
            if (polled == FrontendRing.EMPTY)
            {
                return delivered;
            }
            if (polled == FrontendRing.CORRUPT)
            {
                violation = ring.violation();
                return -1;
            }
            // the ring's copy of the response: the backend may rewrite the slot
            final int id = ring.responseId();
            final int dataOffset = ring.responseOffset();
            final int flags = ring.responseFlags();
            final int status = ring.responseStatus();
            ring.consumeResponse();
            if (id >= bufferCount || !posted[id])
            {
                violation = "RX response id=" + id + (id >= bufferCount ? " is not a receive buffer (0 to " + (bufferCount - 1) + ")"
                    : " names a buffer not posted (a duplicate, unknown or stale response)");
                return -1;
            }
            posted[id] = false;
            outstanding--;
            final int frame = firstFrame + id;
            if (!postedPermanent[id] && !grants.endForeignAccess(frame))
            {
                // never reuse the frame under a backend still writing it
                violation = "RX response id=" + id + " came while the backend still held the buffer's grant";
                return -1;
            }
            if (chainLength == chain.length)
            {
                violation = "RX chain longer than " + chain.length + " buffers (more than a 64 KiB packet)";
                return -1;
            }
            chain[chainLength++] = id;
            if (status == NetifConstants.NETIF_RSP_ERROR || status == NetifConstants.NETIF_RSP_DROPPED)
            {
                // the backend could not fill this buffer: the packet is dropped, honestly
                packetBad = true;
            }
            else if (status < 0 || dataOffset + status > DeviceLayout.PAGE_SIZE)
            {
                violation = "RX response id=" + id + " has offset=" + dataOffset + " status=" + status
                    + (status < 0 ? ", not a length nor an error code" : ", past the end of its " + DeviceLayout.PAGE_SIZE + "-byte buffer");
                return -1;
            }
            else
            {
                view.add(frames.addressOffset() + (long)frame * DeviceLayout.PAGE_SIZE + dataOffset, status);
            }
            if ((flags & NetifConstants.NETRXF_MORE_DATA) == 0)
            {
                try
                {
                    if (!packetBad)
                    {
                        rxPackets.incrementRelease();
                        rxBytes.getAndAddRelease(view.length);
                        delivered++;
                        handler.onPacket(view);
                    }
                    else
                    {
                        droppedPackets++;
                    }
                }
                finally
                {
                    // also when the handler throws: the buffers are the frontend's, not the handler's
                    endChain();
                }
            }
        }
    }

    /** The chain was handled: its buffers may be posted again. */
    private void endChain()
    {
        for (int i = 0; i < chainLength; i++)
        {
            unposted[unpostedCount++] = chain[i];
        }
        chainLength = 0;
        view.reset();
        packetBad = false;
    }

    /** Views onto the frames of the packet being delivered. */
    private static final class View implements ReceivedPacket
    {
        private final UnsafeBuffer[] buffers = new UnsafeBuffer[NetifLimits.MAX_RX_BUFFERS_PER_PACKET];
        private int count;
        private int length;

        View()
        {
            for (int i = 0; i < buffers.length; i++)
            {
                buffers[i] = new UnsafeBuffer(0, 0);
            }
        }

        void add(final long address, final int bytes)
        {
            buffers[count++].wrap(address, bytes);
            length += bytes;
        }

        void reset()
        {
            count = 0;
            length = 0;
        }

        @Override
        public int length()
        {
            return length;
        }

        @Override
        public int bufferCount()
        {
            return count;
        }

        @Override
        public DirectBuffer buffer(final int index)
        {
            if (index < 0 || index >= count)
            {
                throw new IndexOutOfBoundsException("buffer index=" + index + " of " + count);
            }
            return buffers[index];
        }

        @Override
        public int copyTo(final MutableDirectBuffer dst, final int dstIndex)
        {
            int at = dstIndex;
            for (int i = 0; i < count; i++)
            {
                final UnsafeBuffer b = buffers[i];
                dst.putBytes(at, b, 0, b.capacity());
                at += b.capacity();
            }
            return length;
        }
    }
}

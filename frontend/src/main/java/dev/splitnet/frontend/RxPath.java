package dev.splitnet.frontend;

import dev.splitnet.api.GrantConstants;
import dev.splitnet.api.NetifConstants;
import dev.splitnet.api.ReceivedPacket;
import dev.splitnet.api.RxHandler;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.DeviceCounters;
import dev.splitnet.mmap.DeviceLayout;
import dev.splitnet.mmap.FrontRing;
import dev.splitnet.mmap.GrantTable;
import dev.splitnet.mmap.NetifLimits;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;

import static dev.splitnet.mmap.NetifDescriptor.*;

/**
 * netfront's receive side: posts writable grants of its receive frames on the RX ring, gathers
 * the responses of one packet (more_data chains), ends foreign access, hands the application a
 * view onto its own frames, then grants and posts the buffers again.
 */
final class RxPath
{
    private final FrontRing ring;
    private final AtomicBuffer sring;
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

    private final View view = new View();
    private boolean packetBad;

    private final AtomicCounter rxPackets;
    private final AtomicCounter rxBytes;
    private int protocolErrors;

    RxPath(final FrontRing ring, final GrantTable grants, final UnsafeBuffer frames, final int firstFrame,
        final int bufferCount, final DeviceCounters counters)
    {
        if (bufferCount > 0xFFFF)
        {
            throw new IllegalArgumentException("rxFrames=" + bufferCount + " exceeds the 16-bit RX request id");
        }
        this.ring = ring;
        this.sring = ring.buffer();
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
        while (unpostedCount > 0 && ring.freeRequests() > 0)
        {
            final int id = unposted[--unpostedCount];
            final int frame = firstFrame + id;
            if (!grantedForGood[id])
            {
                grants.grantAccess(frame, GrantConstants.BACKEND_DOMAIN_ID, frame, false);
                grantedForGood[id] = permanentGrants;
            }
            final int offset = ring.nextRequestOffset(0);
            sring.putShort(offset + RX_REQ_ID_OFFSET, (short)id);
            sring.putShort(offset + 2, (short)0);
            sring.putInt(offset + RX_REQ_GREF_OFFSET, permanentGrants ? frame | GrantConstants.GREF_PERMANENT : frame);
            ring.produce(1);
            posted[id] = true;
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

    /** Responses the backend wrote that did not make sense (ignored, counted). */
    int protocolErrors()
    {
        return protocolErrors;
    }

    /**
     * Consumes RX responses and delivers complete packets.
     *
     * @return packets delivered, or -1 when the backend wrote an impossible response index.
     */
    int processResponses(final RxHandler handler)
    {
        final int available = ring.unconsumedResponses();
        if (available == 0)
        {
            return 0;
        }
        if (available < 0 || available > ring.size() - ring.freeRequests())
        {
            return -1;
        }
        int delivered = 0;
        for (int i = 0; i < available; i++)
        {
            final int offset = ring.nextResponseOffset();
            // Copy the response out once, then check the copy.
            final int id = sring.getShort(offset + RX_RSP_ID_OFFSET) & 0xFFFF;
            final int dataOffset = sring.getShort(offset + RX_RSP_OFFSET_OFFSET) & 0xFFFF;
            final int flags = sring.getShort(offset + RX_RSP_FLAGS_OFFSET) & 0xFFFF;
            final int status = sring.getShort(offset + RX_RSP_STATUS_OFFSET);
            ring.consumeResponse();
            if (id >= bufferCount || !posted[id])
            {
                protocolErrors++;
                continue;
            }
            posted[id] = false;
            final int frame = firstFrame + id;
            if (!postedPermanent[id] && !grants.endForeignAccess(frame))
            {
                // The backend answered while still writing: never reuse the frame under it.
                protocolErrors++;
                continue;
            }
            unposted[unpostedCount++] = id;
            if (status < 0 || dataOffset + status > DeviceLayout.PAGE_SIZE || view.count == NetifLimits.MAX_RX_BUFFERS_PER_PACKET)
            {
                packetBad = true;
            }
            else
            {
                view.add(frames.addressOffset() + (long)frame * DeviceLayout.PAGE_SIZE + dataOffset, status);
            }
            if ((flags & NetifConstants.NETRXF_MORE_DATA) == 0)
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
                    protocolErrors++;
                }
                view.reset();
                packetBad = false;
            }
        }
        return delivered;
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

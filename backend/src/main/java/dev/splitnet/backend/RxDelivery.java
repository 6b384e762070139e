package dev.splitnet.backend;

import dev.splitnet.api.GrantConstants;
import dev.splitnet.api.NetifConstants;
import dev.splitnet.api.Packet;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.mmap.BackendRing;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.DeviceCounters;
import dev.splitnet.mmap.DeviceLayout;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;


/**
 * netback's receive side for one frontend: takes posted RX requests, copies a packet into their
 * granted frames (holding each grant for writing during the copy) and writes RX responses in
 * request order, chained with more_data. A buffer posted with a permanent gref is mapped for
 * writing once and kept until disconnect ({@link ActiveGrants#take}).
 *
 * <p>Posted requests are copied out of the ring in bulk, each once, into a private FIFO (as
 * netback batches its RX work): a delivery then reads the shared RX ring's index and entries only
 * when its private supply runs out, not per packet, which keeps two cache-line transfers off an
 * echo's round trip.
 */
final class RxDelivery
{
    private final BackendRing ring;
    private final ActiveGrants grants;
    private final long framesAddress;
    private final UnsafeBuffer target = new UnsafeBuffer(0, 0);
    private final AtomicCounter delivered;
    private final AtomicCounter deliveredBytes;
    private final AtomicCounter noBuffer;
    private final AtomicCounter badGref;
    private final AtomicCounter sourceError;
    private final AtomicCounter reordered;
    // requests copied out of the ring and not yet answered: FIFO of (id, raw gref)
    private final int[] postedId;
    private final int[] postedGref;
    private int postedHead;
    private int postedCount;
    // xorshift state of RxOrder.SHUFFLE; 0 in posting order
    private long shuffle;
    // lazy-rx frontends in flip or lazy mode: the frames lent to it; null otherwise
    private final LentFrames lent;
    // a claimed packet being delivered: its first pool frame (the source is its view); -1 otherwise
    private int lendFrom = -1;

    // the source being copied: a packet (header then fragments) or a plain buffer
    private Packet packet;
    private DirectBuffer source;
    private int sourceOffset;
    private int part;
    private int partOffset;

    /**
     * @param shuffleSeed 0: fill buffers in posting order; else the seed of the random order
     *                    ({@link RxOrder#SHUFFLE}) in which posted buffers are taken.
     */
    RxDelivery(final BackendRing ring, final ActiveGrants grants, final long framesAddress, final DeviceCounters counters,
        final long shuffleSeed, final LentFrames lent)
    {
        this.lent = lent;
        this.shuffle = shuffleSeed;
        this.postedId = new int[ring.size()];
        this.postedGref = new int[ring.size()];
        this.ring = ring;
        this.grants = grants;
        this.framesAddress = framesAddress;
        this.delivered = counters.get(DeviceCounter.RX_DELIVERED);
        this.deliveredBytes = counters.get(DeviceCounter.RX_DELIVERED_BYTES);
        this.noBuffer = counters.get(DeviceCounter.RX_DROPPED_NO_BUFFER);
        this.badGref = counters.get(DeviceCounter.ERROR_BAD_GREF);
        this.sourceError = counters.get(DeviceCounter.RX_SOURCE_ERROR);
        this.reordered = counters.get(DeviceCounter.RX_BUFFERS_REORDERED);
    }

    /**
     * Copies a packet in; see {@link dev.splitnet.api.Backend#deliver(int, Packet)}. The source is
     * mapped whole before any receive buffer is taken: a source whose grant faults is answered
     * ERROR and costs the receiver nothing.
     */
    PacketStatus deliver(final Packet packet)
    {
        if (!isReadable(packet))
        {
            sourceError.incrementRelease();
            return PacketStatus.ERROR;
        }
        this.packet = packet;
        this.source = null;
        this.part = -1;
        this.partOffset = 0;
        try
        {
            return copyIn(packet.headerLength() + packet.payloadLength());
        }
        finally
        {
            this.packet = null;
        }
    }

    PacketStatus deliver(final DirectBuffer buffer, final int offset, final int length)
    {
        if (offset < 0 || length < 0 || offset > buffer.capacity() - length)
        {
            throw new IllegalArgumentException("deliver: offset=" + offset + " length=" + length
                + " is outside the buffer (capacity=" + buffer.capacity() + ")");
        }
        this.packet = null;
        this.source = buffer;
        this.sourceOffset = offset;
        try
        {
            return copyIn(length);
        }
        finally
        {
            this.source = null;
        }
    }

    /**
     * Delivers a packet built in backend frames ({@link dev.splitnet.api.Backend#claimRx}):
     * {@code claimed} views its {@code length} bytes, from pool frame {@code firstPoolFrame} on.
     * Each buffer posted with a permanent gref is answered by lending its pool frame; any other
     * (posted before the handshake) is filled by copy. Every pool frame not lent goes back to the
     * pool, so the claim is over whatever the outcome.
     */
    PacketStatus deliverClaim(final DirectBuffer claimed, final int firstPoolFrame, final int length)
    {
        this.packet = null;
        this.source = claimed;
        this.sourceOffset = 0;
        this.lendFrom = firstPoolFrame;
        lentThisClaim = 0;
        try
        {
            return copyIn(length);
        }
        finally
        {
            final int frames = Math.max(1, (length + DeviceLayout.PAGE_SIZE - 1) / DeviceLayout.PAGE_SIZE);
            for (int i = 0; i < frames; i++)
            {
                if ((lentThisClaim & (1 << i)) == 0)
                {
                    lent.release(firstPoolFrame + i, 1);
                }
            }
            this.lendFrom = -1;
            this.source = null;
        }
    }

    // which frames of the claim being delivered were lent (bit i: pool frame lendFrom + i)
    private int lentThisClaim;

    /** Why the frontend must be disconnected (its RX ring is corrupt, or it broke lazy receive), or null. */
    String violation()
    {
        final String ringViolation = ring.violation();
        return ringViolation != null || lent == null ? ringViolation : lent.violation();
    }

    /**
     * Whether buffers for a packet of {@code length} bytes are posted (reads the ring's index only
     * when the private supply is short). A corrupt ring reads as no buffers here; the delivery
     * that follows finds it and disconnects the frontend.
     */
    boolean hasBuffersFor(final int length)
    {
        final int needed = Math.max(1, (length + DeviceLayout.PAGE_SIZE - 1) / DeviceLayout.PAGE_SIZE);
        return postedCount >= needed || (copyPostedRequests() && postedCount >= needed);
    }

    /** Maps every fragment of the source; false when one cannot be read. */
    private static boolean isReadable(final Packet packet)
    {
        if (packet instanceof BackendPacket)
        {
            return ((BackendPacket)packet).mapAll();
        }
        // an application's own Packet: its fragments may throw on first access
        try
        {
            for (int i = 0; i < packet.fragmentCount(); i++)
            {
                packet.fragment(i).buffer();
            }
            return true;
        }
        catch (final RuntimeException ex)
        {
            return false;
        }
    }

    /**
     * Takes posted buffers one at a time and copies the next page of the source into each. Every
     * buffer taken gets exactly one response; a failure (the receiver's grant is bad, or the source
     * cannot be read after all) answers the buffer it happened in with an error that ends the chain
     * (no more_data), so the frontend drops the chain whole and its next packet starts clean, and
     * the buffers not yet taken stay posted for the next delivery.
     *
     * @return the status, or null when the frontend's RX ring is corrupt (the caller disconnects it).
     */
    private PacketStatus copyIn(final int total)
    {
        if (total > NetifConstants.XEN_NETIF_MAX_TX_SIZE)
        {
            return PacketStatus.ERROR;
        }
        final int needed = Math.max(1, (total + DeviceLayout.PAGE_SIZE - 1) / DeviceLayout.PAGE_SIZE);
        if (postedCount < needed && !copyPostedRequests())
        {
            return null;
        }
        if (postedCount < needed)
        {
            noBuffer.incrementRelease();
            return PacketStatus.DROPPED;
        }
        boolean failed = false;
        Error fault = null;
        int copied = 0;
        for (int i = 0; i < needed && !failed; i++)
        {
            if (shuffle != 0 && postedCount > 1)
            {
                swapHeadWithRandomPosted();
            }
            final int id = postedId[postedHead];
            final int rawGref = postedGref[postedHead];
            postedHead = postedHead + 1 == postedId.length ? 0 : postedHead + 1;
            postedCount--;
            final int chunk = Math.min(DeviceLayout.PAGE_SIZE, total - copied);
            final int frame = grants.take(rawGref, true);
            if (frame < 0)
            {
                badGref.incrementRelease();
                failed = true;
            }
            else if (lendFrom >= 0 && (rawGref & GrantConstants.GREF_PERMANENT) != 0)
            {
                // the buffer stays granted for good: lend the frame, copy nothing
                grants.drop(rawGref, true);
                if (!lent.lend(frame, lendFrom + i))
                {
                    return null;
                }
                lentThisClaim |= 1 << i;
                sourceOffset += chunk;
            }
            else
            {
                target.wrap(framesAddress + (long)frame * DeviceLayout.PAGE_SIZE, DeviceLayout.PAGE_SIZE);
                if (lent != null && !lent.answeredByCopy(frame))
                {
                    grants.drop(rawGref, true);
                    return null;
                }
                try
                {
                    fill(target, chunk);
                }
                catch (final RuntimeException ex)
                {
                    // an application's Packet that failed after all, or a grant that faulted late
                    sourceError.incrementRelease();
                    failed = true;
                }
                catch (final Error ex)
                {
                    // a memory fault (InternalError) on either side's mapping: answer this buffer
                    // first, then let the fault go up to be attributed (NetBackRunner)
                    fault = ex;
                    failed = true;
                }
                grants.drop(rawGref, true);
            }
            copied += chunk;
            final boolean last = failed || i + 1 == needed;
            ring.putRxResponse(id, 0, last ? 0 : NetifConstants.NETRXF_MORE_DATA, failed ? NetifConstants.NETIF_RSP_ERROR : chunk);
        }
        if (fault != null)
        {
            throw fault;
        }
        if (ring.violation() != null)
        {
            // no response slot for a buffer filled (ring v2: a frontend with more buffers out than
            // its ring answers): the packet did not arrive, and the caller disconnects the frontend
            return null;
        }
        if (failed)
        {
            return PacketStatus.ERROR;
        }
        delivered.incrementRelease();
        deliveredBytes.getAndAddRelease(total);
        return PacketStatus.OKAY;
    }

    /**
     * Copies what requests were posted out of the ring now (lazy receive: a claim that finds no
     * free frame, since buffers posted again give their lent frames back). A corrupt ring is found
     * again by the next delivery, which disconnects the frontend.
     */
    void collectPosted()
    {
        copyPostedRequests();
    }

    /**
     * Copies every published request out of the ring, once each, onto the private FIFO (at most a
     * ring's worth: more can only come from a frontend posting past its ring, and wait there).
     *
     * @return false when the ring is corrupt.
     */
    private boolean copyPostedRequests()
    {
        int tail = postedHead + postedCount;
        int copied = 0;
        while (postedCount + copied < postedId.length)
        {
            final int fetched = ring.fetchRequest(0);
            if (fetched == BackendRing.CORRUPT)
            {
                postedCount += copied;
                return false;
            }
            if (fetched == BackendRing.EMPTY)
            {
                break;
            }
            if (tail >= postedId.length)
            {
                tail -= postedId.length;
            }
            postedId[tail] = ring.requestId();
            postedGref[tail] = ring.requestGref();
            ring.consumeRequests(1);
            if (lent != null && !lentBufferPosted(postedGref[tail]))
            {
                postedCount += copied;
                return false;
            }
            tail++;
            copied++;
        }
        postedCount += copied;
        // ring v2: the request slots are free for the frontend again (a no-op when none moved)
        ring.publishConsumed();
        return true;
    }

    /**
     * Lazy receive: a buffer posted again returns the frame lent for it (the backend's record, not
     * the P2M, says which). A gref that names no frame is left for the delivery to answer ERROR.
     *
     * @return false on a violation ({@link #violation()}).
     */
    private boolean lentBufferPosted(final int rawGref)
    {
        final int frame = grants.take(rawGref, true);
        if (frame < 0)
        {
            return true;
        }
        grants.drop(rawGref, true);
        return lent.posted(frame);
    }

    /** RxOrder.SHUFFLE: puts a random posted buffer at the head of the FIFO (xorshift64, no allocation). */
    private void swapHeadWithRandomPosted()
    {
        shuffle ^= shuffle << 13;
        shuffle ^= shuffle >>> 7;
        shuffle ^= shuffle << 17;
        int other = postedHead + (int)Long.remainderUnsigned(shuffle, postedCount);
        if (other >= postedId.length)
        {
            other -= postedId.length;
        }
        if (other == postedHead)
        {
            return;
        }
        reordered.incrementRelease();
        final int id = postedId[other];
        final int gref = postedGref[other];
        postedId[other] = postedId[postedHead];
        postedGref[other] = postedGref[postedHead];
        postedId[postedHead] = id;
        postedGref[postedHead] = gref;
    }

    /** Copies the next {@code count} source bytes to the start of {@code dst}. */
    private void fill(final UnsafeBuffer dst, final int count)
    {
        if (source != null)
        {
            dst.putBytes(0, source, sourceOffset, count);
            sourceOffset += count;
            return;
        }
        int at = 0;
        while (at < count)
        {
            if (part < 0)
            {
                final int n = Math.min(count - at, packet.headerLength() - partOffset);
                if (n > 0)
                {
                    dst.putBytes(at, packet.header(), partOffset, n);
                    at += n;
                    partOffset += n;
                }
                if (partOffset == packet.headerLength())
                {
                    part = 0;
                    partOffset = 0;
                }
            }
            else
            {
                final dev.splitnet.api.Fragment fragment = packet.fragment(part);
                final int n = Math.min(count - at, fragment.length() - partOffset);
                fragment.getBytes(partOffset, dst, at, n);
                at += n;
                partOffset += n;
                if (partOffset == fragment.length())
                {
                    part++;
                    partOffset = 0;
                }
            }
        }
    }

    /** Publishes responses written so far; returns whether the frontend asked for a doorbell. */
    boolean push()
    {
        return ring.pushResponses();
    }
}

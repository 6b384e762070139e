package dev.splitnet.backend;

import dev.splitnet.api.GrantConstants;
import dev.splitnet.api.NetifConstants;
import dev.splitnet.api.Packet;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.mmap.BackendRing;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.DeviceCounters;
import dev.splitnet.mmap.DeviceLayout;
import dev.splitnet.mmap.NetifLimits;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;


/**
 * netback's receive side for one frontend: takes posted RX requests, copies a packet into their
 * granted frames (holding each grant for writing during the copy) and writes RX responses in
 * request order, chained with more_data. A buffer posted with a permanent gref is mapped for
 * writing once and kept until disconnect ({@link ActiveGrants#take}).
 *
 * <p>With rx-spans a buffer posted with a permanent gref may span up to
 * {@link NetifLimits#MAX_RX_SPAN_FRAMES} consecutive grefs of consecutive frames (its gref's
 * {@link GrantConstants#GREF_SPAN_BITS}); one response answers it, so a large packet takes a few
 * buffers instead of a frame each.
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
    // rx-spans negotiated: a posted buffer may span several frames
    private final boolean rxSpans;

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
        final long shuffleSeed, final LentFrames lent, final boolean rxSpans)
    {
        this.lent = lent;
        this.rxSpans = rxSpans;
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
        return buffersFor(length, false) > 0 || (copyPostedRequests() && buffersFor(length, false) > 0);
    }

    /**
     * How many posted buffers, from the head of the private FIFO, hold {@code length} bytes (at
     * least one, for an empty packet), or -1 when all of them do not. With {@code shuffle} (a
     * delivery in {@link RxOrder#SHUFFLE}) each position is first given a random buffer of those
     * after it, so the buffers counted are the ones the delivery then takes.
     */
    private int buffersFor(final int length, final boolean shuffle)
    {
        int capacity = 0;
        int at = postedHead;
        for (int n = 0; n < postedCount; n++)
        {
            if (shuffle && this.shuffle != 0)
            {
                swapRandomInto(at, postedCount - n);
            }
            capacity += Math.max(1, spanOf(postedGref[at])) * DeviceLayout.PAGE_SIZE;
            if (capacity >= length)
            {
                return n + 1;
            }
            at = at + 1 == postedId.length ? 0 : at + 1;
        }
        return -1;
    }

    /**
     * The frames a posted buffer spans: 1 for a plain request; with rx-spans, a permanent gref's
     * span bits plus one, up to {@link NetifLimits#MAX_RX_SPAN_FRAMES}; 0 for span bits that are
     * not allowed (no rx-spans, a transient gref, or too many frames), a bad gref.
     */
    private int spanOf(final int rawGref)
    {
        final int span = ((rawGref & GrantConstants.GREF_SPAN_BITS) >>> GrantConstants.GREF_SPAN_SHIFT) + 1;
        if (span == 1)
        {
            return 1;
        }
        return rxSpans && (rawGref & GrantConstants.GREF_PERMANENT) != 0 && span <= NetifLimits.MAX_RX_SPAN_FRAMES ? span : 0;
    }

    /**
     * Takes the grant of a posted buffer for writing: its first frame, or -1 when a gref of it is
     * bad, or the frames of a span are not consecutive. A span's grefs are permanent, so nothing
     * but the first needs a {@link ActiveGrants#drop}.
     */
    private int takeBuffer(final int rawGref, final int span)
    {
        if (span == 0)
        {
            return -1;
        }
        final int gref = rawGref & ~GrantConstants.GREF_SPAN_BITS;
        if (span > 1)
        {
            // a span's grefs are permanent: inside the block kept for writing, one range check
            final int kept = grants.keptSpan(gref & GrantConstants.GREF_MASK, span, true);
            if (kept >= 0)
            {
                return kept;
            }
        }
        final int first = grants.take(gref, true);
        for (int i = 1; i < span && first >= 0; i++)
        {
            if (grants.take(gref + i, true) != first + i)
            {
                return -1;
            }
        }
        return first;
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
        int needed = buffersFor(total, false);
        if (needed < 0)
        {
            if (!copyPostedRequests())
            {
                return null;
            }
            needed = buffersFor(total, false);
        }
        if (needed < 0)
        {
            noBuffer.incrementRelease();
            return PacketStatus.DROPPED;
        }
        if (shuffle != 0)
        {
            // the posted buffers hold the packet in any order (their capacity is their sum): only
            // now are they shuffled, and counted again in the order they will be taken
            needed = buffersFor(total, true);
        }
        boolean failed = false;
        Error fault = null;
        int copied = 0;
        for (int i = 0; i < needed && !failed; i++)
        {
            final int id = postedId[postedHead];
            final int rawGref = postedGref[postedHead];
            postedHead = postedHead + 1 == postedId.length ? 0 : postedHead + 1;
            postedCount--;
            final int span = spanOf(rawGref);
            final int chunk = Math.min(span * DeviceLayout.PAGE_SIZE, total - copied);
            final int frame = takeBuffer(rawGref, span);
            if (frame < 0)
            {
                badGref.incrementRelease();
                failed = true;
            }
            else if (lendFrom >= 0 && (rawGref & GrantConstants.GREF_PERMANENT) != 0)
            {
                // the buffer stays granted for good: lend its frames, copy nothing. The claim's
                // pool frames hold the packet a frame each, and every buffer but the last takes
                // whole frames of it, so the buffer's frames are pool frames copied/PAGE on, as a
                // run lent by one P2M entry
                grants.drop(rawGref, true);
                final int used = Math.max(1, (chunk + DeviceLayout.PAGE_SIZE - 1) / DeviceLayout.PAGE_SIZE);
                final int poolIndex = copied / DeviceLayout.PAGE_SIZE;
                if (!lent.lend(frame, lendFrom + poolIndex, used))
                {
                    return null;
                }
                lentThisClaim |= ((1 << used) - 1) << poolIndex;
                sourceOffset += chunk;
            }
            else
            {
                target.wrap(framesAddress + (long)frame * DeviceLayout.PAGE_SIZE, span * DeviceLayout.PAGE_SIZE);
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
        final int span = spanOf(rawGref);
        final int frame = takeBuffer(rawGref, span);
        if (frame < 0)
        {
            return true;
        }
        grants.drop(rawGref, true);
        // the backend's record is kept per buffer, by its first frame
        return lent.posted(frame);
    }

    /**
     * RxOrder.SHUFFLE: swaps a random one of the {@code remaining} posted buffers from FIFO
     * position {@code at} on into {@code at} (xorshift64, no allocation).
     */
    private void swapRandomInto(final int at, final int remaining)
    {
        if (remaining < 2)
        {
            return;
        }
        shuffle ^= shuffle << 13;
        shuffle ^= shuffle >>> 7;
        shuffle ^= shuffle << 17;
        int other = at + (int)Long.remainderUnsigned(shuffle, remaining);
        if (other >= postedId.length)
        {
            other -= postedId.length;
        }
        if (other == at)
        {
            return;
        }
        reordered.incrementRelease();
        final int id = postedId[other];
        final int gref = postedGref[other];
        postedId[other] = postedId[at];
        postedGref[other] = postedGref[at];
        postedId[at] = id;
        postedGref[at] = gref;
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

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
import dev.splitnet.mmap.BackendFrames;
import dev.splitnet.mmap.P2mDescriptor;
import dev.splitnet.mmap.P2mTable;
import java.util.concurrent.TimeUnit;
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
 * frontend disconnects. With rx-spans each buffer is {@code spanFrames} consecutive frames, posted as
 * one request whose gref carries the span ({@link GrantConstants#GREF_SPAN_BITS}) and answered by
 * one response of up to that many frames' bytes. A chain's buffers go back to the free list only when its last response
 * has been handled: a chain split across polls is never posted (and overwritten) half-delivered.
 */
final class RxPath
{
    private final FrontendRing ring;
    private final GrantTable grants;
    private final UnsafeBuffer frames;
    private final int firstFrame;
    private final int bufferCount;
    // frames per buffer (1 without rx-spans), the bytes one holds, and the span bits of its gref
    private final int spanFrames;
    private final int bufferBytes;
    private final int spanBits;
    private final boolean[] posted;
    // per buffer: posted with a permanent gref (no end of access at its response); granted for good
    private final boolean[] postedPermanent;
    private final boolean[] grantedForGood;
    private boolean permanentGrants;
    private final int[] unposted;
    private int unpostedCount;
    // buffers posted and not yet answered (posted[id] true)
    private int outstanding;

    private final View view;
    private boolean packetBad;
    // ids of the buffers of the chain being gathered, reposted only once the chain ends
    private final int[] chain = new int[NetifLimits.MAX_RX_BUFFERS_PER_PACKET];
    private int chainLength;

    private final AtomicCounter rxPackets;
    private final AtomicCounter rxBytes;
    private final AtomicCounter lentReads;
    private final AtomicCounter writeCopies;
    // lazy receive (negotiated): this frontend's P2M and the backend's frames, mapped read-only
    private P2mTable p2m;
    private BackendFrames backendFrames;
    private int droppedPackets;
    private String violation;

    RxPath(final FrontendRing ring, final GrantTable grants, final UnsafeBuffer frames, final int firstFrame,
        final int rxFrames, final int spanFrames, final DeviceCounters counters)
    {
        if (rxFrames > 0xFFFF)
        {
            throw new IllegalArgumentException("rxFrames=" + rxFrames + " exceeds the 16-bit RX request id");
        }
        if (spanFrames < 1 || spanFrames > NetifLimits.MAX_RX_SPAN_FRAMES || spanFrames > rxFrames)
        {
            throw new IllegalArgumentException("spanFrames=" + spanFrames + " must be 1 to " + NetifLimits.MAX_RX_SPAN_FRAMES
                + " and at most rxFrames=" + rxFrames);
        }
        final int bufferCount = rxFrames / spanFrames;
        this.spanFrames = spanFrames;
        this.bufferBytes = spanFrames * DeviceLayout.PAGE_SIZE;
        this.spanBits = (spanFrames - 1) << GrantConstants.GREF_SPAN_SHIFT;
        this.view = new View(NetifLimits.MAX_RX_BUFFERS_PER_PACKET);
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
        this.lentReads = counters.get(DeviceCounter.RX_LENT_READS);
        this.writeCopies = counters.get(DeviceCounter.RX_LAZY_COPIES_WRITE);
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

    /**
     * After the backend agreed to lazy receive: responses from now on may name a buffer whose P2M
     * entry points at one of {@code frames}, read through the P2M.
     */
    void useBackendFrames(final P2mTable p2m, final BackendFrames frames)
    {
        this.p2m = p2m;
        this.backendFrames = frames;
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
            final int frame = firstFrame + id * spanFrames;
            if (!grantedForGood[id])
            {
                for (int f = frame; f < frame + spanFrames; f++)
                {
                    grants.grantAccess(f, GrantConstants.BACKEND_DOMAIN_ID, f, false);
                }
                grantedForGood[id] = permanentGrants;
            }
            // a span is posted only with permanent grants (NetFront uses spans only then)
            ring.putRxRequest(id, permanentGrants ? frame | GrantConstants.GREF_PERMANENT | spanBits : frame);
            posted[id] = true;
            outstanding++;
            postedPermanent[id] = permanentGrants;
            count++;
        }
        return count;
    }

    /** Receive buffers in all: a frame each, or with rx-spans a span of frames each. */
    int bufferCount()
    {
        return bufferCount;
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
            final int frame = firstFrame + id * spanFrames;
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
            else if (status < 0 || dataOffset + status > bufferBytes)
            {
                violation = "RX response id=" + id + " has offset=" + dataOffset + " status=" + status
                    + (status < 0 ? ", not a length nor an error code" : ", past the end of its " + bufferBytes + "-byte buffer");
                return -1;
            }
            else if (view.length + status > NetifConstants.XEN_NETIF_MAX_TX_SIZE)
            {
                violation = "RX chain holds more than " + NetifConstants.XEN_NETIF_MAX_TX_SIZE + " bytes (response id=" + id
                    + " status=" + status + " after " + view.length + ")";
                return -1;
            }
            else
            {
                final long own = frames.addressOffset() + (long)frame * DeviceLayout.PAGE_SIZE + dataOffset;
                if (p2m == null)
                {
                    view.add(own, own, frame, 0, status);
                }
                else if (!addThroughP2m(frame, own, dataOffset, status))
                {
                    if (violation != null)
                    {
                        return -1;
                    }
                    // the backend took the lent frame back uncopied (flip mode, deadline): the packet is gone
                    packetBad = true;
                }
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
                        if (violation != null)
                        {
                            // found while the handler wrote the packet (mutableBuffer)
                            return -1;
                        }
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

    /**
     * How long a buffer's P2M entry may keep changing under the frontend (RECLAIMING: the backend
     * copying a frame back, a 4 KiB copy; or LENT rewritten again and again) before the backend is
     * deemed broken. Generous: an honest backend preempted mid-copy on a loaded machine must not
     * be called broken.
     */
    private static final long RECLAIM_WAIT_NS = TimeUnit.MILLISECONDS.toNanos(500);

    /**
     * Reads a buffer's P2M entry and adds the frame that backs it to the view: the frontend's own
     * (OWN: filled by copy, or copied back), or a backend frame it pins first (LENT to PINNED by
     * compare-and-set: from then on the backend reuses that frame only after this buffer is posted
     * again, or past its lend deadline). The load follows the acquire of the response
     * index, which pairs with the backend's release push after it lent the frames (a release
     * store after writing them); the load's own acquire pairs with its release store of OWN after
     * copying them back.
     *
     * @return false when the packet is gone (VOID) or the backend broke lazy receive ({@link #violation} set).
     */
    private boolean addThroughP2m(final int frame, final long own, final int dataOffset, final int length)
    {
        long entry = p2m.load(frame);
        long waitingSince = 0;
        for (int round = 0; ; round++)
        {
            // an honest backend moves an entry at most twice under a reader (take back, copied back);
            // past that, every round the entry is not settled counts against the wait
            if (round > 2)
            {
                final long now = System.nanoTime();
                if (waitingSince == 0)
                {
                    waitingSince = now;
                }
                else if (now - waitingSince > RECLAIM_WAIT_NS)
                {
                    return p2mViolation(frame, entry, "kept changing for " + TimeUnit.NANOSECONDS.toMillis(RECLAIM_WAIT_NS) + " ms");
                }
            }
            switch (P2mDescriptor.state(entry))
            {
                case P2mDescriptor.OWN:
                    if (P2mDescriptor.frame(entry) != frame)
                    {
                        return p2mViolation(frame, entry, "names another frame of this frontend");
                    }
                    view.add(own, own, frame, 0, length);
                    return true;
                case P2mDescriptor.LENT:
                    final int backendFrame = P2mDescriptor.frame(entry);
                    final int run = P2mDescriptor.run(entry);
                    if (backendFrame < 0 || backendFrame > backendFrames.frameCount() - run)
                    {
                        return p2mViolation(frame, entry, (run > 1 ? "with its run of " + run + " frames " : "")
                            + "points past the " + backendFrames.frameCount() + " backend frames sent");
                    }
                    if (run > spanFrames)
                    {
                        return p2mViolation(frame, entry, "covers " + run + " frames, more than the buffer's " + spanFrames);
                    }
                    if ((long)run * DeviceLayout.PAGE_SIZE < dataOffset + length)
                    {
                        return p2mViolation(frame, entry, "covers " + run + " frames, too few for the response's "
                            + (dataOffset + length) + " bytes");
                    }
                    final long pinned = p2m.pin(frame, entry);
                    if (pinned != 0)
                    {
                        lentReads.incrementRelease();
                        view.add(backendFrames.frameAddress(backendFrame) + dataOffset, own, frame, pinned, length);
                        return true;
                    }
                    // the backend took it back meanwhile: read what it made of it
                    entry = p2m.load(frame);
                    break;
                case P2mDescriptor.RECLAIMING:
                    Thread.onSpinWait();
                    entry = p2m.load(frame);
                    break;
                case P2mDescriptor.VOID:
                    return false;
                default:
                    return p2mViolation(frame, entry, "is not a state a backend leaves at a response");
            }
        }
    }

    private boolean p2mViolation(final int frame, final long entry, final String what)
    {
        violation = "P2M entry of frame " + frame + " at its RX response is " + P2mDescriptor.describe(entry) + ": it " + what
            + " (lazy receive: the backend lends its own frames, LENT, or copies into this one, OWN)";
        return false;
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
    private final class View implements ReceivedPacket
    {
        private final UnsafeBuffer[] buffers;
        // per buffer: where its bytes go in the frontend's own frame, that frame, and the PINNED
        // entry the frontend wrote when it reads a backend frame (0: it reads its own frame)
        private final long[] ownAddress;
        private final int[] frameOf;
        private final long[] pinnedEntry;
        private final UnsafeBuffer ownView = new UnsafeBuffer(0, 0);
        private int count;
        private int length;

        View(final int capacity)
        {
            buffers = new UnsafeBuffer[capacity];
            ownAddress = new long[capacity];
            frameOf = new int[capacity];
            pinnedEntry = new long[capacity];
            for (int i = 0; i < buffers.length; i++)
            {
                buffers[i] = new UnsafeBuffer(0, 0);
            }
        }

        void add(final long address, final long own, final int frame, final long pinned, final int bytes)
        {
            ownAddress[count] = own;
            frameOf[count] = frame;
            pinnedEntry[count] = pinned;
            buffers[count++].wrap(address, bytes);
            length += bytes;
        }

        @Override
        public MutableDirectBuffer mutableBuffer(final int index)
        {
            final UnsafeBuffer b = (UnsafeBuffer)buffer(index);
            final long pinned = pinnedEntry[index];
            if (pinned == 0)
            {
                return b;
            }
            // copy-on-write: the backend frame is read-only here. Copied first, then PINNED to
            // TAKEN: a backend taking the frame back at its deadline meanwhile (PINNED to
            // RECLAIMING) copies the same bytes into the same place, and is waited for.
            final int bytes = b.capacity();
            ownView.wrap(ownAddress[index], bytes);
            ownView.putBytes(0, b, 0, bytes);
            final int frame = frameOf[index];
            if (!p2m.compareAndSet(frame, pinned, P2mDescriptor.encode(P2mDescriptor.TAKEN, P2mDescriptor.next(P2mDescriptor.seq(pinned)), frame)))
            {
                // the backend took the frame back at its deadline meanwhile: past the deadline the
                // bytes are not guaranteed (the backend may have reused its frame), as for any read
                awaitReclaimed(frame);
            }
            writeCopies.incrementRelease();
            pinnedEntry[index] = 0;
            b.wrap(ownAddress[index], bytes);
            return b;
        }

        /** Waits for the backend's copy-back to end; a backend that never ends it is disconnected after the handler (no throw). */
        private void awaitReclaimed(final int frame)
        {
            final long deadline = System.nanoTime() + RECLAIM_WAIT_NS;
            long entry;
            while (P2mDescriptor.state(entry = p2m.load(frame)) == P2mDescriptor.RECLAIMING)
            {
                if (System.nanoTime() - deadline > 0)
                {
                    p2mViolation(frame, entry, "stayed RECLAIMING for " + TimeUnit.NANOSECONDS.toMillis(RECLAIM_WAIT_NS)
                        + " ms while the application wrote the packet");
                    return;
                }
                Thread.onSpinWait();
            }
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

package dev.splitnet.frontend;

import dev.splitnet.api.GrantConstants;
import dev.splitnet.api.NetifConstants;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.TxClaim;
import dev.splitnet.api.TxCompletionHandler;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.DeviceCounters;
import dev.splitnet.mmap.DeviceLayout;
import dev.splitnet.mmap.Doorbell;
import dev.splitnet.mmap.FrameRunPool;
import dev.splitnet.mmap.FrontendRing;
import dev.splitnet.mmap.GrantTable;
import dev.splitnet.mmap.IndexPool;
import dev.splitnet.mmap.NetifLimits;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;


/**
 * netfront's transmit side: claims a header slot (or, without the header-slots feature, a header
 * frame), frames and ring ids for a packet, writes one request per slot and frame, and on each
 * response ends foreign access and frees what the request held. A packet completes when the
 * responses of all its requests are in. Every request has its own id, as in Xen's netfront.
 *
 * <p>With permanent grants every TX frame is granted once, here, and each request's gref carries
 * {@link GrantConstants#GREF_PERMANENT}: no grant write per packet and no end of access per
 * response (the backend keeps the grant mapped; its in-use flag would refuse the end anyway).
 * With frame spans a fragment may cover up to 65535 bytes of consecutive frames, so a 64 KiB
 * payload is one request. With both, and a header slot for every ring id, a packet's header
 * lives in the slot numbered by its first request's id, and that request also carries the first
 * fragment ({@link NetifConstants#NETTXF_SPLITNET_HEADER_BY_ID}): a header plus a 64 KiB payload
 * is one request, one response and one id, like a header alone.
 */
final class TxPath
{
    /** A header slot from the slot pool. */
    private static final byte KIND_SLOT = 1;
    /** A run of frames. */
    private static final byte KIND_FRAME = 2;
    /** A header slot named by the request id itself: nothing to give back. */
    private static final byte KIND_SLOT_BY_ID = 3;

    private final FrontendRing ring;
    private final Doorbell doorbell;
    private final GrantTable grants;
    private final UnsafeBuffer headerSlots;
    private final UnsafeBuffer frames;
    private final int headerSlotSize;
    private final boolean useHeaderSlots;
    private final boolean permanentGrants;
    private final boolean frameSpans;
    private final boolean headerById;
    private final int maxFragmentLength;
    private final IndexPool ids;
    private final IndexPool slots;
    private final FrameRunPool framePool;

    // per ring id: what the request holds and which packet it belongs to
    private final byte[] idKind;
    private final int[] idResource;
    // per ring id of a frame request: how many consecutive frames from idResource it holds
    private final int[] idFrames;
    private final int[] idHead;
    // per ring id: a request carrying it was published and its response is not in yet. A response
    // for any other id (a duplicate, an unknown or a stale id) is a protocol violation: the head id
    // stays held until its whole packet completes, so "held" alone cannot tell a duplicate.
    private final boolean[] awaitingResponse;
    // per head id: the packet
    private final long[] headCorrelation;
    private final int[] headRemaining;
    private final short[] headStatus;
    private int inFlight;
    // Linux netfront's xmit_more: publish req_prod once per pushBatch packets (and at every poll)
    private final int pushBatch;
    private int unpushedPackets;
    // counts published to the shared counters at each push / at the end of each response batch
    private long unpushedBytes;
    private final long[] pendingByStatus = new long[PacketStatus.values().length];
    // ids completed by ring v2 responses covering a run, published with the status counts
    private long idsInRuns;
    private final AtomicCounter completedInRuns;

    private final Claim claim = new Claim();
    // set by close() or after a memory fault: nothing may reach the device any more
    private boolean closed;
    private String closedReason;
    // told when a commit hit a memory fault (the device file was truncated under the mapping)
    private java.util.function.Consumer<InternalError> faultListener = fault -> { };
    // what the backend did wrong, when processResponses returned -1
    private String violation;
    private final int[] chunkLengths = new int[NetifLimits.MAX_PAYLOAD_FRAGMENTS];

    private final AtomicCounter txPackets;
    private final AtomicCounter txBytes;
    private final AtomicCounter backPressured;
    private final AtomicCounter[] byStatus = new AtomicCounter[PacketStatus.values().length];

    TxPath(final FrontendRing ring, final GrantTable grants, final UnsafeBuffer headerSlots, final int headerSlotCount,
        final int headerSlotSize, final UnsafeBuffer frames, final int txFrames, final boolean useHeaderSlots,
        final DeviceCounters counters, final Doorbell doorbell, final int pushBatch, final boolean permanentGrants,
        final boolean frameSpans)
    {
        this.doorbell = doorbell;
        this.pushBatch = pushBatch;
        this.ring = ring;
        this.grants = grants;
        this.headerSlots = headerSlots;
        this.frames = frames;
        this.headerSlotSize = headerSlotSize;
        this.useHeaderSlots = useHeaderSlots;
        this.permanentGrants = permanentGrants;
        this.frameSpans = frameSpans && permanentGrants;
        this.maxFragmentLength = this.frameSpans ? NetifConstants.XEN_NETIF_MAX_TX_SIZE : DeviceLayout.PAGE_SIZE;
        // every ring id has a slot of its own, so slot = head id needs no pool
        this.headerById = useHeaderSlots && this.frameSpans && headerSlotCount >= ring.size();
        this.ids = new IndexPool(0, ring.size());
        this.slots = new IndexPool(0, headerSlotCount);
        this.framePool = new FrameRunPool(0, txFrames);
        this.idKind = new byte[ring.size()];
        this.idResource = new int[ring.size()];
        this.idFrames = new int[ring.size()];
        this.idHead = new int[ring.size()];
        this.awaitingResponse = new boolean[ring.size()];
        this.headCorrelation = new long[ring.size()];
        this.headRemaining = new int[ring.size()];
        this.headStatus = new short[ring.size()];
        this.txPackets = counters.get(DeviceCounter.TX_PACKETS);
        this.txBytes = counters.get(DeviceCounter.TX_BYTES);
        this.backPressured = counters.get(DeviceCounter.TX_BACK_PRESSURED);
        this.completedInRuns = counters.get(DeviceCounter.TX_IDS_COMPLETED_IN_RUNS);
        byStatus[PacketStatus.OKAY.ordinal()] = counters.get(DeviceCounter.TX_OKAY);
        byStatus[PacketStatus.ERROR.ordinal()] = counters.get(DeviceCounter.TX_ERROR);
        byStatus[PacketStatus.DROPPED.ordinal()] = counters.get(DeviceCounter.TX_DROPPED);
        byStatus[PacketStatus.DISCONNECTED.ordinal()] = counters.get(DeviceCounter.TX_DISCONNECTED);
        if (permanentGrants)
        {
            // TX frame f is gref f (PROTOCOL.md 4.1), granted read-only for the whole connection.
            for (int frame = 0; frame < txFrames; frame++)
            {
                grants.grantAccess(frame, GrantConstants.BACKEND_DOMAIN_ID, frame, true);
            }
        }
    }

    int maxHeaderLength()
    {
        return useHeaderSlots ? headerSlotSize : DeviceLayout.PAGE_SIZE;
    }

    int maxFragmentLength()
    {
        return maxFragmentLength;
    }

    int inFlight()
    {
        return inFlight;
    }

    /** Who hears of a memory fault inside {@link TxClaim#commit} (the frontend, which disconnects). */
    void onMemoryFault(final java.util.function.Consumer<InternalError> listener)
    {
        this.faultListener = listener;
    }

    /** The protocol violation that made {@link #processResponses} return -1, or null. */
    String violation()
    {
        return violation;
    }

    /** Gives back what an open claim holds without touching shared memory (a send interrupted by a fault). */
    void abortOpenClaim()
    {
        if (claim.active)
        {
            claim.abortPrivately();
        }
    }

    /** Ring ids, header slots and TX frames taken now (0, 0, 0 once every packet completed). */
    ResourceUsage.Tx held()
    {
        return new ResourceUsage.Tx(ids.capacity() - ids.available(), slots.capacity() - slots.available(),
            framePool.capacity() - framePool.available());
    }

    /**
     * Publishes requests written since the last push (push-and-check-notify) and rings the
     * doorbell if the backend asked for it. With a push batch of 1, commit has already done so.
     */
    void flush()
    {
        if (unpushedPackets > 0)
        {
            txPackets.getAndAddRelease(unpushedPackets);
            txBytes.getAndAddRelease(unpushedBytes);
            unpushedPackets = 0;
            unpushedBytes = 0;
            if (ring.pushRequests())
            {
                doorbell.ring();
            }
        }
    }

    /** Splits a payload into whole frames (with frame spans: one fragment) and claims them. */
    TxClaim tryClaim(final int headerLength, final int payloadLength)
    {
        final int count = chunk(payloadLength);
        return tryClaim(headerLength, chunkLengths, count);
    }

    private int chunk(final int payloadLength)
    {
        if (payloadLength < 0 || payloadLength > NetifConstants.XEN_NETIF_MAX_TX_SIZE)
        {
            throw new IllegalArgumentException("payloadLength=" + payloadLength + " must be 0 to " + NetifConstants.XEN_NETIF_MAX_TX_SIZE);
        }
        int count = 0;
        for (int remaining = payloadLength; remaining > 0; remaining -= maxFragmentLength)
        {
            chunkLengths[count++] = Math.min(remaining, maxFragmentLength);
        }
        return count;
    }

    TxClaim tryClaim(final int headerLength, final int[] fragmentLengths, final int fragmentCount)
    {
        if (claim.active)
        {
            throw new IllegalStateException("the previous claim was neither committed nor aborted");
        }
        if (headerLength < 0 || headerLength > maxHeaderLength())
        {
            throw new IllegalArgumentException("headerLength=" + headerLength + " must be 0 to " + maxHeaderLength());
        }
        if (fragmentCount < 0 || fragmentCount > NetifLimits.MAX_PAYLOAD_FRAGMENTS)
        {
            throw new IllegalArgumentException("fragmentCount=" + fragmentCount + " must be 0 to " + NetifLimits.MAX_PAYLOAD_FRAGMENTS);
        }
        int total = headerLength;
        int framesNeeded = useHeaderSlots ? 0 : 1;
        for (int i = 0; i < fragmentCount; i++)
        {
            final int length = fragmentLengths[i];
            if (length < 1 || length > maxFragmentLength)
            {
                throw new IllegalArgumentException("fragmentLengths[" + i + "]=" + length + " must be 1 to " + maxFragmentLength
                    + (frameSpans ? "" : " (one frame; fragments spanning frames need the frame-spans feature)"));
            }
            total += length;
            framesNeeded += framesFor(length);
        }
        if (total > NetifConstants.XEN_NETIF_MAX_TX_SIZE)
        {
            throw new IllegalArgumentException("packet length=" + total + " exceeds " + NetifConstants.XEN_NETIF_MAX_TX_SIZE);
        }
        final int requests = headerById ? Math.max(1, fragmentCount) : 1 + fragmentCount;
        if (!ring.hasRoomFor(requests) || ids.available() < requests || framePool.available() < framesNeeded
            || (useHeaderSlots && !headerById && slots.available() == 0) || !claim.open(headerLength, fragmentLengths, fragmentCount, total))
        {
            backPressured.incrementRelease();
            return null;
        }
        return claim;
    }

    private static int framesFor(final int length)
    {
        return (length + DeviceLayout.PAGE_SIZE - 1) / DeviceLayout.PAGE_SIZE;
    }

    /** Copies a packet in and sends it. */
    boolean send(final org.agrona.DirectBuffer header, final int headerOffset, final int headerLength,
        final org.agrona.DirectBuffer payload, final int payloadOffset, final int payloadLength, final long correlationId)
    {
        final int count = chunk(payloadLength);
        final Claim c = (Claim)tryClaim(headerLength, chunkLengths, count);
        if (c == null)
        {
            return false;
        }
        if (headerLength > 0)
        {
            c.header.putBytes(0, header, headerOffset, headerLength);
        }
        int from = payloadOffset;
        for (int i = 0; i < count; i++)
        {
            c.fragments[i].putBytes(0, payload, from, chunkLengths[i]);
            from += chunkLengths[i];
        }
        c.commit(correlationId);
        return true;
    }

    /**
     * Consumes TX responses: frees what each request held, completes packets whose last response
     * arrived.
     *
     * @return packets completed, or -1 when the backend broke the protocol ({@link #violation()} says how).
     */
    int processResponses(final TxCompletionHandler handler)
    {
        try
        {
            return consumeResponses(handler);
        }
        finally
        {
            publishStatusCounts();
        }
    }

    /** Adds the completions counted since the last call to the shared per-status counters. */
    private void publishStatusCounts()
    {
        if (idsInRuns != 0)
        {
            completedInRuns.getAndAddRelease(idsInRuns);
            idsInRuns = 0;
        }
        for (int i = 0; i < pendingByStatus.length; i++)
        {
            if (pendingByStatus[i] != 0)
            {
                byStatus[i].getAndAddRelease(pendingByStatus[i]);
                pendingByStatus[i] = 0;
            }
        }
    }

    private int consumeResponses(final TxCompletionHandler handler)
    {
        int completed = 0;
        while (true)
        {
            final int polled = ring.pollResponse();
            if (polled == FrontendRing.EMPTY)
            {
                return completed;
            }
            if (polled == FrontendRing.CORRUPT)
            {
                violation = ring.violation();
                return -1;
            }
            // the ring's copy of the response: the backend may rewrite the slot
            final int first = ring.responseId();
            final int run = ring.responseRun();
            final short status = (short)ring.responseStatus();
            ring.consumeResponse();
            if (run < 1 || first + run > idHead.length)
            {
                violation = (run == 1 ? "TX response id=" + first + " is not a ring id"
                    : "TX response for a run of " + run + " ids from id=" + first + " names ids that are not ring ids")
                    + " (0 to " + (idHead.length - 1) + ")";
                return -1;
            }
            if (run > 1)
            {
                idsInRuns += run;
            }
            for (int id = first; id < first + run; id++)
            {
                if (!awaitingResponse[id])
                {
                    violation = "TX response id=" + id + (ids.isHeld(id) ? " was answered already or not yet published (a duplicate response)"
                        : " has no request (an unknown or stale id)");
                    return -1;
                }
                completed += complete(id, status, handler);
            }
        }
    }

    /** Frees what request {@code id} held; completes its packet if it was the last; returns packets completed (0 or 1). */
    private int complete(final int id, final short status, final TxCompletionHandler handler)
    {
        awaitingResponse[id] = false;
        release(id);
        final int head = idHead[id];
        if (status != NetifConstants.NETIF_RSP_OKAY && headStatus[head] == NetifConstants.NETIF_RSP_OKAY)
        {
            headStatus[head] = status;
        }
        if (id != head)
        {
            ids.release(id);
        }
        // != 0, not > 0: a packet failAll already reported has 0 left, and a late response for it
        // (drained after a disconnect) takes it below 0 without completing it a second time
        if (--headRemaining[head] != 0)
        {
            return 0;
        }
        final PacketStatus packetStatus = statusOf(headStatus[head]);
        final long correlationId = headCorrelation[head];
        ids.release(head);
        inFlight--;
        pendingByStatus[packetStatus.ordinal()]++;
        handler.onTxComplete(correlationId, packetStatus);
        return 1;
    }

    private static PacketStatus statusOf(final short code)
    {
        final PacketStatus status = PacketStatus.fromNetifCode(code);
        return status != null ? status : PacketStatus.ERROR;
    }

    private void release(final int id)
    {
        final int resource = idResource[id];
        if (idKind[id] == KIND_SLOT_BY_ID)
        {
            return;
        }
        if (idKind[id] == KIND_SLOT)
        {
            slots.release(resource);
        }
        else if (permanentGrants)
        {
            // The backend may keep the grant mapped; it has finished with the bytes once it answers.
            framePool.release(resource, idFrames[id]);
        }
        else
        {
            // A backend that answered still holding the grant broke the protocol; the frame stays
            // out of the pool rather than being reused under it.
            if (grants.endForeignAccess(resource))
            {
                framePool.release(resource, 1);
            }
        }
    }

    /**
     * After the backend went away: every packet in flight completes as DISCONNECTED, once (its
     * count drops to 0 before the handler hears of it, so a later call does not report it again).
     * After a memory fault the shared counters are not touched: they live in the faulting mapping.
     */
    int failAll(final TxCompletionHandler handler)
    {
        int completed = 0;
        for (int head = 0; head < idHead.length; head++)
        {
            if (ids.isHeld(head) && idHead[head] == head && headRemaining[head] > 0)
            {
                headRemaining[head] = 0;
                inFlight--;
                completed++;
                if (!closed)
                {
                    byStatus[PacketStatus.DISCONNECTED.ordinal()].incrementRelease();
                }
                handler.onTxComplete(headCorrelation[head], PacketStatus.DISCONNECTED);
            }
        }
        return completed;
    }

    /** A packet being built in place; reused for every claim. */
    /**
     * The frontend is closing and its device will be unmapped: an open claim is voided (its
     * buffers no longer reach the mapping) and nothing here touches shared memory again.
     */
    void close(final String reason)
    {
        closed = true;
        closedReason = reason;
        claim.detach();
    }

    private final class Claim implements TxClaim
    {
        private final UnsafeBuffer header = new UnsafeBuffer(0, 0);
        private final UnsafeBuffer[] fragments = new UnsafeBuffer[NetifLimits.MAX_PAYLOAD_FRAGMENTS];
        private final int[] fragmentFrames = new int[NetifLimits.MAX_PAYLOAD_FRAGMENTS];
        private final int[] fragmentIds = new int[NetifLimits.MAX_PAYLOAD_FRAGMENTS];
        private int fragmentCount;
        private int headId;
        private int headResource;
        private int total;
        private boolean active;

        Claim()
        {
            for (int i = 0; i < fragments.length; i++)
            {
                fragments[i] = new UnsafeBuffer(0, 0);
            }
        }

        /** Takes the ids, slot and frames; false (nothing taken) when no run of frames is free. */
        boolean open(final int headerLength, final int[] lengths, final int count, final int totalLength)
        {
            fragmentCount = 0;
            if (!useHeaderSlots)
            {
                headResource = framePool.acquire(1);
                if (headResource < 0)
                {
                    return false;
                }
            }
            for (int i = 0; i < count; i++)
            {
                final int first = framePool.acquire(framesFor(lengths[i]));
                if (first < 0)
                {
                    releaseTaken();
                    return false;
                }
                fragmentFrames[i] = first;
                fragmentCount++;
                fragments[i].wrap(frames.addressOffset() + (long)first * DeviceLayout.PAGE_SIZE, lengths[i]);
            }
            headId = ids.acquire();
            if (useHeaderSlots)
            {
                headResource = headerById ? headId : slots.acquire();
                header.wrap(headerSlots.addressOffset() + (long)headResource * headerSlotSize, headerLength);
            }
            else
            {
                header.wrap(frames.addressOffset() + (long)headResource * DeviceLayout.PAGE_SIZE, headerLength);
            }
            for (int i = 0; i < count; i++)
            {
                // with the header by id, the first fragment rides on the head request and its id
                fragmentIds[i] = i == 0 && headerById ? headId : ids.acquire();
            }
            active = true;
            total = totalLength;
            return true;
        }

        /** Gives back the frames a failed {@link #open} took. */
        private void releaseTaken()
        {
            if (!useHeaderSlots)
            {
                framePool.release(headResource, 1);
            }
            for (int i = 0; i < fragmentCount; i++)
            {
                framePool.release(fragmentFrames[i], framesFor(fragments[i].capacity()));
            }
            fragmentCount = 0;
        }

        @Override
        public MutableDirectBuffer header()
        {
            return header;
        }

        @Override
        public int fragmentCount()
        {
            return fragmentCount;
        }

        @Override
        public MutableDirectBuffer fragment(final int index)
        {
            if (index < 0 || index >= fragmentCount)
            {
                throw new IndexOutOfBoundsException("fragment index=" + index + " of " + fragmentCount);
            }
            return fragments[index];
        }

        /**
         * {@inheritDoc} A memory fault on the way (the device file truncated under the mapping) does
         * not escape: the packet is in flight all the same, the frontend disconnects, and the next
         * poll completes it as DISCONNECTED.
         */
        @Override
        public void commit(final long correlationId)
        {
            checkActive();
            boolean registered = false;
            try
            {
                if (headerById)
                {
                    commitHeaderById();
                }
                else
                {
                    commitClassic();
                }
                register(correlationId);
                registered = true;
                unpushedBytes += total;
                if (++unpushedPackets >= pushBatch)
                {
                    flush();
                }
                active = false;
            }
            catch (final InternalError fault)
            {
                if (!MemoryFault.is(fault))
                {
                    throw fault;
                }
                if (!registered)
                {
                    idHead[headId] = headId;
                    headRemaining[headId] = 1;
                    register(correlationId);
                }
                active = false;
                faultListener.accept(fault);
            }
        }

        private void register(final long correlationId)
        {
            headCorrelation[headId] = correlationId;
            headStatus[headId] = NetifConstants.NETIF_RSP_OKAY;
            inFlight++;
        }

        /**
         * Header in slot headId; the first request also carries fragment 0 (gref, data from offset
         * 0) with the header's length in its offset field; further fragments follow as usual.
         */
        private void commitHeaderById()
        {
            final int domid = GrantConstants.BACKEND_DOMAIN_ID;
            idHead[headId] = headId;
            if (fragmentCount == 0)
            {
                // a header alone: the classic header-slot request, naming its own slot
                idKind[headId] = KIND_SLOT_BY_ID;
                writeRequest(0, headId, 0, NetifConstants.NETTXF_SPLITNET_HEADER_SLOT, headId, total);
                headRemaining[headId] = 1;
                return;
            }
            for (int i = 0; i < fragmentCount; i++)
            {
                final int gref = recordFragment(i, domid);
                final int more = i + 1 < fragmentCount ? NetifConstants.NETTXF_MORE_DATA : 0;
                if (i == 0)
                {
                    writeRequest(0, gref, header.capacity(), NetifConstants.NETTXF_SPLITNET_HEADER_BY_ID | more, headId, total);
                }
                else
                {
                    writeRequest(i, gref, 0, more, fragmentIds[i], fragments[i].capacity());
                }
            }
            headRemaining[headId] = fragmentCount;
        }

        private void commitClassic()
        {
            final int domid = GrantConstants.BACKEND_DOMAIN_ID;
            int flags = fragmentCount > 0 ? NetifConstants.NETTXF_MORE_DATA : 0;
            idHead[headId] = headId;
            idResource[headId] = headResource;
            if (useHeaderSlots)
            {
                idKind[headId] = KIND_SLOT;
                flags |= NetifConstants.NETTXF_SPLITNET_HEADER_SLOT;
            }
            else
            {
                idKind[headId] = KIND_FRAME;
                idFrames[headId] = 1;
                grantForUse(headResource, domid);
            }
            // Xen's first request: its size is the whole packet; the header's length is what the
            // following requests leave over.
            writeRequest(0, useHeaderSlots ? headResource : grefFor(headResource), 0, flags, headId, total);
            for (int i = 0; i < fragmentCount; i++)
            {
                final int gref = recordFragment(i, domid);
                writeRequest(i + 1, gref, 0, i + 1 < fragmentCount ? NetifConstants.NETTXF_MORE_DATA : 0, fragmentIds[i],
                    fragments[i].capacity());
            }
            headRemaining[headId] = 1 + fragmentCount;
        }

        /**
         * Records what fragment {@code i}'s request holds (its run of frames, its packet) under its
         * id and grants the frames if grants are per use; returns the gref its request carries.
         */
        private int recordFragment(final int i, final int domid)
        {
            final int id = fragmentIds[i];
            final int frame = fragmentFrames[i];
            idHead[id] = headId;
            idKind[id] = KIND_FRAME;
            idResource[id] = frame;
            idFrames[id] = framesFor(fragments[i].capacity());
            grantForUse(frame, domid);
            return grefFor(frame);
        }

        /** Without permanent grants, each use grants the frame (ended again when the response is in). */
        private void grantForUse(final int frame, final int domid)
        {
            if (!permanentGrants)
            {
                grants.grantAccess(frame, domid, frame, true);
            }
        }

        /** The gref a request carries for a frame (gref f is frame f), marked permanent when negotiated. */
        private int grefFor(final int frame)
        {
            return permanentGrants ? frame | GrantConstants.GREF_PERMANENT : frame;
        }

        /** Appends the packet's request {@code n}; they are written in order, 0 first. */
        private void writeRequest(final int n, final int gref, final int dataOffset, final int flags, final int id, final int size)
        {
            ring.putTxRequest(gref, dataOffset, flags, id, size);
            awaitingResponse[id] = true;
        }

        @Override
        public void abort()
        {
            checkActive();
            abortPrivately();
        }

        /** Gives the claim's ids, slot and frames back; touches no shared memory. */
        void abortPrivately()
        {
            ids.release(headId);
            if (useHeaderSlots && !headerById)
            {
                slots.release(headResource);
            }
            for (int i = headerById ? 1 : 0; i < fragmentCount; i++)
            {
                ids.release(fragmentIds[i]);
            }
            releaseTaken();
            active = false;
        }

        private void checkActive()
        {
            if (closed)
            {
                throw new IllegalStateException("the claim is void and its buffers are gone: " + closedReason);
            }
            if (!active)
            {
                throw new IllegalStateException("no open claim: commit or abort called twice");
            }
        }

        /** At close: the views no longer reach the mapping, so a late write fails with an exception, not a crash. */
        void detach()
        {
            header.wrap(0, 0);
            for (final UnsafeBuffer fragment : fragments)
            {
                fragment.wrap(0, 0);
            }
            active = false;
        }
    }
}

package dev.splitnet.backend;

import dev.splitnet.api.Features;
import dev.splitnet.api.GrantConstants;
import dev.splitnet.api.NetifConstants;
import dev.splitnet.api.Packet;
import dev.splitnet.api.PacketHandler;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.XenbusState;
import dev.splitnet.mmap.NetifEntries;
import dev.splitnet.mmap.BackRing;
import dev.splitnet.mmap.Device;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.DeviceCounters;
import dev.splitnet.mmap.DeviceLayout;
import dev.splitnet.mmap.Doorbell;
import dev.splitnet.mmap.GrantTable;
import dev.splitnet.mmap.NetifDescriptor;
import dev.splitnet.mmap.NetifLimits;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static dev.splitnet.mmap.NetifDescriptor.*;

/**
 * One connected frontend, as netback's {@code xenvif}: its mapped device, rings, grants,
 * counters and doorbell, and the TX path: copy each request out of the ring once, validate the
 * copy, copy the header out of its slot, hand the handler lazy fragments, release the grants and
 * answer every request. A bad packet gets error responses; a protocol violation disconnects.
 */
final class Vif implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(Vif.class);

    private final int domainId;
    private final String name;
    private final Device device;
    private final DeviceLayout layout;
    private final Doorbell doorbell;
    private final DeviceCounters counters;
    private final BackRing txRing;
    private final AtomicBuffer txSring;
    private final ActiveGrants grants;
    private final UnsafeBuffer headerSlots;
    private final boolean headerSlotsNegotiated;
    private final boolean permanentGrantsNegotiated;
    private final boolean frameSpansNegotiated;
    private final BackendPacket packet;
    private final RxDelivery rx;
    private final int headerCopyLength;

    // private copies of one packet's requests, filled once from the ring and checked there
    private final int[] reqGref;
    private final int[] reqOffset;
    private final int[] reqFlags;
    private final int[] reqId;
    private final int[] reqSize;

    private final AtomicCounter txPackets;
    private final AtomicCounter txBytes;
    private final AtomicCounter headerBytesCopied;
    private final AtomicCounter grantMaps;
    private final AtomicCounter grantReuses;
    private final AtomicCounter errorHandler;
    private final AtomicCounter errorFatal;
    private final AtomicCounter[] errorByReason;

    // per-packet counts, published to the shared counters once per processTx batch
    private long pendingTxPackets;
    private long pendingTxBytes;
    private long pendingHeaderBytes;
    private long pendingReuses;

    private String fatalReason;
    private InternalError pendingFault;
    // the chain consumed from the ring and how many of its responses are written
    private int chainCount;
    private int chainAnswered;
    private boolean closed;
    // RX responses written by deliveries and not yet published with rsp_prod
    private boolean rxUnpushed;
    // TX responses written and not yet published with rsp_prod
    private boolean txUnpushed;

    /**
     * @param name     the device's name as the HELLO gave it (its path is derived from it); never the
     *                 name in the control page, which the frontend can rewrite at any time.
     * @param counters the backend's counters of this frontend, in the backend's own file.
     */
    Vif(final int domainId, final String name, final Device device, final Doorbell doorbell, final long features,
        final DeviceCounters counters) throws IOException
    {
        this.domainId = domainId;
        this.device = device;
        this.name = name;
        this.layout = device.layout();
        this.doorbell = doorbell;
        // the backend's own counters of this frontend (its file, not the frontend's: see BackendCounters)
        this.counters = counters;
        this.txRing = new BackRing(device.txRing(), layout.txRingEntries(), NetifDescriptor.TX_ENTRY_LENGTH);
        this.txSring = device.txRing();
        final BackRing rxRing = new BackRing(device.rxRing(), layout.rxRingEntries(), NetifDescriptor.RX_ENTRY_LENGTH);
        txRing.attach();
        rxRing.attach();
        this.grants = new ActiveGrants(new GrantTable(device.grantTableBuffer(), layout.grantEntries(), layout.frameCount()),
            GrantConstants.BACKEND_DOMAIN_ID, counters);
        this.headerSlots = device.headerSlots();
        this.headerSlotsNegotiated = (features & Features.HEADER_SLOTS) != 0;
        this.permanentGrantsNegotiated = (features & Features.PERMANENT_GRANTS) != 0;
        this.frameSpansNegotiated = (features & Features.FRAME_SPANS) != 0;
        this.headerCopyLength = layout.headerSlotSize();
        final ByteBuffer framesView = device.mapping().mapChannelView(layout.framesOffset(), (int)((long)layout.frameCount() * DeviceLayout.PAGE_SIZE));
        final LazyFragment[] fragments = new LazyFragment[NetifLimits.MAX_TX_REQUESTS_PER_PACKET];
        for (int i = 0; i < fragments.length; i++)
        {
            fragments[i] = new LazyFragment(grants, device.frames().addressOffset(), framesView, counters);
        }
        this.packet = new BackendPacket(domainId, fragments, counters.get(DeviceCounter.EGRESS_PACKETS));
        this.rx = new RxDelivery(rxRing, grants, device.frames().addressOffset(), counters, permanentGrantsNegotiated);
        final int ringSize = layout.txRingEntries();
        this.reqGref = new int[ringSize];
        this.reqOffset = new int[ringSize];
        this.reqFlags = new int[ringSize];
        this.reqId = new int[ringSize];
        this.reqSize = new int[ringSize];
        this.txPackets = counters.get(DeviceCounter.BACKEND_TX_PACKETS);
        this.txBytes = counters.get(DeviceCounter.BACKEND_TX_BYTES);
        this.headerBytesCopied = counters.get(DeviceCounter.HEADER_BYTES_COPIED);
        this.grantMaps = counters.get(DeviceCounter.GRANT_MAPS);
        this.grantReuses = counters.get(DeviceCounter.GRANT_REUSES);
        this.errorHandler = counters.get(DeviceCounter.ERROR_HANDLER);
        this.errorFatal = counters.get(DeviceCounter.ERROR_FATAL);
        this.errorByReason = new AtomicCounter[] {
            null,
            counters.get(DeviceCounter.ERROR_BAD_GREF),
            counters.get(DeviceCounter.ERROR_BAD_OFFSET),
            counters.get(DeviceCounter.ERROR_BAD_SLOT),
            counters.get(DeviceCounter.ERROR_TOO_MANY_FRAGMENTS),
            counters.get(DeviceCounter.ERROR_SIZE_MISMATCH),
            counters.get(DeviceCounter.ERROR_UNSUPPORTED),
        };
    }

    int domainId()
    {
        return domainId;
    }

    String name()
    {
        return name;
    }

    /** Advances the heartbeat word the frontend watches (PROTOCOL.md, "Liveness"). */
    void beat()
    {
        dev.splitnet.mmap.ControlDescriptor.beat(device.control());
    }

    Doorbell doorbell()
    {
        return doorbell;
    }

    Device device()
    {
        return device;
    }

    DeviceCounters counters()
    {
        return counters;
    }

    /** Why the frontend was disconnected, or null while it is healthy. */
    String fatalReason()
    {
        return fatalReason;
    }

    /**
     * Takes up to {@code budget} packets off the TX ring and answers them.
     *
     * @return packets handled; -1 after a protocol violation (see {@link #fatalReason()}).
     */
    int processTx(final PacketHandler handler, final int budget)
    {
        if (fatalReason != null)
        {
            return -1;
        }
        int available = txRing.availableRequests();
        if (available == BackRing.OVERFLOW)
        {
            return fatal("TX req_prod is impossible: more than the ring size (" + txRing.size() + ") ahead of the responses, or behind the consumer");
        }
        int packets = 0;
        while (available > 0 && packets < budget)
        {
            final int count = copyChain(available);
            if (count < 0)
            {
                return fatal("TX packet chain continues past req_prod (more_data on the last published request)");
            }
            txRing.consumeRequests(count);
            chainCount = count;
            chainAnswered = 0;
            available -= count;
            final int reason = validate(count);
            final short status;
            if (reason != 0)
            {
                errorByReason[reason].incrementRelease();
                status = NetifConstants.NETIF_RSP_ERROR;
            }
            else
            {
                status = handle(handler, count);
            }
            answerChain(status);
            packets++;
        }
        publishCounters();
        if (grants.stuckReleases() > 0)
        {
            fatal("grant entry rewritten while the backend held it: its in-use flag could not be cleared in "
                + GrantTable.MAX_CAS_ATTEMPTS + " CAS attempts");
        }
        // TX responses are pushed by NetBack after every frontend's RX (pushTxResponses): an OKAY
        // for a packet switched into another frontend must not be visible before that frontend's
        // rsp_prod is, or a backend killed in between loses a packet its sender saw OKAY.
        if (pendingFault != null)
        {
            final InternalError fault = pendingFault;
            pendingFault = null;
            throw fault;
        }
        return packets;
    }

    /**
     * Adds the batch's packet, byte and header counts to the shared counters: three stores per
     * batch instead of three per packet. Done before the responses are pushed, so a frontend that
     * sees a completion also sees it counted.
     */
    private void publishCounters()
    {
        if (pendingTxPackets > 0)
        {
            txPackets.getAndAddRelease(pendingTxPackets);
            txBytes.getAndAddRelease(pendingTxBytes);
            headerBytesCopied.getAndAddRelease(pendingHeaderBytes);
            pendingTxPackets = 0;
            pendingTxBytes = 0;
            pendingHeaderBytes = 0;
        }
        if (pendingReuses > 0)
        {
            grantReuses.getAndAddRelease(pendingReuses);
            pendingReuses = 0;
        }
    }

    /** Writes the responses of the consumed chain not yet answered, all with {@code status}. */
    private void answerChain(final short status)
    {
        while (chainAnswered < chainCount)
        {
            final int offset = txRing.nextResponseOffset();
            NetifEntries.TxResponse.write(txSring, offset, reqId[chainAnswered], status);
            txRing.produceResponse();
            chainAnswered++;
            txUnpushed = true;
        }
        chainCount = 0;
    }

    /**
     * After a memory fault interrupted this frontend's TX path (the fault may come from another
     * frontend's truncated file, delivered late): the packet being handled gets its error
     * responses, so it still ends with exactly one status, and its grants are released.
     */
    void answerInterruptedPacket()
    {
        if (chainCount > 0)
        {
            packet.releaseAll();
            errorHandler.incrementRelease();
            answerChain((short)NetifConstants.NETIF_RSP_ERROR);
        }
        pushTx();
    }

    /**
     * Publishes this frontend's TX responses; NetBack calls it once per cycle after every
     * frontend's {@link #pushRx()}, so a completion never gets ahead of the delivery it reports.
     */
    void pushTxResponses()
    {
        pushTx();
    }

    /**
     * Publishes TX responses written and not yet published. The flag is cleared only after the
     * push: a fault the JVM delivers late (anywhere in the loop) can interrupt this, and the next
     * cycle or the recovery pushes again, so no written response stays unpublished.
     */
    private void pushTx()
    {
        if (txUnpushed && fatalReason == null)
        {
            if (txRing.pushResponsesAndCheckNotify())
            {
                doorbell.ring();
            }
            txUnpushed = false;
        }
    }

    /** Copies the requests of one packet out of the ring, once each; -1 when the chain is cut off. */
    private int copyChain(final int available)
    {
        int n = 0;
        while (true)
        {
            if (n == available)
            {
                return -1;
            }
            final int offset = txRing.requestOffset(n);
            reqGref[n] = NetifEntries.TxRequest.gref(txSring, offset);
            reqOffset[n] = NetifEntries.TxRequest.dataOffset(txSring, offset);
            reqFlags[n] = NetifEntries.TxRequest.flags(txSring, offset);
            reqId[n] = NetifEntries.TxRequest.id(txSring, offset);
            reqSize[n] = NetifEntries.TxRequest.size(txSring, offset);
            final boolean more = (reqFlags[n] & NetifConstants.NETTXF_MORE_DATA) != 0;
            n++;
            if (!more)
            {
                return n;
            }
        }
    }

    private static final int OK = 0;
    private static final int BAD_GREF = 1;
    private static final int BAD_OFFSET = 2;
    private static final int BAD_SLOT = 3;
    private static final int TOO_MANY_FRAGMENTS = 4;
    private static final int SIZE_MISMATCH = 5;
    private static final int UNSUPPORTED = 6;

    /** Checks the private copies of a packet's requests; returns OK or the reason it is bad. */
    private int validate(final int count)
    {
        if (count - 1 > NetifLimits.MAX_PAYLOAD_FRAGMENTS)
        {
            return TOO_MANY_FRAGMENTS;
        }
        int payload = 0;
        for (int i = 1; i < count; i++)
        {
            if ((reqFlags[i] & (NetifConstants.NETTXF_SPLITNET_HEADER_SLOT | NetifConstants.NETTXF_SPLITNET_HEADER_BY_ID
                | NetifConstants.NETTXF_EXTRA_INFO)) != 0)
            {
                return UNSUPPORTED;
            }
            final int reason = checkGrantRange(reqGref[i], reqOffset[i], reqSize[i], frameSpansNegotiated);
            if (reason != OK)
            {
                return reason;
            }
            payload += reqSize[i];
        }
        final int first = reqFlags[0];
        if ((first & NetifConstants.NETTXF_EXTRA_INFO) != 0)
        {
            return UNSUPPORTED;
        }
        if (payload > reqSize[0])
        {
            return SIZE_MISMATCH;
        }
        final int headLength = reqSize[0] - payload;
        if ((first & NetifConstants.NETTXF_SPLITNET_HEADER_BY_ID) != 0)
        {
            return validateHeaderById(first, headLength);
        }
        if ((first & NetifConstants.NETTXF_SPLITNET_HEADER_SLOT) != 0)
        {
            if (!headerSlotsNegotiated)
            {
                return UNSUPPORTED;
            }
            if (reqGref[0] < 0 || reqGref[0] >= layout.headerSlotCount())
            {
                return BAD_SLOT;
            }
            if (reqOffset[0] + headLength > layout.headerSlotSize())
            {
                return BAD_OFFSET;
            }
        }
        else
        {
            final int reason = headLength > 0 ? checkGrantRange(reqGref[0], reqOffset[0], headLength, false)
                : reqOffset[0] > DeviceLayout.PAGE_SIZE ? BAD_OFFSET : OK;
            if (reason != OK)
            {
                return reason;
            }
            if (headLength > headerCopyLength && count - 1 == NetifLimits.MAX_PAYLOAD_FRAGMENTS)
            {
                return TOO_MANY_FRAGMENTS;
            }
        }
        return OK;
    }

    /**
     * The compact first request: header in slot {@code id}, {@code offset} bytes long; the rest of
     * the first request's share of the packet is its own data, from offset 0 of its gref.
     */
    private int validateHeaderById(final int first, final int headLength)
    {
        if (!headerSlotsNegotiated || !frameSpansNegotiated || (first & NetifConstants.NETTXF_SPLITNET_HEADER_SLOT) != 0)
        {
            return UNSUPPORTED;
        }
        if (reqId[0] >= layout.headerSlotCount())
        {
            return BAD_SLOT;
        }
        final int headerLength = reqOffset[0];
        if (headerLength > layout.headerSlotSize())
        {
            return BAD_OFFSET;
        }
        final int own = headLength - headerLength;
        if (own < 0)
        {
            return SIZE_MISMATCH;
        }
        return own == 0 ? OK : checkGrantRange(reqGref[0], 0, own, true);
    }

    /**
     * Checks one request's grant and byte range on the private copy: a permanent gref needs the
     * feature; a range past its frame needs frame spans and a permanent gref, and then covers
     * consecutive grefs whose frames must be consecutive. A permanent grant is kept here, at its
     * first sight (the grant is taken; no byte of the frame is touched), so the check of a reused
     * one is an array load that reads no shared memory: the seed's "recognise a valid reuse
     * without mapping again". A transient grant is only checked; it is taken at first access.
     */
    private int checkGrantRange(final int rawGref, final int offset, final int size, final boolean spansAllowed)
    {
        final boolean permanent = (rawGref & GrantConstants.GREF_PERMANENT) != 0;
        if (permanent && !permanentGrantsNegotiated)
        {
            return UNSUPPORTED;
        }
        final int end = offset + size;
        if (end > DeviceLayout.PAGE_SIZE && !(permanent && spansAllowed))
        {
            return BAD_OFFSET;
        }
        final int gref = rawGref & GrantConstants.GREF_MASK;
        final int frames = Math.max(1, (end + DeviceLayout.PAGE_SIZE - 1) / DeviceLayout.PAGE_SIZE);
        if (frames > grants.table().entries() - gref)
        {
            return BAD_GREF;
        }
        if (!permanent)
        {
            return grants.table().check(gref, grants.domid(), false) == 0 ? OK : BAD_GREF;
        }
        if (grants.keptSpan(gref, frames) >= 0)
        {
            pendingReuses++;
            return OK;
        }
        final int keptBefore = grants.kept();
        final int first = grants.keep(gref, false);
        if (first < 0)
        {
            return BAD_GREF;
        }
        for (int i = 1; i < frames; i++)
        {
            if (grants.keep(gref + i, false) != first + i)
            {
                // not granted, or the span's frames are not consecutive
                return BAD_GREF;
            }
        }
        if (grants.kept() == keptBefore)
        {
            pendingReuses++;
        }
        return OK;
    }

    /** Builds the packet from validated copies, runs the handler, releases grants; returns the status. */
    private short handle(final PacketHandler handler, final int count)
    {
        final int headLength = reqSize[0] - payloadOf(count);
        final UnsafeBuffer header = packet.headerMemory();
        int headerLength = headLength;
        if ((reqFlags[0] & NetifConstants.NETTXF_SPLITNET_HEADER_BY_ID) != 0)
        {
            // header and first fragment in one request: the header from slot id, the data lazy
            headerLength = reqOffset[0];
            header.putBytes(0, headerSlots, reqId[0] * layout.headerSlotSize(), headerLength);
            packet.reset(headerLength);
            if (headLength > headerLength)
            {
                packet.addFragment(reqGref[0], 0, headLength - headerLength);
            }
        }
        else if ((reqFlags[0] & NetifConstants.NETTXF_SPLITNET_HEADER_SLOT) != 0)
        {
            // The seed's header slot: copy the header out and the slot is free for the frontend
            // again (it learns so from this packet's response).
            header.putBytes(0, headerSlots, reqGref[0] * layout.headerSlotSize() + reqOffset[0], headLength);
            packet.reset(headLength);
        }
        else
        {
            // Plain Xen: like netback's XEN_NETBACK_TX_COPY_LEN, copy the start of the first
            // request through a grant hold; anything past it stays a lazy fragment.
            headerLength = Math.min(headLength, headerCopyLength);
            packet.reset(headerLength);
            if (headerLength > 0)
            {
                final boolean permanent = (reqGref[0] & GrantConstants.GREF_PERMANENT) != 0;
                final int gref = reqGref[0] & GrantConstants.GREF_MASK;
                // a permanent grant was kept by validation; a transient one is mapped for the copy
                final int frame = permanent ? grants.keptFrame(gref, false) : grants.acquire(gref, false);
                if (frame < 0)
                {
                    if (frame != GrantTable.ACQUIRE_UNSTABLE)
                    {
                        errorByReason[BAD_GREF].incrementRelease();
                    }
                    return NetifConstants.NETIF_RSP_ERROR;
                }
                if (!permanent)
                {
                    grantMaps.incrementRelease();
                }
                header.putBytes(0, device.frames(), frame * DeviceLayout.PAGE_SIZE + reqOffset[0], headerLength);
                if (!permanent)
                {
                    grants.release(gref, false);
                }
            }
            if (headLength > headerLength)
            {
                packet.addFragment(reqGref[0], reqOffset[0] + headerLength, headLength - headerLength);
            }
        }
        pendingHeaderBytes += headerLength;
        for (int i = 1; i < count; i++)
        {
            packet.addFragment(reqGref[i], reqOffset[i], reqSize[i]);
        }
        pendingTxPackets++;
        pendingTxBytes += reqSize[0];
        short status;
        try
        {
            final PacketStatus verdict = handler.onPacket(packet);
            status = verdict == null || verdict == PacketStatus.DISCONNECTED ? NetifConstants.NETIF_RSP_ERROR : verdict.netifCode();
        }
        catch (final GrantFaultException ex)
        {
            // counted below, from the fragment that faulted (the handler may also have caught it)
            status = NetifConstants.NETIF_RSP_ERROR;
        }
        catch (final InternalError fault)
        {
            // A fault on some mapping, maybe another frontend's truncated file, delivered late by
            // the JVM: this packet still gets its one (error) status, then the fault goes up to
            // NetBackRunner, which finds the truncated file.
            pendingFault = fault;
            status = NetifConstants.NETIF_RSP_ERROR;
        }
        catch (final Throwable ex)
        {
            errorHandler.incrementRelease();
            LOG.warn("domain {}: packet handler failed: {}", domainId, ex.toString());
            status = NetifConstants.NETIF_RSP_ERROR;
        }
        finally
        {
            packet.releaseAll();
        }
        final int faultReason = packet.faultReason();
        if (faultReason != 0)
        {
            // A grant that could not be taken fails its packet, even when the handler caught the
            // fault or a delivery reported it as a return value: the frontend learns its grant was bad.
            if (faultReason != GrantTable.ACQUIRE_UNSTABLE)
            {
                errorByReason[BAD_GREF].incrementRelease();
            }
            status = NetifConstants.NETIF_RSP_ERROR;
        }
        return status;
    }

    private int payloadOf(final int count)
    {
        int payload = 0;
        for (int i = 1; i < count; i++)
        {
            payload += reqSize[i];
        }
        return payload;
    }

    /** Delivers into this frontend's RX buffers; see {@link dev.splitnet.api.Backend#deliver}. */
    PacketStatus deliver(final Packet source)
    {
        return afterDelivery(rx.deliver(source));
    }

    PacketStatus deliver(final DirectBuffer buffer, final int offset, final int length)
    {
        return afterDelivery(rx.deliver(buffer, offset, length));
    }

    private PacketStatus afterDelivery(final PacketStatus status)
    {
        if (status == null)
        {
            fatal("RX req_prod is more than the ring size ahead of the responses");
            return PacketStatus.ERROR;
        }
        rxUnpushed = true;
        return status;
    }

    /**
     * Publishes the RX responses written since the last push (push-and-check-notify, one volatile
     * store of rsp_prod and one fence for a whole cycle's deliveries) and rings if asked. The
     * backend calls it at the end of each duty cycle, before its TX responses, and before sleeping.
     */
    void pushRx()
    {
        if (rxUnpushed)
        {
            rxUnpushed = false;
            if (fatalReason == null && rx.push())
            {
                doorbell.ring();
            }
        }
    }

    /** Arms the TX ring's event before sleeping; true when requests are already waiting. */
    boolean finalCheckForRequests()
    {
        return fatalReason == null && txRing.finalCheckForRequests();
    }

    private int fatal(final String reason)
    {
        if (fatalReason == null)
        {
            fatalReason = reason;
            errorFatal.incrementRelease();
            LOG.error("domain {} ({}): protocol violation, disconnecting: {}", domainId, name, reason);
        }
        return -1;
    }

    /**
     * Whether the frontend shrank its file under the mapping, or left a hole in it (truncated and
     * regrew it, or punched one): pages that fault when touched, or that a full file system cannot
     * back. A frontend writes every page of its file at creation, so an honest file has no hole.
     */
    boolean isTampered()
    {
        final long size = device.mapping().currentFileSize();
        if (size >= 0 && size < layout.fileLength())
        {
            return true;
        }
        final long hole = device.firstHole();
        return hole >= 0 && hole < layout.fileLength();
    }

    /**
     * Disconnects without touching the shared memory again (after a fault nobody could be blamed
     * for): the doorbell is closed, so the frontend sees end-of-stream, and the mapping released.
     * Grants the backend held stay marked in use; the frontend discards the device anyway.
     */
    void abandon()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        doorbell.close();
        device.close();
    }

    /**
     * Disconnects: permanent grants dropped, states to Closed (unless the file was truncated:
     * those pages are gone), socket closed, mapping released. No other grant is held between
     * packets.
     */
    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        final boolean memoryGone = isTampered();
        if (grants.held() != 0 && !memoryGone)
        {
            LOG.error("domain {}: {} grant holds outstanding at disconnect", domainId, grants.held());
        }
        if (!memoryGone)
        {
            grants.releaseKept();
        }
        if (!memoryGone)
        {
            device.setBackendState(XenbusState.CLOSING);
        }
        doorbell.close();
        if (!memoryGone)
        {
            device.setBackendState(XenbusState.CLOSED);
        }
        device.close();
    }
}

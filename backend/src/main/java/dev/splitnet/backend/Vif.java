package dev.splitnet.backend;

import dev.splitnet.api.Features;
import dev.splitnet.api.GrantConstants;
import dev.splitnet.api.NetifConstants;
import dev.splitnet.api.Packet;
import dev.splitnet.api.PacketHandler;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.XenbusState;
import dev.splitnet.mmap.BackendRing;
import dev.splitnet.mmap.Device;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.DeviceCounters;
import dev.splitnet.mmap.DeviceLayout;
import dev.splitnet.mmap.Doorbell;
import dev.splitnet.mmap.GrantTable;
import dev.splitnet.mmap.RingFormat;
import dev.splitnet.mmap.NetifLimits;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.agrona.DirectBuffer;
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
    private final BackendRing txRing;
    private final BackendRing rxRing;
    private final ActiveGrants grants;
    private final UnsafeBuffer headerSlots;
    private final NegotiatedFeatures features;
    private final TxChain chain;
    private final TxValidator validator;
    private final PendingTable pending;
    private final RxDelivery rx;
    private final int headerCopyLength;
    // deliveries waiting for this frontend's RX buffers; set at adoption
    private RxQueue rxQueue;
    // lazy receive: the backend frames lent to this frontend (null: it receives by copy)
    private final LentFrames lent;

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

    private String fatalReason;
    private InternalError pendingFault;
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
        final DeviceCounters counters, final CopyMemory copyMemory, final HoldLimits holdLimits, final RxOrder rxOrder,
        final LentFrames lent) throws IOException
    {
        this.lent = lent;
        this.domainId = domainId;
        this.device = device;
        this.name = name;
        this.layout = device.layout();
        this.doorbell = doorbell;
        // the backend's own counters of this frontend (its file, not the frontend's: see BackendCounters)
        this.counters = counters;
        final RingFormat format = RingFormat.of(features);
        this.txRing = format.attachBackend(device.txRing(), true);
        this.rxRing = format.attachBackend(device.rxRing(), false);
        this.features = NegotiatedFeatures.of(features);
        this.grants = new ActiveGrants(new GrantTable(device.grantTableBuffer(), layout.grantEntries(), layout.frameCount()),
            GrantConstants.BACKEND_DOMAIN_ID, counters, this.features.permanentGrants());
        this.headerSlots = device.headerSlots();
        this.headerCopyLength = layout.headerSlotSize();
        this.chain = new TxChain(txRing.size());
        this.validator = new TxValidator(grants, this.features, layout.headerSlotCount(), layout.headerSlotSize());
        final ByteBuffer framesView = device.mapping().mapChannelView(layout.framesOffset(), (int)((long)layout.frameCount() * DeviceLayout.PAGE_SIZE));
        this.pending = new PendingTable(txRing, grants, device.frames().addressOffset(), framesView, headerCopyLength,
            layout.txFrameCount(), copyMemory, holdLimits, counters, domainId);
        // any order is correct only where responses name their buffers (ring v2)
        this.rx = new RxDelivery(rxRing, grants, device.frames().addressOffset(), counters,
            rxOrder == RxOrder.SHUFFLE && format == RingFormat.V2 ? 0x9E3779B97F4A7C15L ^ domainId : 0, lent, this.features.rxSpans());
        this.txPackets = counters.get(DeviceCounter.BACKEND_TX_PACKETS);
        this.txBytes = counters.get(DeviceCounter.BACKEND_TX_BYTES);
        this.headerBytesCopied = counters.get(DeviceCounter.HEADER_BYTES_COPIED);
        this.grantMaps = counters.get(DeviceCounter.GRANT_MAPS);
        this.grantReuses = counters.get(DeviceCounter.GRANT_REUSES);
        this.errorHandler = counters.get(DeviceCounter.ERROR_HANDLER);
        this.errorFatal = counters.get(DeviceCounter.ERROR_FATAL);
        this.errorByReason = new AtomicCounter[TxValidator.REASONS];
        errorByReason[TxValidator.BAD_GREF] = counters.get(DeviceCounter.ERROR_BAD_GREF);
        errorByReason[TxValidator.BAD_OFFSET] = counters.get(DeviceCounter.ERROR_BAD_OFFSET);
        errorByReason[TxValidator.BAD_SLOT] = counters.get(DeviceCounter.ERROR_BAD_SLOT);
        errorByReason[TxValidator.TOO_MANY_FRAGMENTS] = counters.get(DeviceCounter.ERROR_TOO_MANY_FRAGMENTS);
        errorByReason[TxValidator.SIZE_MISMATCH] = counters.get(DeviceCounter.ERROR_SIZE_MISMATCH);
        errorByReason[TxValidator.UNSUPPORTED] = counters.get(DeviceCounter.ERROR_UNSUPPORTED);
    }

    /** This frontend's packets between request and response, held ones included. */
    PendingTable pending()
    {
        return pending;
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
        int packets = 0;
        // a packet is taken off the ring only when the pending table has room for it; it always
        // has (held packets answer no more than a ring's worth; copies make way, see makeRoom).
        // Both have side effects (a pause starts, a copy is dropped): only for a waiting request.
        while (packets < budget)
        {
            final int waiting = txRing.fetchRequest(0);
            if (waiting == BackendRing.CORRUPT)
            {
                return fatal(txRing.violation());
            }
            if (waiting == BackendRing.EMPTY || pending.senderPaused() || !pending.makeRoom())
            {
                break;
            }
            // the first request as fetched above (pausing and making room touch no request)
            final int count = chain.copyFrom(txRing);
            if (count == TxChain.CORRUPT)
            {
                return fatal(txRing.violation());
            }
            if (count == TxChain.INCOMPLETE)
            {
                return fatal("TX packet chain continues past req_prod (more_data on the last published request)");
            }
            // From here until it is answered the packet is the table's "in handler" one: a memory
            // fault the JVM delivers late (another frontend's truncated file), anywhere in between,
            // still gets it answered. Opened first, consumed second: a fault between the two finds
            // it opened and still in the ring, and the recovery consumes it (answerInterruptedPacket)
            // so it is answered once and not read again; consumed first, a fault before the open
            // lost it (the packet was never answered and its sender waited for ever).
            final int slot = pending.open(chain, txRing.requestConsumer());
            txRing.consumeRequests(count);
            final int reason = validator.validate(chain);
            if (reason != TxValidator.OK)
            {
                errorByReason[reason].incrementRelease();
                pending.finishHandler(slot, (short)NetifConstants.NETIF_RSP_ERROR);
            }
            else
            {
                pending.finishHandler(slot, handle(handler, slot));
            }
            packets++;
        }
        // ring v2: the request slots taken are free for the frontend again (once per batch)
        txRing.publishConsumed();
        // held packets taking more than their share of the ring are copied, and answered, now
        pending.relievePressure();
        txUnpushed |= pending.takeUnpushed();
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
        final long reuses = validator.takeReuses();
        if (reuses > 0)
        {
            grantReuses.getAndAddRelease(reuses);
        }
    }

    /**
     * After a memory fault interrupted this frontend's TX path (the fault may come from another
     * frontend's truncated file, delivered late): the packet being handled gets its error
     * responses, so it still ends with exactly one status, and its grants are released.
     */
    void answerInterruptedPacket()
    {
        if (pending.answerInterrupted())
        {
            errorHandler.incrementRelease();
        }
        txUnpushed |= pending.takeUnpushed();
        pushTx();
    }

    /**
     * Publishes this frontend's TX responses; NetBack calls it once per cycle after every
     * frontend's {@link #pushRx()}, so a completion never gets ahead of the delivery it reports.
     */
    void pushTxResponses()
    {
        txUnpushed |= pending.takeUnpushed();
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
            if (txRing.pushResponses())
            {
                doorbell.ring();
            }
            txUnpushed = false;
            if (txRing.violation() != null)
            {
                // ring v2: no response slot for a response (the frontend kept consumed ones)
                fatal(txRing.violation());
            }
        }
    }

    /**
     * Builds the slot's packet from the validated chain (netback's {@code xenvif_tx_build_gops}: the
     * header copied, the rest lazy fragments) and runs the handler.
     *
     * @return the status to answer with when the handler did not hold the packet.
     */
    private short handle(final PacketHandler handler, final int slot)
    {
        final BackendPacket packet = pending.packet(slot);
        final short built = build(packet);
        if (built != NetifConstants.NETIF_RSP_OKAY)
        {
            return built;
        }
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
        if (pending.state(slot) != PendingTable.IN_HANDLER)
        {
            // held (or held and completed at once): its holder answers it
            return status;
        }
        final int faultReason = packet.faultReason();
        if (faultReason != 0)
        {
            // A grant that could not be taken fails its packet, even when the handler caught the
            // fault or a delivery reported it as a return value: the frontend learns its grant was bad.
            if (faultReason != GrantTable.ACQUIRE_UNSTABLE)
            {
                errorByReason[TxValidator.BAD_GREF].incrementRelease();
            }
            status = NetifConstants.NETIF_RSP_ERROR;
        }
        return status;
    }

    /** Fills the packet from the validated chain; returns OKAY, or ERROR when the header's grant cannot be taken. */
    private short build(final BackendPacket packet)
    {
        final int count = chain.count;
        final int headLength = chain.size[0] - chain.payloadOfLaterRequests();
        final UnsafeBuffer header = packet.headerMemory();
        int headerLength = headLength;
        if ((chain.flags[0] & NetifConstants.NETTXF_SPLITNET_HEADER_BY_ID) != 0)
        {
            // header and first fragment in one request: the header from slot id, the data lazy
            headerLength = chain.offset[0];
            HeaderSlotCopy.copyOut(headerSlots, chain.id[0] * layout.headerSlotSize(), header, headerLength);
            packet.headerLength(headerLength);
            if (headLength > headerLength)
            {
                packet.addFragment(pending.takeFragment(), chain.gref[0], 0, headLength - headerLength);
            }
        }
        else if ((chain.flags[0] & NetifConstants.NETTXF_SPLITNET_HEADER_SLOT) != 0)
        {
            // The seed's header slot: copy the header out and the slot is free for the frontend
            // again (it learns so from this packet's response).
            HeaderSlotCopy.copyOut(headerSlots, chain.gref[0] * layout.headerSlotSize() + chain.offset[0], header, headLength);
            packet.headerLength(headLength);
        }
        else
        {
            headerLength = buildFromGrant(packet, headLength);
            if (headerLength < 0)
            {
                return NetifConstants.NETIF_RSP_ERROR;
            }
        }
        pendingHeaderBytes += headerLength;
        for (int i = 1; i < count; i++)
        {
            packet.addFragment(pending.takeFragment(), chain.gref[i], chain.offset[i], chain.size[i]);
        }
        pendingTxPackets++;
        pendingTxBytes += chain.size[0];
        return NetifConstants.NETIF_RSP_OKAY;
    }

    /**
     * Plain Xen: like netback's XEN_NETBACK_TX_COPY_LEN, copies the start of the first request
     * through a grant hold; anything past it stays a lazy fragment. Out of {@link #build}'s line,
     * which header-slot packets take, so that it stays small enough to inline.
     *
     * @return the header's length, or -1 when its grant cannot be taken.
     */
    private int buildFromGrant(final BackendPacket packet, final int headLength)
    {
        final UnsafeBuffer header = packet.headerMemory();
        final int headerLength = Math.min(headLength, headerCopyLength);
        packet.headerLength(headerLength);
        if (headerLength > 0)
        {
            // a permanent grant was kept by validation; a transient one is mapped for the copy
            final int frame = grants.take(chain.gref[0], false);
            if (frame < 0)
            {
                if (frame != GrantTable.ACQUIRE_UNSTABLE)
                {
                    errorByReason[TxValidator.BAD_GREF].incrementRelease();
                }
                return -1;
            }
            if ((chain.gref[0] & GrantConstants.GREF_PERMANENT) == 0)
            {
                grantMaps.incrementRelease();
            }
            header.putBytes(0, device.frames(), frame * DeviceLayout.PAGE_SIZE + chain.offset[0], headerLength);
            grants.drop(chain.gref[0], false);
        }
        if (headLength > headerLength)
        {
            packet.addFragment(pending.takeFragment(), chain.gref[0], chain.offset[0] + headerLength, headLength - headerLength);
        }
        return headerLength;
    }

    /** Delivers into this frontend's RX buffers now, or drops; see {@link dev.splitnet.api.Backend#deliver}. */
    PacketStatus deliver(final Packet source)
    {
        final PacketStatus status = deliverNow(source);
        if (status == PacketStatus.OKAY && rxQueue != null)
        {
            rxQueue.buffersSeen();
        }
        return status;
    }

    /**
     * Forwards into this frontend's RX buffers; see {@link dev.splitnet.api.Backend#forward}. A
     * packet off a TX ring that finds too few buffers posted (or others queued before it) waits in
     * this frontend's {@link RxQueue}, held in its sender's grants, and its sender hears the
     * delivery's outcome when it is delivered or dropped.
     */
    PacketStatus forward(final Packet source)
    {
        final int length = source.headerLength() + source.payloadLength();
        if (rxQueue != null && length <= NetifConstants.XEN_NETIF_MAX_TX_SIZE && source instanceof BackendPacket
            && (!rxQueue.isEmpty() || !hasBuffersFor(length)))
        {
            final PacketStatus queued;
            try
            {
                queued = rxQueue.offer((BackendPacket)source);
            }
            catch (final GrantFaultException ex)
            {
                // its grants could not be pinned: the source cannot be read (like RxDelivery's check)
                counters.get(DeviceCounter.RX_SOURCE_ERROR).incrementRelease();
                return PacketStatus.ERROR;
            }
            if (queued != null)
            {
                return queued;
            }
            // held by its consumer or queued elsewhere already: delivered now, or dropped (no buffer)
        }
        return deliver(source);
    }

    /** Copies into this frontend's RX buffers now (or drops for want of them). */
    PacketStatus deliverNow(final Packet source)
    {
        return afterDelivery(rx.deliver(source));
    }

    boolean hasBuffersFor(final int length)
    {
        final boolean posted = rx.hasBuffersFor(length);
        if (!posted && rx.violation() != null)
        {
            // a corrupt RX ring (or a lazy-rx violation) reads as no buffers; say so now, not at the stall timeout
            fatal(rx.violation());
        }
        return posted;
    }

    /** Given by the backend when it adopts this frontend (on its duty thread). */
    void rxQueue(final RxQueue rxQueue)
    {
        this.rxQueue = rxQueue;
    }

    RxQueue rxQueue()
    {
        return rxQueue;
    }

    PacketStatus deliver(final DirectBuffer buffer, final int offset, final int length)
    {
        return afterDelivery(rx.deliver(buffer, offset, length));
    }

    /** The frames lent to this frontend, or null when it receives by copy. */
    LentFrames lentFrames()
    {
        return lent;
    }

    /**
     * Takes {@code frames} consecutive backend frames for a claim: when none are free, the
     * buffers the frontend posted again are collected first (they give their lent frames back).
     *
     * @return the first pool frame, or -1.
     */
    int claimFrames(final int frames)
    {
        final int first = lent.tryClaim(frames);
        if (first >= 0)
        {
            return first;
        }
        rx.collectPosted();
        final int claimed = lent.claim(frames);
        if (rx.violation() != null)
        {
            // found collecting the buffers posted again, or taking frames back under pressure
            fatal(rx.violation());
            if (claimed >= 0)
            {
                lent.release(claimed, frames);
            }
            return -1;
        }
        return claimed;
    }

    /** Delivers a claim built in this frontend's backend frames ({@link LentFrames#claim}). */
    PacketStatus deliverClaim(final DirectBuffer claimed, final int firstPoolFrame, final int length)
    {
        final PacketStatus status = afterDelivery(rx.deliverClaim(claimed, firstPoolFrame, length));
        if (status == PacketStatus.OKAY && rxQueue != null)
        {
            rxQueue.buffersSeen();
        }
        return status;
    }

    /** Housekeeping: lent frames past their deadline are taken back. False when the frontend broke lazy receive. */
    boolean expireLent(final long nowNs)
    {
        if (lent == null || fatalReason != null || lent.lentCount() == 0)
        {
            return true;
        }
        // buffers posted again and not yet read off the ring give their frames back first: the
        // deadline is for a frontend that did not post in time, not for a backend that did not look
        rx.collectPosted();
        if (rx.violation() == null)
        {
            lent.expire(nowNs);
        }
        if (rx.violation() != null)
        {
            fatal(rx.violation());
            return false;
        }
        return true;
    }

    private PacketStatus afterDelivery(final PacketStatus status)
    {
        if (status == null || rx.violation() != null)
        {
            fatal(String.valueOf(rx.violation()));
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
            if (rxRing.violation() != null)
            {
                fatal(rxRing.violation());
            }
        }
    }

    /** Arms the TX ring's event before sleeping; true when requests are already waiting. */
    boolean finalCheckForRequests()
    {
        // a paused sender's waiting requests are no work: the backend polls it again within 1 ms
        // (queued packets are held, NetBack.awaitWork) and must not spin on them
        return fatalReason == null && !pending.isPausing() && txRing.finalCheckForRequests();
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
        if (lent != null)
        {
            lent.close();
        }
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
        if (lent != null)
        {
            // every lent frame comes back with the pool: the frontend is gone
            lent.close();
        }
    }
}

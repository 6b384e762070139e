package dev.splitnet.backend;

import dev.splitnet.api.NetifConstants;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.mmap.BackendRing;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.DeviceCounters;
import dev.splitnet.mmap.NetifLimits;
import java.nio.ByteBuffer;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * One frontend's packets between their TX requests and their TX responses, like netback's
 * {@code pending_tx_info}: for each packet the ids of its requests, its header copy and lazy
 * fragments (a {@link BackendPacket} from a pool), its grant holds, and, once it is held past its
 * handler, when it was held and where its late copy lives. A packet is answered when it is
 * released ({@code xenvif_idx_release}), in any order: TX responses carry their request's id.
 *
 * <p>The life of a packet (docs/PROTOCOL.md, "Local delivery without netloop"):
 * <pre>
 *   FREE --open--> IN_HANDLER --handler returns--> answered, FREE
 *                       |
 *                     hold()   grants pinned, payload unmapped until read
 *                       v
 *                     HELD --complete--> answered with the holder's status, FREE
 *                       |  \--copy memory full--> answered DROPPED, FREE (handle reads as dropped)
 *                       | deadline, pressure or disconnect: payload copied, answered OKAY
 *                       v
 *                    COPIED --complete--> copy freed, FREE
 *                          \--drop limit, or pool short--> copy freed, FREE (handle reads as dropped)
 * </pre>
 *
 * <p>Sizes: at most a ring's worth of requests is ever unanswered (the ring's overflow check), so
 * HELD and IN_HANDLER packets and their fragments fit in one ring's worth; the rest of the pool is
 * for COPIED packets, which no longer hold ring entries ({@link #copySlots}). A frontend is
 * therefore never stalled by its holders: when the pool runs short the oldest copy is dropped.
 *
 * <p>Threads: built by the conductor with its {@link Vif}, and used only on the backend's duty
 * thread after that. The hand-over is the conductor's connected queue (an Agrona
 * {@code OneToOneConcurrentArrayQueue}: its ordered store of the element pairs with the duty
 * thread's volatile load in poll), so every field here is plain. What the frontend sees goes
 * through the ring and the counters, whose orderings are said where they are written.
 */
final class PendingTable
{
    static final int FREE = 0;
    static final int IN_HANDLER = 1;
    static final int HELD = 2;
    static final int COPIED = 3;

    private static final int NONE = SlotLists.NONE;
    /** Copies one frontend may hold at once, whatever its share of the copy memory. */
    static final int MAX_COPY_SLOTS = 4096;
    private static final int MAX_REQUESTS = NetifLimits.MAX_TX_REQUESTS_PER_PACKET;
    // the intrusive lists packets are on, oldest first
    private static final int LIST_HELD = 0;
    private static final int LIST_COPIED = 1;
    // held by the backend itself, queued for another frontend's RX buffers (RxQueue): no copy
    // deadline (the queue's drain timeout bounds them), dropped first under pressure
    private static final int LIST_QUEUED = 2;
    private static final int LIST_COUNT = 3;
    private static final int[] HOLD_LISTS = { LIST_HELD, LIST_QUEUED };

    private final BackendRing txRing;
    private final CopyMemory copyMemory;
    private final HoldLimits limits;
    private final int pressureRequests;
    // the same share of the frontend's TX frames: held packets pinning more are copied too
    private final int pressureFrames;
    // copies this frontend may have at once (the pool's slots past a ring's worth)
    private final int copySlots;

    private final BackendPacket[] packets;
    private final byte[] state;
    private final int[] generation;
    // bit (g & 63) of slot s set: generation g of slot s was dropped by the backend, not completed
    // by its holder; a holder completing it then hears "dropped", not "misuse" (64 reuses of memory)
    private final long[] droppedGenerations;
    private final long[] heldSinceNs;
    private final int[] requestIds;
    // the ids of the one chain longer than MAX_REQUESTS being answered, and its slot (-1: none)
    private final int[] longChainIds;
    private int longChainSlot = -1;
    private final int[] requestCount;
    private final int[] copyUnit;
    private final int[] copyBytes;
    private final SlotLists lists;
    // per slot: which list a HELD packet is on (LIST_HELD for a consumer's hold, LIST_QUEUED for an RX queue's)
    private final byte[] heldList;
    // per slot: the frames a HELD packet pins (its fragments' pages), and their sum
    private final int[] heldFrameCount;
    private int heldFrames;
    private final int[] freeSlots;
    private int freeSlotCount;
    private final LazyFragment[] freeFragments;
    private int freeFragmentCount;

    private final AtomicCounter heldPackets;
    private final AtomicCounter completedNoCopy;
    private final AtomicCounter copiedDeadline;
    private final AtomicCounter copiedPressure;
    private final AtomicCounter copiedDisconnect;
    private final AtomicCounter droppedBound;
    private final AtomicCounter droppedLimit;
    private final AtomicCounter heldNowGauge;
    private final AtomicCounter copyBytesGauge;
    private final AtomicCounter queuedDroppedPressure;
    private final AtomicCounter senderPauses;

    private int tableId = -1;
    // the slot opened and not yet finished (answered after a late memory fault), or NONE
    private int inHandler = NONE;
    // the in-handler packet's ring consumer index before its requests were consumed
    private int inHandlerConsumer;
    // requests consumed off the ring and not yet answered
    private int unansweredRequests;
    // of those, the requests of packets waiting in other frontends' RX queues (LIST_QUEUED)
    private int queuedRequests;
    // the sender pause (senderPaused): since when the backend has stopped reading this ring, and
    // whether the pause ran out before the queues drained (then packets are dropped, not queued)
    private boolean pausing;
    private long pauseSinceNs;
    private boolean pauseSpent;
    private int heldNow;
    private int copiedNow;
    // fragments COPIED packets keep (at most copySlots: the pool has that many for them)
    private int copiedFragments;
    private long copyBytesNow;
    // the frontend is gone: nothing more is written to its ring (ringGone) or its counters (detached)
    private boolean ringGone;
    private boolean detached;
    // TX responses written and not yet published (Vif pushes them)
    private boolean responsesUnpushed;

    PendingTable(final BackendRing txRing, final ActiveGrants grants, final long framesAddress, final ByteBuffer framesChannelView,
        final int headerCapacity, final int txFrames, final CopyMemory copyMemory, final HoldLimits limits,
        final DeviceCounters counters, final int domainId)
    {
        this.txRing = txRing;
        this.copyMemory = copyMemory;
        this.limits = limits;
        final int ringSize = txRing.size();
        this.pressureRequests = Math.max(1, (int)(ringSize * limits.pressureShare()));
        this.pressureFrames = Math.max(1, (int)(txFrames * limits.pressureShare()));
        // a ring's worth for packets not yet answered, and room for as many copies as the
        // frontend's share of the copy memory holds in small packets (at most 4,096)
        this.copySlots = copySlots(ringSize, limits.copyBytesPerFrontend());
        final int slots = ringSize + copySlots;
        final AtomicCounter egress = counters.get(DeviceCounter.EGRESS_PACKETS);
        // one gather array per table: a transfer is synchronous, so packets can share it
        final ByteBuffer[] gather = new ByteBuffer[MAX_REQUESTS + 1];
        final ByteBuffer headers = ByteBuffer.allocateDirect(slots * headerCapacity);
        this.packets = new BackendPacket[slots];
        for (int i = 0; i < slots; i++)
        {
            packets[i] = new BackendPacket(this, i, domainId, headers.slice(i * headerCapacity, headerCapacity), gather, egress);
        }
        this.state = new byte[slots];
        this.heldList = new byte[slots];
        this.heldFrameCount = new int[slots];
        this.generation = new int[slots];
        this.droppedGenerations = new long[slots];
        this.heldSinceNs = new long[slots];
        this.requestIds = new int[slots * MAX_REQUESTS];
        this.longChainIds = new int[ringSize];
        this.requestCount = new int[slots];
        this.copyUnit = new int[slots];
        this.copyBytes = new int[slots];
        this.lists = new SlotLists(LIST_COUNT, slots);
        this.freeSlots = new int[slots];
        for (int i = 0; i < slots; i++)
        {
            freeSlots[i] = slots - 1 - i;
        }
        this.freeSlotCount = slots;
        // a ring's worth for unanswered packets (a fragment per request), one chain's worth of slack
        // (makeRoom asks for it before the chain is read), and copySlots for copies, which keep theirs
        final int fragments = ringSize + MAX_REQUESTS + copySlots;
        this.freeFragments = new LazyFragment[fragments];
        for (int i = 0; i < fragments; i++)
        {
            freeFragments[i] = new LazyFragment(grants, framesAddress, framesChannelView, copyMemory.channelView(), counters);
        }
        this.freeFragmentCount = fragments;
        this.heldPackets = counters.get(DeviceCounter.HELD_PACKETS);
        this.completedNoCopy = counters.get(DeviceCounter.HELD_COMPLETED_NO_COPY);
        this.copiedDeadline = counters.get(DeviceCounter.HELD_COPIED_DEADLINE);
        this.copiedPressure = counters.get(DeviceCounter.HELD_COPIED_PRESSURE);
        this.copiedDisconnect = counters.get(DeviceCounter.HELD_COPIED_DISCONNECT);
        this.droppedBound = counters.get(DeviceCounter.HELD_DROPPED_BOUND);
        this.droppedLimit = counters.get(DeviceCounter.HELD_DROPPED_LIMIT);
        this.heldNowGauge = counters.get(DeviceCounter.HELD_NOW);
        this.copyBytesGauge = counters.get(DeviceCounter.COPY_MEMORY_BYTES);
        this.queuedDroppedPressure = counters.get(DeviceCounter.TX_QUEUED_DROPPED_PRESSURE);
        this.senderPauses = counters.get(DeviceCounter.TX_SENDER_PAUSES);
    }

    /** Pool slots for copied packets: one per copy-memory unit of the frontend's share, at least a ring's worth. */
    static int copySlots(final int ringSize, final long copyBytesPerFrontend)
    {
        return (int)Math.min(MAX_COPY_SLOTS, Math.max(ringSize, copyBytesPerFrontend / CopyMemory.UNIT));
    }

    /** The id {@link HeldPackets} gave this table (part of every handle), once the backend adopted it. */
    void registered(final int tableId)
    {
        this.tableId = tableId;
    }

    int tableId()
    {
        return tableId;
    }

    int slots()
    {
        return packets.length;
    }

    /** Packets held or copied now: when 0 after {@link #detach}, the table can be forgotten. */
    int heldCount()
    {
        return heldNow + copiedNow;
    }

    boolean isDetached()
    {
        return detached;
    }

    /**
     * Whether a packet of up to {@link NetifLimits#MAX_TX_REQUESTS_PER_PACKET} requests can be
     * opened; when not, the oldest copies are dropped until it can (they hold no ring entries, so
     * the frontend is never kept waiting for a slow holder).
     */
    boolean makeRoom()
    {
        while (freeSlotCount == 0 || freeFragmentCount < MAX_REQUESTS)
        {
            final int oldest = lists.oldest(LIST_COPIED);
            if (oldest == NONE)
            {
                return false;
            }
            drop(oldest, droppedBound);
        }
        return true;
    }

    /**
     * Opens a packet for a validated-or-not chain: records its request ids. {@link #makeRoom}
     * first. {@code ringConsumer} is the ring's consumer index before the chain is consumed (right
     * after this): {@link #answerInterrupted} consumes a chain the ring still holds.
     */
    int open(final TxChain chain, final int ringConsumer)
    {
        // no packet is in its handler until this one is recorded (a stale one from a fault after
        // its hold or free must not be taken for this one)
        inHandler = NONE;
        final int slot = freeSlots[--freeSlotCount];
        // generations are 31 bits and never 0, so no handle is 0 or negative
        final int g = generation[slot] + 1;
        generation[slot] = (g & 0x7FFF_FFFF) == 0 ? 1 : g & 0x7FFF_FFFF;
        droppedGenerations[slot] &= ~(1L << generation[slot]);
        state[slot] = IN_HANDLER;
        final int count = chain.count;
        if (count > MAX_REQUESTS)
        {
            // a chain too long for any packet (a ring's worth at most): validation fails it and it
            // is answered at once, so one spare row holds its ids; in the slot's row they would
            // run into the next slots' ids (and past the table at the last slot)
            System.arraycopy(chain.id, 0, longChainIds, 0, count);
            longChainSlot = slot;
        }
        else
        {
            System.arraycopy(chain.id, 0, requestIds, slot * MAX_REQUESTS, count);
        }
        requestCount[slot] = count;
        unansweredRequests += count;
        packets[slot].clear();
        inHandlerConsumer = ringConsumer;
        // the last store: only a packet whose ids and consumer index are recorded is "in handler"
        inHandler = slot;
        return slot;
    }

    BackendPacket packet(final int slot)
    {
        return packets[slot];
    }

    int state(final int slot)
    {
        return state[slot];
    }

    /** A fragment from the pool for a packet being built ({@link #makeRoom} left enough). */
    LazyFragment takeFragment()
    {
        return freeFragments[--freeFragmentCount];
    }

    /**
     * The handler returned (or failed): a packet it did not hold is answered now with
     * {@code status} and its slot freed; a held one stays.
     */
    void finishHandler(final int slot, final short status)
    {
        if (state[slot] != IN_HANDLER)
        {
            // held in its handler: its holder answers it
            inHandler = NONE;
            return;
        }
        answer(slot, status);
        // After the answer, before the free: a fault delivered inside answer finds the packet
        // still in its handler and answerInterrupted finishes it (answer zeroes its count first,
        // so no response is written twice); one inside free must not run free again (its
        // fragments would go back to the pool twice), and at worst leaks the slot.
        inHandler = NONE;
        free(slot);
    }

    /**
     * {@link dev.splitnet.api.Packet#hold()}: pins every fragment's grant (nothing is mapped) and
     * puts the packet on the held list.
     */
    long hold(final int slot)
    {
        if (state[slot] == HELD && heldList[slot] == LIST_HELD)
        {
            return HeldPackets.handle(tableId, slot, generation[slot]);
        }
        if (state[slot] == HELD)
        {
            throw new IllegalStateException("hold: packet slot=" + slot + " was queued for delivery to a frontend without free "
                + "receive buffers (Backend.deliver returned OKAY for it); the backend completes it, so it cannot also be held");
        }
        if (state[slot] != IN_HANDLER)
        {
            throw new IllegalStateException("hold: packet slot=" + slot + " is not in its handler (state=" + stateName(state[slot])
                + "); hold a packet during onPacket, and read a held one through Backend.held(handle)");
        }
        pinAndHold(slot, LIST_HELD);
        count(heldPackets);
        publishGauges();
        return HeldPackets.handle(tableId, slot, generation[slot]);
    }

    /**
     * Holds a packet in its handler for an RX queue ({@link RxQueue}): like {@link #hold}, but the
     * backend completes it, it is never copied at the deadline, and it is the first dropped when
     * its frontend runs short.
     *
     * @return the handle; 0 when the packet is not in its handler (held by its consumer already);
     *         -1 when more than its share of the frontend's ring waits in RX queues already, and
     *         the sender pause ran out ({@link #senderPaused}): waiting would leave it short, so the
     *         packet is dropped (counted {@code tx_queued_dropped_pressure}).
     */
    long holdForQueue(final int slot)
    {
        if (state[slot] != IN_HANDLER)
        {
            return 0;
        }
        if (queuedRequests > pressureRequests)
        {
            count(queuedDroppedPressure);
            return -1;
        }
        pinAndHold(slot, LIST_QUEUED);
        publishGauges();
        return HeldPackets.handle(tableId, slot, generation[slot]);
    }

    private void pinAndHold(final int slot, final int list)
    {
        // a grant that cannot be taken throws GrantFaultException, and the packet is answered ERROR
        packets[slot].pinAll();
        state[slot] = HELD;
        heldList[slot] = (byte)list;
        // the clock is read here, not per packet: only held packets need a time
        heldSinceNs[slot] = System.nanoTime();
        lists.append(list, slot);
        if (list == LIST_QUEUED)
        {
            queuedRequests += requestCount[slot];
        }
        heldNow++;
        heldFrameCount[slot] = packets[slot].framesSpanned();
        heldFrames += heldFrameCount[slot];
    }

    /** Takes a HELD packet off its list (it is copied, completed or dropped next). */
    private void leaveHeld(final int slot)
    {
        lists.unlink(heldList[slot], slot);
        if (heldList[slot] == LIST_QUEUED)
        {
            queuedRequests -= requestCount[slot];
        }
        heldNow--;
        heldFrames -= heldFrameCount[slot];
        heldFrameCount[slot] = 0;
    }

    /** The packet a handle names, null when the backend dropped it; throws for any other handle. */
    BackendPacket held(final int slot, final int handleGeneration, final long handle)
    {
        if (generation[slot] == handleGeneration && (state[slot] == HELD || state[slot] == COPIED))
        {
            return packets[slot];
        }
        if (wasDropped(slot, handleGeneration))
        {
            return null;
        }
        throw stale("held", slot, handleGeneration, handle);
    }

    /** The holder's completion; see {@link dev.splitnet.api.Backend#complete}. */
    boolean complete(final int slot, final int handleGeneration, final long handle, final PacketStatus status)
    {
        if (generation[slot] == handleGeneration)
        {
            if (state[slot] == HELD)
            {
                leaveHeld(slot);
                if (heldList[slot] == LIST_HELD)
                {
                    count(completedNoCopy);
                }
                answer(slot, status.netifCode());
                free(slot);
                publishGauges();
                return true;
            }
            if (state[slot] == COPIED)
            {
                // answered OKAY when it was copied; the holder's status has no one to go to
                lists.unlink(LIST_COPIED, slot);
                copiedNow--;
                free(slot);
                publishGauges();
                return true;
            }
        }
        if (wasDropped(slot, handleGeneration))
        {
            return false;
        }
        throw stale("complete", slot, handleGeneration, handle);
    }

    /**
     * Whether the backend should leave this frontend's next TX requests in its ring for now: more
     * than {@code pressureShare} of the ring waits in other frontends' RX queues (their receivers
     * are slower than this sender). The sender's ring then fills and its {@code send} reports
     * BACK_PRESSURED, so it slows to its receivers' pace instead of having its packets dropped, the
     * way pending slots pinned by queued packets stop a Xen guest's TX under netback. Bounded: a
     * pause that lasts {@code senderPauseNs} without the queues draining below the share ends, and
     * until they are empty, packets that would queue are dropped (a stalled receiver cannot stop a
     * sender's other traffic for longer). Reads the clock only while paused.
     */
    boolean senderPaused()
    {
        if (queuedRequests <= pressureRequests)
        {
            pausing = false;
            // a pause that ran out is spent until the queues are empty, not merely below the
            // share: else a receiver posting a buffer now and then could keep its sender paused
            // nearly all the time (pause, drain one, pause again); this way at most one pause per
            // emptying, which a stalled receiver's drain timeout bounds (10 s)
            pauseSpent &= queuedRequests > 0;
            return false;
        }
        if (pauseSpent || limits.senderPauseNs() == 0)
        {
            return false;
        }
        final long now = System.nanoTime();
        if (!pausing)
        {
            pausing = true;
            pauseSinceNs = now;
            count(senderPauses);
            return true;
        }
        if (now - pauseSinceNs >= limits.senderPauseNs())
        {
            pausing = false;
            pauseSpent = true;
            return false;
        }
        return true;
    }

    /** Whether the last {@link #senderPaused} left this frontend's ring unread: its waiting requests are no work. */
    boolean isPausing()
    {
        return pausing;
    }

    /**
     * The duty cycle's check of held packets: copies those held past the copy deadline (and, while
     * the frontend has more than its share of the ring unanswered, the oldest), drops copies held
     * past the drop limit.
     *
     * @return packets copied or dropped.
     */
    int expire(final long now)
    {
        int work = 0;
        int oldest;
        while ((oldest = lists.oldest(LIST_HELD)) != NONE && now - heldSinceNs[oldest] >= limits.copyDeadlineNs())
        {
            copyLate(oldest, copiedDeadline);
            work++;
        }
        while ((oldest = lists.oldest(LIST_COPIED)) != NONE && now - heldSinceNs[oldest] >= limits.dropLimitNs())
        {
            drop(oldest, droppedLimit);
            work++;
        }
        return work + relievePressure();
    }

    /**
     * While more than the configured share of the frontend's ring is unanswered because of held
     * packets, copies the oldest: its ring entries are answered and the frontend can send again.
     */
    int relievePressure()
    {
        int work = 0;
        int oldest;
        while ((unansweredRequests > pressureRequests || heldFrames > pressureFrames) && (oldest = lists.oldest(LIST_HELD)) != NONE)
        {
            copyLate(oldest, copiedPressure);
            work++;
        }
        // packets waiting in another frontend's RX queue are neither copied (their sender hears
        // OKAY only once they are delivered, PROTOCOL 6.4) nor dropped here: holdForQueue let them
        // wait only while the frontend was within its share
        return work;
    }

    /**
     * The frontend is going (disconnected, dead or the backend shutting down): every held payload
     * is copied, or dropped past the bound, before its mapping goes; nothing more is written to its
     * ring or its counters. With {@code copy} false (its memory cannot be trusted), held packets
     * are dropped.
     */
    void detach(final boolean copy)
    {
        // Nothing more is answered: a frontend still there when the backend disconnects it (a
        // violation, the backend closing) reports these DISCONNECTED, never an OKAY for a packet
        // whose fate is not known yet. The counters are still written, until detached below.
        ringGone = true;
        for (final int list : HOLD_LISTS)
        {
            int oldest;
            while ((oldest = lists.oldest(list)) != NONE)
            {
                if (copy)
                {
                    copyLate(oldest, copiedDisconnect);
                }
                else
                {
                    drop(oldest, droppedBound);
                }
            }
        }
        detached = true;
        responsesUnpushed = false;
    }

    /** Drops everything (the backend is closing): no handle reads a packet afterwards. */
    void dropAll()
    {
        detach(false);
        int oldest;
        while ((oldest = lists.oldest(LIST_COPIED)) != NONE)
        {
            drop(oldest, droppedLimit);
        }
    }

    /** Whether TX responses were written since the last call (clears the flag). */
    boolean takeUnpushed()
    {
        final boolean unpushed = responsesUnpushed;
        responsesUnpushed = false;
        return unpushed;
    }

    /**
     * After a fault interrupted the TX path: the packet opened and not yet finished ends with an
     * error, so it still gets exactly one status.
     *
     * @return whether there was one.
     */
    boolean answerInterrupted()
    {
        final int slot = inHandler;
        if (slot != NONE && state[slot] == IN_HANDLER)
        {
            // each step can be repeated by a recovery a second fault interrupts: the consume is
            // checked against the consumer index, answer zeroes its count first, and inHandler is
            // let go of only before free (which must not run twice)
            if (txRing.requestConsumer() == inHandlerConsumer)
            {
                // opened, and the fault came before the ring's requests were consumed (so before
                // the answer, which zeroes the count: the count is still the chain's)
                txRing.consumeRequests(requestCount[slot]);
            }
            answer(slot, (short)NetifConstants.NETIF_RSP_ERROR);
            inHandler = NONE;
            free(slot);
            return true;
        }
        // held or freed since (a fault after hold() or after free): nothing of it is in a handler
        inHandler = NONE;
        return false;
    }

    private void copyLate(final int slot, final AtomicCounter reason)
    {
        final BackendPacket packet = packets[slot];
        final int bytes = packet.payloadLength();
        // past the frontend's share of copy memory, or of copy slots, the new packet is dropped: the
        // copies kept are the oldest, as a full queue in netback drops what arrives
        final int unit = copiedNow >= copySlots || copiedFragments + packet.fragmentCount() > copySlots ? -1
            : bytes == 0 ? 0 : copyBytesNow + bytes > limits.copyBytesPerFrontend() ? -1 : copyMemory.allocate(bytes);
        if (unit < 0)
        {
            drop(slot, droppedBound);
            return;
        }
        // every fragment, even an empty one: copyTo gives back its pinned grant, which must not
        // outlive the mapping (a detached table is freed after its frontend's memory is unmapped)
        packet.copyTo(copyMemory, unit);
        copyUnit[slot] = unit;
        copyBytes[slot] = bytes;
        copyBytesNow += bytes;
        copiedFragments += packet.fragmentCount();
        leaveHeld(slot);
        lists.append(LIST_COPIED, slot);
        copiedNow++;
        state[slot] = COPIED;
        // the frontend's frames are free again: its packet went on, as far as it can tell
        answer(slot, (short)NetifConstants.NETIF_RSP_OKAY);
        count(reason);
        publishGauges();
    }

    private void drop(final int slot, final AtomicCounter reason)
    {
        if (state[slot] == HELD)
        {
            leaveHeld(slot);
            answer(slot, (short)NetifConstants.NETIF_RSP_DROPPED);
        }
        else
        {
            lists.unlink(LIST_COPIED, slot);
            copiedNow--;
        }
        droppedGenerations[slot] |= 1L << generation[slot];
        free(slot);
        count(reason);
        publishGauges();
    }

    /** Writes one TX response per request of the packet, unless it was answered already (copied). */
    private void answer(final int slot, final short status)
    {
        final int count = requestCount[slot];
        if (count == 0)
        {
            return;
        }
        requestCount[slot] = 0;
        unansweredRequests -= count;
        final boolean longChain = slot == longChainSlot;
        if (longChain)
        {
            longChainSlot = -1;
        }
        if (ringGone)
        {
            return;
        }
        final int[] ids = longChain ? longChainIds : requestIds;
        final int base = longChain ? 0 : slot * MAX_REQUESTS;
        // Not visible before BackendRing.pushResponses (Vif.pushTx, after every frontend's RX
        // push): Xen's ring releases them with rsp_prod, ring v2 with the batch's first word.
        for (int i = 0; i < count; i++)
        {
            txRing.putTxResponse(ids[base + i], status);
        }
        responsesUnpushed = true;
    }

    /** Releases the packet's grant holds, returns its fragments and copy memory, frees the slot. */
    private void free(final int slot)
    {
        final BackendPacket packet = packets[slot];
        if (state[slot] == COPIED)
        {
            copiedFragments -= packet.fragmentCount();
        }
        packet.releaseAll();
        for (int i = packet.fragmentCount() - 1; i >= 0; i--)
        {
            freeFragments[freeFragmentCount++] = packet.fragmentAt(i);
        }
        packet.clear();
        if (copyBytes[slot] > 0)
        {
            copyMemory.free(copyUnit[slot], copyBytes[slot]);
            copyBytesNow -= copyBytes[slot];
            copyBytes[slot] = 0;
        }
        state[slot] = FREE;
        freeSlots[freeSlotCount++] = slot;
    }

    /**
     * Whether a handle of an earlier use of the slot names a packet the backend dropped. Within the
     * slot's last 64 uses this is exact (a bit per use); a handle older than that reads as dropped
     * too: a holder that kept it that long most likely lost its packet at a bound, and calling it
     * misuse would throw on the duty thread for the backend's own decision. Generations count up
     * by one per use (31 bits, wrapping past 0).
     */
    private boolean wasDropped(final int slot, final int handleGeneration)
    {
        final int age = (generation[slot] - handleGeneration) & 0x7FFF_FFFF;
        return age >= 64 ? age < 0x4000_0000 : (droppedGenerations[slot] & (1L << handleGeneration)) != 0;
    }

    private IllegalStateException stale(final String call, final int slot, final int handleGeneration, final long handle)
    {
        return new IllegalStateException(call + ": handle=0x" + Long.toHexString(handle) + " is stale: slot=" + slot
            + " generation=" + handleGeneration + " but the slot is at generation=" + generation[slot] + " (" + stateName(state[slot])
            + "); the packet was completed already, or the handle was never returned by Packet.hold()");
    }

    private static String stateName(final int state)
    {
        switch (state)
        {
            case FREE: return "free";
            case IN_HANDLER: return "in its handler";
            case HELD: return "held";
            default: return "copied";
        }
    }

    private void count(final AtomicCounter counter)
    {
        if (!detached)
        {
            counter.incrementRelease();
        }
    }

    private void publishGauges()
    {
        if (!detached)
        {
            heldNowGauge.setRelease(heldNow + copiedNow);
            copyBytesGauge.setRelease(copyBytesNow);
        }
    }
}

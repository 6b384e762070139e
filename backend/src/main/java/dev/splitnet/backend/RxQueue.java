package dev.splitnet.backend;

import dev.splitnet.api.PacketStatus;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.DeviceCounters;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * Deliveries waiting for one frontend's RX buffers, like netback's per-queue {@code rx_queue}:
 * a packet switched to a frontend that has too few buffers posted is held in its sender's grants
 * (no copy: {@link PendingTable#holdForQueue}) and delivered, in order, as soon as buffers come;
 * its sender hears OKAY then. Bounded in bytes and packets; a queue whose head waits longer than
 * the drain timeout is dropped whole (netback's {@code rx_drain_timeout_msecs}, 10 s), and a
 * frontend that posts no buffer for the stall timeout ({@code rx_stall_timeout_msecs}, 60 s) gets
 * further deliveries dropped at once until it posts again. Duty-cycle thread only; a ring of
 * handles, nothing allocated per packet.
 */
final class RxQueue
{
    /** Packets queued at most for one frontend, whatever their size. */
    static final int CAPACITY = 1024;

    private final HeldPackets heldPackets;
    private final long capBytes;
    private final long drainTimeoutNs;
    private final long stallTimeoutNs;
    private final long[] handles = new long[CAPACITY];
    private final int[] bytes = new int[CAPACITY];
    private final long[] queuedAt = new long[CAPACITY];
    private long head;
    private long tail;
    private long queuedBytes;
    // when the frontend last had a buffer for a delivery (or connected); sawBuffers: it had one
    // since, the clock not read yet (deliveries do not read it)
    private long lastBufferNs = System.nanoTime();
    private boolean sawBuffers;
    private boolean stalled;

    private final AtomicCounter queued;
    private final AtomicCounter droppedFull;
    private final AtomicCounter droppedDrainTimeout;
    private final AtomicCounter droppedStalled;
    private final AtomicCounter droppedDisconnect;

    RxQueue(final HeldPackets heldPackets, final RxQueueLimits limits, final DeviceCounters counters)
    {
        this.heldPackets = heldPackets;
        this.capBytes = limits.capBytes();
        this.drainTimeoutNs = limits.drainTimeoutNs();
        this.stallTimeoutNs = limits.stallTimeoutNs();
        this.queued = counters.get(DeviceCounter.RX_QUEUED);
        this.droppedFull = counters.get(DeviceCounter.RX_DROPPED_QUEUE_FULL);
        this.droppedDrainTimeout = counters.get(DeviceCounter.RX_DROPPED_DRAIN_TIMEOUT);
        this.droppedStalled = counters.get(DeviceCounter.RX_DROPPED_STALLED);
        this.droppedDisconnect = counters.get(DeviceCounter.RX_DROPPED_DISCONNECT);
    }

    boolean isEmpty()
    {
        return head == tail;
    }

    /** The frontend had buffers for a delivery: it is not stalled. */
    void buffersSeen()
    {
        sawBuffers = true;
        stalled = false;
    }

    /**
     * Queues a delivery the frontend has no buffers for.
     *
     * @return OKAY when queued (its sender hears the final status later), or DROPPED (counted)
     *         when the queue is full, the frontend is stalled, or the packet cannot be queued
     *         (its consumer holds it, or it is not a packet off a TX ring: then not counted here,
     *         the caller counts it as no buffer).
     */
    PacketStatus offer(final BackendPacket packet)
    {
        if (stalled)
        {
            droppedStalled.incrementRelease();
            return PacketStatus.DROPPED;
        }
        final int length = packet.headerLength() + packet.payloadLength();
        if (tail - head == CAPACITY || queuedBytes + length > capBytes)
        {
            droppedFull.incrementRelease();
            return PacketStatus.DROPPED;
        }
        final long handle = packet.holdForQueue();
        if (handle == 0)
        {
            return null;
        }
        if (handle < 0)
        {
            // its sender is short of ring: it must not wait (counted on the sender)
            return PacketStatus.DROPPED;
        }
        final int at = (int)(tail & (CAPACITY - 1));
        handles[at] = handle;
        bytes[at] = length;
        queuedAt[at] = System.nanoTime();
        if (sawBuffers)
        {
            sawBuffers = false;
            lastBufferNs = queuedAt[at];
        }
        tail++;
        queuedBytes += length;
        queued.incrementRelease();
        return PacketStatus.OKAY;
    }

    /**
     * Delivers queued packets, oldest first, while the frontend has buffers for them; drops the
     * queue when its head waited past the drain timeout, and marks the frontend stalled when it
     * posted nothing for the stall timeout.
     *
     * @return packets delivered or dropped.
     */
    int drain(final Vif destination, final long nowNs)
    {
        int work = 0;
        if (sawBuffers)
        {
            sawBuffers = false;
            lastBufferNs = nowNs;
        }
        while (head != tail)
        {
            final int at = (int)(head & (CAPACITY - 1));
            final long handle = handles[at];
            final BackendPacket packet = heldPackets.held(handle);
            if (packet == null)
            {
                // the backend dropped it at its sender (the sender's memory could not be copied from)
                pop(at);
                heldPackets.complete(handle, PacketStatus.DROPPED);
                work++;
                continue;
            }
            if (!destination.hasBuffersFor(bytes[at]))
            {
                break;
            }
            buffersSeen();
            final PacketStatus status = destination.deliverNow(packet);
            pop(at);
            heldPackets.complete(handle, status);
            work++;
        }
        if (sawBuffers)
        {
            sawBuffers = false;
            lastBufferNs = nowNs;
        }
        if (head != tail)
        {
            if (nowNs - queuedAt[(int)(head & (CAPACITY - 1))] > drainTimeoutNs)
            {
                work += dropAll(droppedDrainTimeout);
            }
            if (nowNs - lastBufferNs > stallTimeoutNs)
            {
                stalled = true;
            }
        }
        return work;
    }

    /** The frontend is going: every queued delivery is dropped and its sender told. */
    void dropAllAtDisconnect()
    {
        dropAll(droppedDisconnect);
    }

    private int dropAll(final AtomicCounter reason)
    {
        int n = 0;
        while (head != tail)
        {
            final int at = (int)(head & (CAPACITY - 1));
            final long handle = handles[at];
            pop(at);
            heldPackets.complete(handle, PacketStatus.DROPPED);
            reason.incrementRelease();
            n++;
        }
        return n;
    }

    private void pop(final int at)
    {
        queuedBytes -= bytes[at];
        head++;
    }
}

package dev.splitnet.cli;

import dev.splitnet.api.Backend;
import dev.splitnet.api.Packet;
import dev.splitnet.api.PacketStatus;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A consumer inside the backend that holds every packet it is given for a while, then reads and
 * checks every byte and completes it: the seed's local delivery without netloop. Packets stay in
 * the frontend's grants while held (copied late by the backend only if they outlive its copy
 * deadline or their frontend runs short or goes). Runs on the backend's duty-cycle thread; a ring
 * of handles and hold times, so nothing is allocated per packet.
 */
final class LocalConsumer
{
    /** Packets held at once at most (5 s of 200,000 packets a second); past it the oldest is completed early. */
    static final int CAPACITY = 1 << 20;

    private final long holdNs;
    private final long[] handles = new long[CAPACITY];
    private final long[] heldAt = new long[CAPACITY];
    private final StreamChecksum checksum = new StreamChecksum();
    private long head;
    private long tail;

    /**
     * Counts readable from the progress thread: written only on the duty thread, with lazySet (a
     * release store, no read-modify-write needed with one writer), which pairs with the progress
     * thread's volatile get.
     */
    final AtomicLong held = new AtomicLong();
    final AtomicLong checked = new AtomicLong();
    final AtomicLong failures = new AtomicLong();
    /** Held packets the backend dropped before they were read (its copy memory was full, or past its drop limit). */
    final AtomicLong droppedByBackend = new AtomicLong();

    LocalConsumer(final long holdMillis)
    {
        this.holdNs = TimeUnit.MILLISECONDS.toNanos(holdMillis);
    }

    /** Holds the packet; its status comes later, from {@link #onDutyCycle}. */
    PacketStatus accept(final Backend backend, final Packet packet)
    {
        if (tail - head == CAPACITY)
        {
            completeOldest(backend);
        }
        final int at = (int)(tail & (CAPACITY - 1));
        handles[at] = packet.hold();
        heldAt[at] = System.nanoTime();
        tail++;
        held.lazySet(held.get() + 1);
        return PacketStatus.OKAY;
    }

    /** Completes the packets held for their time: each read whole and checked first. */
    int onDutyCycle(final Backend backend)
    {
        if (head == tail)
        {
            return 0;
        }
        final long now = System.nanoTime();
        int work = 0;
        while (head != tail && now - heldAt[(int)(head & (CAPACITY - 1))] >= holdNs)
        {
            completeOldest(backend);
            work++;
        }
        return work;
    }

    private void completeOldest(final Backend backend)
    {
        final long handle = handles[(int)(head & (CAPACITY - 1))];
        head++;
        final Packet packet = backend.held(handle);
        if (packet == null)
        {
            droppedByBackend.lazySet(droppedByBackend.get() + 1);
            backend.complete(handle, PacketStatus.DROPPED);
            return;
        }
        final boolean intact = DemoFrame.isIntact(packet, checksum);
        if (intact)
        {
            checked.lazySet(checked.get() + 1);
        }
        else
        {
            failures.lazySet(failures.get() + 1);
        }
        backend.complete(handle, intact ? PacketStatus.OKAY : PacketStatus.ERROR);
    }
}

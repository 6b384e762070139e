package dev.splitnet.backend;

import dev.splitnet.mmap.DeviceLayout;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Copies a header out of its header slot (the backend's private copy, which validation and the
 * handler read), then takes the slot's cache lines: one byte of every line the header touched is
 * stored back, the byte the copy read, so no value changes.
 *
 * <p>Why store anything: after a plain read the line stays shared, a copy in each core's cache,
 * and the frontend's next write to the slot (a ring's worth of packets later, when the id comes
 * round) must first take the backend's copy away. Stores leave the store buffer in order, so that
 * one miss holds up every store behind it, the ring push included: measured on 64-byte packets,
 * one such stall per packet, 5.5-5.9 M packets/s whenever the two cores are far apart (a
 * cross-die round trip of 0.25-0.39 us), where Aeron's log, whose lines no other core holds, runs
 * 25-37 M/s. With the line owned by the backend, the frontend's write is an ordinary miss on a line
 * it does not hold, which the core fetches ahead of the store (13-22 M/s in the same placements;
 * docs/benchmarks, "header slot ownership"). The byte stored is the one read: a frontend that
 * rewrote its slot while the packet was in flight (the slot is the backend's until the response)
 * gets back what was sent, and the backend's copy is what it validated, as before.
 */
final class HeaderSlotCopy
{
    private static final int LINE_MASK = DeviceLayout.CACHE_LINE_SIZE - 1;
    /**
     * {@code -Dsplitnet.backend.header.slot.storeBack=false} copies without the store-back: the
     * before of the measurement in docs/benchmarks (header slot ownership), kept so it can be
     * repeated. A constant to the JIT: no cost either way.
     */
    static final boolean STORE_BACK = !"false".equals(System.getProperty("splitnet.backend.header.slot.storeBack"));

    private HeaderSlotCopy()
    {
    }

    /**
     * Copies {@code length} bytes at {@code from} in {@code slots} to the start of {@code header},
     * then stores back one byte per cache line of that range. {@code slots} starts on a page (its
     * offsets' low bits are the lines').
     */
    static void copyOut(final UnsafeBuffer slots, final int from, final UnsafeBuffer header, final int length)
    {
        header.putBytes(0, slots, from, length);
        if (!STORE_BACK)
        {
            return;
        }
        final int end = from + length;
        // Plain stores: nothing polls them. The frontend writes the slot again only after this
        // packet's response, whose release store (BackendRing.pushResponses) comes after them on
        // this thread and pairs with the frontend's acquire of the response.
        // the first byte of each line the range touches: from, then each line start up to end
        for (int at = from; at < end; at = (at | LINE_MASK) + 1)
        {
            slots.putByte(at, header.getByte(at - from));
        }
    }
}

package dev.splitnet.api;

import org.agrona.DirectBuffer;

/**
 * A frontend's view of one received packet: the packet lies in one or more of its own receive
 * buffers, in order. Valid only during {@link RxHandler#onPacket}; the buffers are reposted after.
 */
public interface ReceivedPacket
{
    /** Total bytes in the packet. */
    int length();

    /** Number of receive buffers the packet spans. */
    int bufferCount();

    /** A view of the packet's bytes in receive buffer {@code index} (position 0 to its capacity). */
    DirectBuffer buffer(int index);

    /**
     * A writable view of the packet's bytes in receive buffer {@code index}, for changing a packet
     * in place (a TTL, a checksum, decryption). A buffer the backend lent (lazy receive) is copied
     * into the frontend's own frame first, once, and counted in {@code rx_lazy_copies_write}; a
     * buffer filled by copy is returned as it is. Valid only during {@link RxHandler#onPacket}.
     */
    default org.agrona.MutableDirectBuffer mutableBuffer(final int index)
    {
        throw new UnsupportedOperationException("this ReceivedPacket is read-only");
    }

    /** Copies the whole packet into {@code dst} at {@code dstIndex}; returns the length. */
    int copyTo(org.agrona.MutableDirectBuffer dst, int dstIndex);
}

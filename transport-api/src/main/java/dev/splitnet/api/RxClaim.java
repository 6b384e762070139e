package dev.splitnet.api;

import org.agrona.MutableDirectBuffer;

/**
 * A packet for one frontend built in place in the backend's own frames, the way a NIC writes an
 * incoming packet into driver memory: with lazy receive ({@link Features#LAZY_RX}, a backend in
 * rx mode flip or lazy) the frames are then lent to the frontend through its P2M instead of
 * copied into its buffers (a packet shorter than the backend's copybreak is copied in: below it a
 * copy is cheaper). Obtained from {@link Backend#claimRx} on the duty-cycle thread; end it with
 * exactly one of {@link #commit} or {@link #abort} before the next claim. The object is reused for
 * the next claim.
 */
public interface RxClaim
{
    /** The packet's bytes: {@code length} bytes as claimed, contiguous, writable until commit or abort. */
    MutableDirectBuffer buffer();

    /** The length claimed. */
    int length();

    /**
     * Hands the packet to the frontend (lent or copied) and ends the claim.
     *
     * @return as {@link Backend#deliver(int, Packet)}: OKAY, DROPPED (too few buffers posted), or ERROR.
     */
    PacketStatus commit();

    /** Gives the frames back without delivering anything. */
    void abort();
}

package dev.splitnet.api;

import org.agrona.MutableDirectBuffer;

/**
 * A packet being built in place: the header in a header slot, the payload straight in granted
 * frames, so nothing is copied. Obtained from {@link Frontend#tryClaim}; end it with exactly one
 * of {@link #commit} or {@link #abort}. The object is reused for the next claim.
 */
public interface TxClaim
{
    /** The header bytes, written straight into the shared header slot. */
    MutableDirectBuffer header();

    /** Number of payload fragments, as asked for at claim time. */
    int fragmentCount();

    /** Fragment {@code index}'s bytes, a window onto a granted frame. */
    MutableDirectBuffer fragment(int index);

    /** Puts the packet on the ring; its status arrives through a completion with this id. */
    void commit(long correlationId);

    /** Gives the slot and frames back without sending anything. */
    void abort();
}

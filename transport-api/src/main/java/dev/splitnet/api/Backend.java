package dev.splitnet.api;

import org.agrona.DirectBuffer;

/** netback: serves many frontends, hands their packets to a {@link PacketHandler}, delivers to them. */
public interface Backend extends AutoCloseable
{
    /** Whether a frontend with this domain id is connected now. */
    boolean isConnected(int domainId);

    /** Number of connected frontends. */
    int connectedCount();

    /**
     * Copies a packet into the receive buffers of frontend {@code domainId}. Call it on the
     * backend's duty-cycle thread (from a handler or between duty cycles): the frontend sees the
     * packet when the backend publishes its RX responses, once per duty cycle and before it sleeps.
     *
     * @return {@link PacketStatus#OKAY}, {@link PacketStatus#DROPPED} when it has too few buffers
     * posted, {@link PacketStatus#ERROR} when no such frontend is connected or it broke the protocol.
     */
    PacketStatus deliver(int domainId, Packet packet);

    /**
     * Forwards a packet to frontend {@code domainId} and lets that delivery decide the packet's
     * fate (a switch's {@code return backend.forward(dst, packet)}): copied into its receive buffers
     * now, or, when it has too few posted, queued (held in its sender's grants, not copied) until
     * it posts some, within the backend's RX queue bounds ({@code rxQueueBytes},
     * {@code rxDrainTimeoutMs}, {@code rxStallTimeoutMs}). A queued packet returns OKAY here and
     * its sender hears the real outcome later: OKAY once delivered, DROPPED when the queue drops
     * it (each reason counted: {@code rx_dropped_queue_full}, {@code rx_dropped_drain_timeout},
     * {@code rx_dropped_stalled}, {@code rx_dropped_disconnect}, {@code tx_queued_dropped_pressure}).
     * The handler's return value is then ignored. A packet the handler holds, or one forwarded
     * already, is not queued: it is delivered now or dropped, as {@link #deliver(int, Packet)}.
     */
    PacketStatus forward(int domainId, Packet packet);

    /** Copies {@code length} bytes of {@code buffer} into frontend {@code domainId}'s receive buffers. */
    PacketStatus deliver(int domainId, DirectBuffer buffer, int offset, int length);

    /**
     * Claims {@code length} bytes (0 to 65535) of backend frames for a packet to frontend
     * {@code domainId}, to be written in place and delivered with {@link RxClaim#commit}: lent
     * without a copy (the frontend negotiated {@link Features#LAZY_RX}, the backend's rx mode is
     * flip or lazy; below the backend's copybreak it is copied in). Duty-cycle thread only, one
     * claim at a time. On {@code null}, build the packet in a buffer of your own and
     * {@link #deliver(int, DirectBuffer, int, int)} it: the same one copy.
     *
     * @return the claim, or {@code null} when no such frontend is connected, it takes no lent frames
     *         (no lazy-rx, or the backend is in copy mode), or all of its backend frames are lent or
     *         claimed (counted in {@code rx_no_backend_frame}).
     * @throws IllegalArgumentException when {@code length} is outside 0 to 65535.
     * @throws IllegalStateException    when the previous claim was neither committed nor aborted.
     */
    default RxClaim claimRx(final int domainId, final int length)
    {
        throw new UnsupportedOperationException("this Backend does not build packets in place; use deliver");
    }

    /**
     * A packet held with {@link Packet#hold()}, for reading until it is completed.
     *
     * @return the packet, or {@code null} when the backend dropped it (its copy memory was full,
     *         or it was held past the drop limit; counted in {@code held_dropped_*}).
     * @throws IllegalStateException when the handle was completed already, or never named a held packet.
     */
    Packet held(long handle);

    /**
     * Completes a held packet on the backend's duty-cycle thread: its grants are released and its
     * frontend gets {@code status} (in any order relative to other packets: TX responses carry
     * the request id). A packet the backend had already copied late was answered OKAY at the copy;
     * completing it frees the copy.
     *
     * @return true when completed; false when the backend had dropped it already (see {@link #held}).
     * @throws IllegalStateException    when the handle was completed already or is not a held packet's,
     *                                  or when called from another thread.
     * @throws IllegalArgumentException when {@code status} is null or {@link PacketStatus#DISCONNECTED}.
     */
    boolean complete(long handle, PacketStatus status);

    /** Packets held now, across all frontends (and those of frontends gone, until completed). */
    int heldCount();

    @Override
    void close();
}

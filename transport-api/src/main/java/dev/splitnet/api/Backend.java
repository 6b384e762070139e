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

    /** Copies {@code length} bytes of {@code buffer} into frontend {@code domainId}'s receive buffers. */
    PacketStatus deliver(int domainId, DirectBuffer buffer, int offset, int length);

    @Override
    void close();
}

package dev.splitnet.api;

import org.agrona.DirectBuffer;

/**
 * netfront: transmits packets to the backend and receives packets from it. Not thread safe: one
 * thread sends and polls.
 */
public interface Frontend extends AutoCloseable
{
    /** The domain id the backend assigned at connect. */
    int domainId();

    /** Features both sides agreed to, see {@link Features}. */
    long negotiatedFeatures();

    /** Whether the backend is connected; false once it closed or died. */
    boolean isConnected();

    /**
     * Copies a packet in (header into a header slot, payload into granted frames) and puts it on
     * the ring.
     *
     * @throws IllegalArgumentException when the header exceeds a slot or the packet exceeds
     *                                  {@link NetifConstants#XEN_NETIF_MAX_TX_SIZE}.
     */
    SendResult send(
        DirectBuffer header, int headerOffset, int headerLength,
        DirectBuffer payload, int payloadOffset, int payloadLength,
        long correlationId);

    /**
     * Claims a header slot and frames for a packet with the given fragment sizes (each at most a
     * frame, or up to 65535 bytes of consecutive frames when {@link Features#FRAME_SPANS} was
     * negotiated) so the application can write it in place.
     *
     * @return the claim, or {@code null} when back pressured or not connected.
     */
    TxClaim tryClaim(int headerLength, int[] fragmentLengths, int fragmentCount);

    /** The largest fragment {@link #tryClaim(int, int[], int)} takes: 4096, or 65535 with {@link Features#FRAME_SPANS}. */
    int maxFragmentLength();

    /** Claims a packet whose payload is split into whole frames (one fragment with frame spans). */
    TxClaim tryClaim(int headerLength, int payloadLength);

    /**
     * Handles TX responses and received packets, reposts receive buffers and checks the peer.
     *
     * @return the number of completions and packets handled.
     */
    int poll(TxCompletionHandler completions, RxHandler receiver);

    /** Packets sent and not yet completed. */
    int inFlight();

    /** Blocks until the backend rings the doorbell or the timeout passes, arming events first. */
    void awaitWork(long timeoutMillis);

    /** Disconnects; packets still in flight complete as {@link PacketStatus#DISCONNECTED} on a last poll. */
    @Override
    void close();
}

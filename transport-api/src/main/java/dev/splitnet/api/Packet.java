package dev.splitnet.api;

import java.io.IOException;
import java.nio.channels.GatheringByteChannel;
import org.agrona.DirectBuffer;

/**
 * A packet the backend took off a frontend's TX ring: the header already copied into backend
 * memory, the payload still in granted frames. Valid only during {@link PacketHandler#onPacket}.
 */
public interface Packet
{
    /** The frontend that sent it. */
    int domainId();

    /** The header copy, {@link #headerLength()} bytes from index 0. */
    DirectBuffer header();

    int headerLength();

    /** Payload bytes, all fragments together. */
    int payloadLength();

    int fragmentCount();

    Fragment fragment(int index);

    /**
     * Sends header and payload as one gathering write (for a datagram channel, one datagram)
     * straight from the mappings: payload grants are pinned, never mapped for the CPU.
     */
    long transferTo(GatheringByteChannel channel) throws IOException;
}

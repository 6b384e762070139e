package dev.splitnet.api;

import java.io.IOException;
import java.nio.channels.GatheringByteChannel;
import org.agrona.DirectBuffer;

/**
 * A packet the backend took off a frontend's TX ring: the header already copied into backend
 * memory, the payload still in granted frames. Valid during {@link PacketHandler#onPacket}, and
 * after it until completed when the handler {@linkplain #hold() held} it.
 */
public interface Packet
{
    /**
     * Keeps the packet past its handler without copying it (the seed's "remove netloop by lazy
     * copying"): its grants stay pinned, its payload unmapped until read, and the frontend gets its
     * response only when the packet is {@linkplain Backend#complete completed}. If it is held too
     * long, or its frontend runs short or goes away, the backend copies the payload into memory of
     * its own and answers the frontend; reads then see the copy, with nothing for the holder to do.
     *
     * <p>Call it during the handler; the handler's return value is then ignored. Calling it again
     * returns the same handle. Read the packet later through {@link Backend#held(long)}, which
     * checks the handle: this object serves the pool's next packet once this one is completed.
     *
     * @return the handle, a positive number naming this packet and its generation.
     * @throws IllegalStateException when the packet is not in its handler, or cannot be held.
     */
    default long hold()
    {
        throw new UnsupportedOperationException("only packets a backend took off a TX ring can be held, not "
            + getClass().getName());
    }

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

package dev.splitnet.mmap;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * The event channel between the two sides of one connection: one byte written to a Unix domain
 * socket rings the peer. Doorbells are idempotent, so a full socket buffer (a write of 0 bytes)
 * loses nothing: the peer has unread doorbells already. End-of-stream tells that the peer is gone.
 * Allocation-free after construction; not thread safe.
 */
public final class Doorbell implements AutoCloseable
{
    private static final int DRAIN_CAPACITY = 256;

    private final SocketChannel channel;
    private final ByteBuffer ring = ByteBuffer.allocateDirect(1);
    private final ByteBuffer drain = ByteBuffer.allocateDirect(DRAIN_CAPACITY);
    private final AtomicCounter sent;
    private final AtomicCounter received;
    private boolean peerGone;

    /** Wraps a connected channel and switches it to non-blocking mode. */
    public Doorbell(final SocketChannel channel, final AtomicCounter sent, final AtomicCounter received) throws IOException
    {
        this.channel = channel;
        this.sent = sent;
        this.received = received;
        channel.configureBlocking(false);
        ring.put(0, (byte)1);
    }

    public SocketChannel channel()
    {
        return channel;
    }

    /** Rings the peer; returns false when the peer is gone. */
    public boolean ring()
    {
        if (peerGone)
        {
            return false;
        }
        try
        {
            ring.clear();
            if (channel.write(ring) > 0)
            {
                sent.incrementRelease();
            }
            return true;
        }
        catch (final IOException ex)
        {
            peerGone = true;
            return false;
        }
    }

    /**
     * Reads every pending doorbell without blocking.
     *
     * @return the number of doorbells read, or -1 when the peer closed the connection or died.
     */
    public int drain()
    {
        if (peerGone)
        {
            return -1;
        }
        int total = 0;
        try
        {
            while (true)
            {
                drain.clear();
                final int n = channel.read(drain);
                if (n < 0)
                {
                    peerGone = true;
                    return -1;
                }
                total += n;
                if (n < DRAIN_CAPACITY)
                {
                    break;
                }
            }
        }
        catch (final IOException ex)
        {
            peerGone = true;
            return -1;
        }
        if (total > 0)
        {
            received.getAndAddRelease(total);
        }
        return total;
    }

    /** Whether a read or write saw the peer go. */
    public boolean isPeerGone()
    {
        return peerGone;
    }

    @Override
    public void close()
    {
        try
        {
            channel.close();
        }
        catch (final IOException ignore)
        {
            // closing a socket whose peer vanished: nothing left to release
        }
    }
}

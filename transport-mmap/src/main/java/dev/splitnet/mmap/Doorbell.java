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
 *
 * <p>Doorbells coalesce and their count means nothing, so {@link #drain} reads a bounded amount per
 * call: a peer that writes its socket faster than it is read (a doorbell flood) cannot keep the
 * caller's duty thread in the read loop. A drain that hits the bound is counted as a flood and
 * reported by {@link #isFlooding()}, so the caller can stop waking up for this socket for a while
 * (the rate limit Xen's lateeoi event channels put on a guest after XSA-332).
 */
public final class Doorbell implements AutoCloseable
{
    private static final int DRAIN_CAPACITY = 4096;
    /**
     * At most this many reads per drain: 16 KiB, enough for any honest peer (it rings at most once
     * per batch it publishes), and a dying flooder's socket buffer (~208 KiB) still empties within
     * a few housekeeping ticks, so its end-of-stream is seen well within a second.
     */
    private static final int MAX_READS_PER_DRAIN = 4;

    private final SocketChannel channel;
    private final ByteBuffer ring = ByteBuffer.allocateDirect(1);
    private final ByteBuffer drain = ByteBuffer.allocateDirect(DRAIN_CAPACITY);
    private final AtomicCounter sent;
    private final AtomicCounter received;
    private final AtomicCounter floods;
    private boolean peerGone;
    private boolean flooding;

    /**
     * Wraps a connected channel and switches it to non-blocking mode.
     *
     * @param floods counts drains cut short at their bound.
     */
    public Doorbell(final SocketChannel channel, final AtomicCounter sent, final AtomicCounter received,
        final AtomicCounter floods) throws IOException
    {
        this.channel = channel;
        this.sent = sent;
        this.received = received;
        this.floods = floods;
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
     * Reads pending doorbells without blocking, at most {@code MAX_READS_PER_DRAIN} buffers' worth.
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
        flooding = true;
        try
        {
            for (int reads = 0; reads < MAX_READS_PER_DRAIN; reads++)
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
                    flooding = false;
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
        if (flooding)
        {
            floods.incrementRelease();
        }
        return total;
    }

    /** Whether the last {@link #drain} stopped at its bound with more bytes still waiting. */
    public boolean isFlooding()
    {
        return flooding;
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

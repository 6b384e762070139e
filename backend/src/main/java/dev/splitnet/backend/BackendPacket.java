package dev.splitnet.backend;

import dev.splitnet.api.Fragment;
import dev.splitnet.api.Packet;
import dev.splitnet.mmap.NetifLimits;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * The packet handed to the handler: a header copied into backend memory and lazy fragments over
 * the frontend's grants. One per connection, reused for every packet.
 */
final class BackendPacket implements Packet
{
    /** Header copies up to a page: header slot contents, or the start of a plain Xen first request. */
    static final int HEADER_CAPACITY = 4096;

    private final int domainId;
    private final AtomicCounter egressPackets;
    private final ByteBuffer headerMemory = ByteBuffer.allocateDirect(HEADER_CAPACITY);
    private final UnsafeBuffer header = new UnsafeBuffer(headerMemory);
    private final ByteBuffer headerView = headerMemory.duplicate();
    private final LazyFragment[] fragments;
    private final ByteBuffer[] gather = new ByteBuffer[NetifLimits.MAX_TX_REQUESTS_PER_PACKET + 1];
    private int headerLength;
    private int fragmentCount;
    private int payloadLength;

    BackendPacket(final int domainId, final LazyFragment[] fragments, final AtomicCounter egressPackets)
    {
        this.egressPackets = egressPackets;
        this.domainId = domainId;
        this.fragments = fragments;
    }

    /** The private header memory to copy into. */
    UnsafeBuffer headerMemory()
    {
        return header;
    }

    void reset(final int headerLength)
    {
        this.headerLength = headerLength;
        this.fragmentCount = 0;
        this.payloadLength = 0;
    }

    /** Appends a fragment over a validated request. */
    void addFragment(final int gref, final int offset, final int length)
    {
        fragments[fragmentCount++].reset(gref, offset, length);
        payloadLength += length;
    }

    /**
     * Maps every fragment for reading, stopping at the first that cannot be: a copy of the whole
     * packet (a delivery into another frontend) checks this before it consumes a buffer of the
     * receiver's, so the source's fault can never leave the receiver half written.
     */
    boolean mapAll()
    {
        for (int i = 0; i < fragmentCount; i++)
        {
            if (!fragments[i].tryMap())
            {
                return false;
            }
        }
        return true;
    }

    /** The first grant fault any fragment met (a negative {@code GrantTable.ACQUIRE_*}), or 0. */
    int faultReason()
    {
        for (int i = 0; i < fragmentCount; i++)
        {
            final int reason = fragments[i].faultReason();
            if (reason != 0)
            {
                return reason;
            }
        }
        return 0;
    }

    /** Releases every grant a fragment took. */
    void releaseAll()
    {
        for (int i = 0; i < fragmentCount; i++)
        {
            fragments[i].release();
        }
    }

    @Override
    public int domainId()
    {
        return domainId;
    }

    @Override
    public DirectBuffer header()
    {
        return header;
    }

    @Override
    public int headerLength()
    {
        return headerLength;
    }

    @Override
    public int payloadLength()
    {
        return payloadLength;
    }

    @Override
    public int fragmentCount()
    {
        return fragmentCount;
    }

    @Override
    public Fragment fragment(final int index)
    {
        if (index < 0 || index >= fragmentCount)
        {
            throw new IndexOutOfBoundsException("fragment index=" + index + " of " + fragmentCount);
        }
        return fragments[index];
    }

    @Override
    public long transferTo(final GatheringByteChannel channel) throws IOException
    {
        headerView.limit(headerLength).position(0);
        gather[0] = headerView;
        for (int i = 0; i < fragmentCount; i++)
        {
            gather[i + 1] = fragments[i].pinForTransfer();
        }
        final long total = headerLength + (long)payloadLength;
        long written = 0;
        while (written < total)
        {
            final long n = channel.write(gather, 0, fragmentCount + 1);
            if (n <= 0)
            {
                break;
            }
            written += n;
        }
        if (fragmentCount > 0)
        {
            fragments[0].countZeroCopy(Math.max(0, written - headerLength));
        }
        if (written == total)
        {
            egressPackets.incrementRelease();
        }
        return written;
    }
}

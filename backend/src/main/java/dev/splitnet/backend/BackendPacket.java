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
 * the frontend's grants. One per slot of its frontend's {@link PendingTable}, reused for the
 * slot's next packet once this one is answered and, if it was held, completed.
 */
final class BackendPacket implements Packet
{
    private final PendingTable table;
    private final int slot;
    private final int domainId;
    private final AtomicCounter egressPackets;
    private final UnsafeBuffer header;
    private final ByteBuffer headerView;
    private final LazyFragment[] fragments = new LazyFragment[NetifLimits.MAX_TX_REQUESTS_PER_PACKET];
    private final ByteBuffer[] gather;
    private int headerLength;
    private int fragmentCount;
    private int payloadLength;

    /**
     * @param headerMemory this slot's header copy memory (the header slot size: no header copy is longer).
     * @param gather       shared by the table's packets for {@link #transferTo}, which is synchronous.
     */
    BackendPacket(final PendingTable table, final int slot, final int domainId, final ByteBuffer headerMemory,
        final ByteBuffer[] gather, final AtomicCounter egressPackets)
    {
        this.table = table;
        this.slot = slot;
        this.domainId = domainId;
        this.header = new UnsafeBuffer(headerMemory);
        this.headerView = headerMemory.duplicate();
        this.gather = gather;
        this.egressPackets = egressPackets;
    }

    /** The private header memory to copy into. */
    UnsafeBuffer headerMemory()
    {
        return header;
    }

    /** Empties the packet (its fragments must have gone back to the pool). */
    void clear()
    {
        for (int i = 0; i < fragmentCount; i++)
        {
            fragments[i] = null;
        }
        headerLength = 0;
        fragmentCount = 0;
        payloadLength = 0;
    }

    void headerLength(final int headerLength)
    {
        this.headerLength = headerLength;
    }

    /** Appends a fragment from the pool over a validated request. */
    void addFragment(final LazyFragment fragment, final int gref, final int offset, final int length)
    {
        fragment.reset(gref, offset, length);
        fragments[fragmentCount++] = fragment;
        payloadLength += length;
    }

    LazyFragment fragmentAt(final int index)
    {
        return fragments[index];
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

    /** The frontend frames its fragments cover at least (each fragment's length in pages, rounded up). */
    int framesSpanned()
    {
        int frames = 0;
        for (int i = 0; i < fragmentCount; i++)
        {
            frames += (fragments[i].length() + dev.splitnet.mmap.DeviceLayout.PAGE_SIZE - 1) / dev.splitnet.mmap.DeviceLayout.PAGE_SIZE;
        }
        return frames;
    }

    /** Pins every fragment's grant for a hold; throws the first fragment's GrantFaultException. */
    void pinAll()
    {
        for (int i = 0; i < fragmentCount; i++)
        {
            fragments[i].pin();
        }
    }

    /** The late copy: the payload into one run of the copy memory from {@code unit}, fragment after fragment. */
    void copyTo(final CopyMemory memory, final int unit)
    {
        int at = 0;
        for (int i = 0; i < fragmentCount; i++)
        {
            fragments[i].copyTo(memory.address(unit) + at, CopyMemory.position(unit) + at);
            at += fragments[i].length();
        }
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
    public long hold()
    {
        return table.hold(slot);
    }

    /** Holds it for an RX queue; 0 when it is not in its handler. */
    long holdForQueue()
    {
        return table.holdForQueue(slot);
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
        if (fragmentCount > 0 && !fragments[0].isCopied())
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

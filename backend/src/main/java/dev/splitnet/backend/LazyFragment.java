package dev.splitnet.backend;

import dev.splitnet.api.Fragment;
import dev.splitnet.api.GrantConstants;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.DeviceCounters;
import dev.splitnet.mmap.DeviceLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * A payload fragment that is not mapped until the CPU first touches it. The first access goes
 * through {@link #fault()}, which checks the grant, takes its in-use flag and maps the frame;
 * later accesses go straight to memory. {@link #transferTo} pins the grant for the transfer and
 * hands the channel the shared pages without mapping them for the CPU. One instance per fragment
 * position of a connection, reused for every packet.
 *
 * <p>A fragment over a permanent grant finds it kept already (validation keeps it, see
 * {@link ActiveGrants#keep}): a fault wraps the kept frame, a transfer needs no pin, and nothing is
 * released. Such a fragment may span consecutive grefs (feature frame-spans).
 */
final class LazyFragment implements Fragment
{
    private final ActiveGrants grants;
    private final long framesAddress;
    private final ByteBuffer channelView;
    private final UnsafeBuffer view = new UnsafeBuffer(0, 0);
    private final AtomicCounter faults;
    private final AtomicCounter maps;
    private final AtomicCounter pins;
    private final AtomicCounter bytesCopied;
    private final AtomicCounter zeroCopyBytes;
    private boolean permanent;
    private int gref;
    private int offset;
    private int length;
    private int frame;
    private boolean held;
    private boolean mapped;
    // why the grant could not be taken (a negative GrantTable.ACQUIRE_* or NOT_KEPT), else 0: the
    // packet is then answered with an error whatever its handler says
    private int faultReason;

    LazyFragment(final ActiveGrants grants, final long framesAddress, final ByteBuffer framesChannelView, final DeviceCounters counters)
    {
        this.grants = grants;
        this.framesAddress = framesAddress;
        this.channelView = framesChannelView.duplicate();
        this.faults = counters.get(DeviceCounter.PAYLOAD_FAULTS);
        this.maps = counters.get(DeviceCounter.GRANT_MAPS);
        this.pins = counters.get(DeviceCounter.GRANT_PINS);
        this.bytesCopied = counters.get(DeviceCounter.PAYLOAD_BYTES_COPIED);
        this.zeroCopyBytes = counters.get(DeviceCounter.ZERO_COPY_BYTES);
    }

    /**
     * Points this fragment at a validated request's grant; nothing is mapped.
     *
     * @param gref the request's gref, with {@link dev.splitnet.api.GrantConstants#GREF_PERMANENT} when
     *             the frontend marked it permanent.
     */
    void reset(final int gref, final int offset, final int length)
    {
        this.permanent = (gref & GrantConstants.GREF_PERMANENT) != 0;
        this.gref = gref & GrantConstants.GREF_MASK;
        this.offset = offset;
        this.length = length;
        this.held = false;
        this.mapped = false;
        this.faultReason = 0;
        view.wrap(0, 0);
    }

    /** Drops the grant if this fragment took a packet hold on it (a kept grant stays). */
    void release()
    {
        // a kept grant stays kept: nothing to release per packet
        if (held && !permanent)
        {
            grants.release(gref, false);
        }
        held = false;
        mapped = false;
    }

    boolean isMapped()
    {
        return mapped;
    }

    /** Why an access since {@link #reset} found the grant unusable, or 0. */
    int faultReason()
    {
        return faultReason;
    }

    /**
     * Maps the fragment for reading if it is not yet, without throwing: for a copy that must know
     * before it starts whether every byte can be read.
     *
     * @return false when the grant cannot be taken (the fault is recorded, see {@link #faultReason}).
     */
    boolean tryMap()
    {
        if (mapped)
        {
            return true;
        }
        try
        {
            fault();
            return true;
        }
        catch (final GrantFaultException ex)
        {
            return false;
        }
    }

    /**
     * For a permanent grant: validation already kept every grant of the span and checked that their
     * frames are consecutive ({@code Vif.checkGrantRange}), so the access is an array load.
     */
    private void useKept()
    {
        if (held)
        {
            return;
        }
        final int first = grants.keptFrame(gref, false);
        if (first < 0)
        {
            // cannot happen for a validated packet: kept grants are dropped only at disconnect
            faultReason = GrantFaultException.NOT_KEPT;
            throw grants.fault(gref, faultReason);
        }
        frame = first;
        held = true;
    }

    private void hold()
    {
        if (!held)
        {
            final int result = grants.acquire(gref, false);
            if (result < 0)
            {
                faultReason = result;
                throw grants.fault(gref, result);
            }
            frame = result;
            held = true;
        }
    }

    /** The fault handler: the first CPU access maps the grant. */
    private void fault()
    {
        faults.incrementRelease();
        if (permanent)
        {
            useKept();
        }
        else
        {
            hold();
            maps.incrementRelease();
        }
        view.wrap(framesAddress + (long)frame * DeviceLayout.PAGE_SIZE + offset, length);
        mapped = true;
    }

    @Override
    public int length()
    {
        return length;
    }

    @Override
    public byte getByte(final int index)
    {
        if (!mapped)
        {
            fault();
        }
        return view.getByte(index);
    }

    @Override
    public void getBytes(final int index, final MutableDirectBuffer dst, final int dstIndex, final int count)
    {
        if (!mapped)
        {
            fault();
        }
        view.getBytes(index, dst, dstIndex, count);
        bytesCopied.getAndAddRelease(count);
    }

    @Override
    public DirectBuffer buffer()
    {
        if (!mapped)
        {
            fault();
        }
        return view;
    }

    /** Pins the grant and returns a ByteBuffer over the fragment in the shared pages, for channel I/O. */
    ByteBuffer pinForTransfer()
    {
        if (permanent)
        {
            useKept();
        }
        else if (!held)
        {
            hold();
            pins.incrementRelease();
        }
        final int start = frame * DeviceLayout.PAGE_SIZE + offset;
        channelView.limit(start + length).position(start);
        return channelView;
    }

    void countZeroCopy(final long bytes)
    {
        zeroCopyBytes.getAndAddRelease(bytes);
    }

    @Override
    public int transferTo(final WritableByteChannel channel) throws IOException
    {
        final ByteBuffer source = pinForTransfer();
        int written = 0;
        while (source.hasRemaining())
        {
            final int n = channel.write(source);
            if (n == 0)
            {
                break;
            }
            written += n;
        }
        countZeroCopy(written);
        return written;
    }
}

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
 *
 * <p>A held packet's fragments are {@linkplain #pin() pinned} when it is held (the frontend cannot
 * end the grant's access while the backend has its in-use flag) and stay unmapped until read. A
 * late copy ({@link #copyTo}) moves the bytes into the backend's copy memory and gives the grant
 * back; from then on every read and transfer goes to the copy.
 */
final class LazyFragment implements Fragment
{
    private final ActiveGrants grants;
    private final long framesAddress;
    private final ByteBuffer channelView;
    private final ByteBuffer copyChannelView;
    private final UnsafeBuffer view = new UnsafeBuffer(0, 0);
    // the late copy's destination in the backend's copy memory
    private final UnsafeBuffer copyTarget = new UnsafeBuffer(0, 0);
    private final AtomicCounter faults;
    private final AtomicCounter maps;
    private final AtomicCounter pins;
    private final AtomicCounter bytesCopied;
    private final AtomicCounter zeroCopyBytes;
    // the request's gref, GREF_PERMANENT bit included (ActiveGrants.take/drop read it)
    private int rawGref;
    private boolean permanent;
    private int offset;
    private int length;
    private int frame;
    private boolean held;
    private boolean mapped;
    // the bytes live in the backend's copy memory from copyPosition on; no grant is held
    private boolean copied;
    private int copyPosition;
    // why the grant could not be taken (a negative GrantTable.ACQUIRE_*), else 0: the packet is
    // then answered with an error whatever its handler says
    private int faultReason;

    LazyFragment(final ActiveGrants grants, final long framesAddress, final ByteBuffer framesChannelView,
        final ByteBuffer copyChannelView, final DeviceCounters counters)
    {
        this.grants = grants;
        this.framesAddress = framesAddress;
        this.channelView = framesChannelView.duplicate();
        this.copyChannelView = copyChannelView;
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
        this.rawGref = gref;
        this.permanent = (gref & GrantConstants.GREF_PERMANENT) != 0;
        this.offset = offset;
        this.length = length;
        this.held = false;
        this.mapped = false;
        this.copied = false;
        this.faultReason = 0;
        view.wrap(0, 0);
    }

    /** Drops the grant if this fragment took a hold on it (a kept grant stays kept). */
    void release()
    {
        if (held)
        {
            grants.drop(rawGref, false);
        }
        held = false;
        if (!copied)
        {
            mapped = false;
        }
    }

    /** Why an access since {@link #reset} found the grant unusable, or 0. */
    int faultReason()
    {
        return faultReason;
    }

    boolean isCopied()
    {
        return copied;
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
     * Takes the grant without mapping it (a held packet's pin): from here until release the
     * frontend cannot end its access, so a late copy always finds the bytes.
     *
     * @throws GrantFaultException when the grant cannot be taken.
     */
    void pin()
    {
        if (!held && !copied)
        {
            take();
            if (!permanent)
            {
                pins.incrementRelease();
            }
        }
    }

    private void take()
    {
        if (!held)
        {
            // validation kept a permanent grant already: take() is then an array load
            final int result = grants.take(rawGref, false);
            if (result < 0)
            {
                faultReason = result;
                throw grants.fault(rawGref & GrantConstants.GREF_MASK, result);
            }
            frame = result;
            held = true;
        }
    }

    /** The fault handler: the first CPU access maps the grant. */
    private void fault()
    {
        faults.incrementRelease();
        if (!held && !permanent)
        {
            maps.incrementRelease();
        }
        take();
        view.wrap(framesAddress + (long)frame * DeviceLayout.PAGE_SIZE + offset, length);
        mapped = true;
    }

    /**
     * The late copy: copies the fragment to {@code address} (position {@code position} of the copy
     * memory's channel view), gives the grant back, and serves every later access from the copy.
     *
     * @throws GrantFaultException when the grant cannot be taken (a fragment never pinned).
     */
    void copyTo(final long address, final int position)
    {
        if (copied)
        {
            return;
        }
        if (!mapped)
        {
            fault();
        }
        if (length > 0)
        {
            copyTarget.wrap(address, length);
            copyTarget.putBytes(0, view, 0, length);
        }
        release();
        copied = true;
        copyPosition = position;
        view.wrap(address, length);
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

    /** Pins the grant and returns a ByteBuffer over the fragment (in the shared pages, or its copy), for channel I/O. */
    ByteBuffer pinForTransfer()
    {
        if (copied)
        {
            copyChannelView.limit(copyPosition + length).position(copyPosition);
            return copyChannelView;
        }
        pin();
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
        final boolean fromCopy = copied;
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
        if (!fromCopy)
        {
            countZeroCopy(written);
        }
        return written;
    }
}

package dev.splitnet.backend;

import dev.splitnet.api.NetifConstants;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.RxClaim;
import dev.splitnet.mmap.DeviceLayout;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The backend's one {@link RxClaim}, reused claim after claim: a window onto consecutive backend
 * frames of a lazy-rx frontend, or, for a claim shorter than the copybreak (it will be copied
 * in anyway), onto a staging buffer of the backend's, so that no frame is taken and given back
 * for it. Duty-cycle thread only.
 */
final class BackendRxClaim implements RxClaim
{
    private final UnsafeBuffer view = new UnsafeBuffer(0, 0);
    // claims below the copybreak: the largest copybreak that still copies is 65536, a whole packet
    private final UnsafeBuffer staging = new UnsafeBuffer(org.agrona.BufferUtil.allocateDirectAligned(
        NetifConstants.XEN_NETIF_MAX_TX_SIZE + 1, DeviceLayout.PAGE_SIZE));
    private Vif vif;
    // first pool frame of the claim, or -1 for the staging buffer
    private int firstPoolFrame;
    private int frames;
    private int length;

    /**
     * Starts a claim of {@code length} bytes for {@code vif}.
     *
     * @return this, or null when the frontend takes no lent frames, or its backend frames are all lent or claimed.
     */
    RxClaim open(final Vif vif, final int length)
    {
        if (length < 0 || length > NetifConstants.XEN_NETIF_MAX_TX_SIZE)
        {
            throw new IllegalArgumentException("claimRx: length=" + length + " must be 0 to " + NetifConstants.XEN_NETIF_MAX_TX_SIZE);
        }
        if (this.vif != null)
        {
            throw new IllegalStateException("claimRx: the previous claim (domain " + this.vif.domainId()
                + ") was neither committed nor aborted");
        }
        final LentFrames lent = vif.lentFrames();
        if (lent == null)
        {
            return null;
        }
        if (!lent.lends(length))
        {
            firstPoolFrame = -1;
            view.wrap(staging, 0, length);
        }
        else
        {
            frames = Math.max(1, (length + DeviceLayout.PAGE_SIZE - 1) / DeviceLayout.PAGE_SIZE);
            firstPoolFrame = vif.claimFrames(frames);
            if (firstPoolFrame < 0)
            {
                return null;
            }
            view.wrap(lent.pool().frameAddress(firstPoolFrame), length);
        }
        this.vif = vif;
        this.length = length;
        return this;
    }

    @Override
    public MutableDirectBuffer buffer()
    {
        checkOpen();
        return view;
    }

    @Override
    public int length()
    {
        checkOpen();
        return length;
    }

    @Override
    public PacketStatus commit()
    {
        checkOpen();
        final Vif target = vif;
        vif = null;
        if (firstPoolFrame < 0)
        {
            // below the copybreak: copied in, as deliver(buffer)
            return target.deliver(view, 0, length);
        }
        // the frames go to the frontend or back to the pool inside, whatever the outcome
        return target.deliverClaim(view, firstPoolFrame, length);
    }

    @Override
    public void abort()
    {
        checkOpen();
        if (firstPoolFrame >= 0)
        {
            vif.lentFrames().release(firstPoolFrame, frames);
        }
        vif = null;
    }

    /** The frontend went while a claim was open: the claim is void (its frames went with the pool). */
    void forget(final Vif gone)
    {
        if (vif == gone)
        {
            vif = null;
        }
    }

    private void checkOpen()
    {
        if (vif == null)
        {
            throw new IllegalStateException("no RX claim is open: claim with claimRx first (a claim ends at commit or abort)");
        }
    }
}

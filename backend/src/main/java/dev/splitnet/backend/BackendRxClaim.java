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
    // open: between claimRx and commit or abort; void: its frontend went while it was open (vif null)
    private boolean open;
    // first pool frame of the claim, or -1 for the staging buffer
    private int firstPoolFrame;
    private int frames;
    private int length;

    /**
     * Starts a claim of {@code length} bytes for {@code vif}.
     *
     * @param vif the frontend, or null when none with the domain id asked for is connected.
     * @return this, or null when there is no such frontend, it takes no lent frames, or its
     *         backend frames are all lent or claimed.
     */
    RxClaim open(final Vif vif, final int length)
    {
        if (length < 0 || length > NetifConstants.XEN_NETIF_MAX_TX_SIZE)
        {
            throw new IllegalArgumentException("claimRx: length=" + length + " must be 0 to " + NetifConstants.XEN_NETIF_MAX_TX_SIZE);
        }
        if (open)
        {
            throw new IllegalStateException("claimRx: the previous claim (" + (this.vif == null ? "its frontend is gone" : "domain " + this.vif.domainId())
                + ") was neither committed nor aborted");
        }
        final LentFrames lent = vif == null ? null : vif.lentFrames();
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
        this.open = true;
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
        open = false;
        if (target == null)
        {
            // its frontend went while the claim was open
            return PacketStatus.ERROR;
        }
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
        if (vif != null && firstPoolFrame >= 0)
        {
            vif.lentFrames().release(firstPoolFrame, frames);
        }
        vif = null;
        open = false;
    }

    /**
     * The frontend went while a claim was open: the claim is void (its frames go with the pool,
     * which is unmapped after this). The view the application may still hold is turned onto the
     * staging buffer, so a late write lands in the backend's own memory, never in an unmapped or
     * reused mapping; commit then answers ERROR.
     */
    void forget(final Vif gone)
    {
        if (open && vif == gone)
        {
            voidClaim();
        }
    }

    /** The backend abandons every frontend: any open claim is void. */
    void forgetAll()
    {
        if (open)
        {
            voidClaim();
        }
    }

    /** After a memory fault interrupted whatever wrote the claim: it ends, its frames back to their pool. */
    void abortIfOpen()
    {
        if (open)
        {
            abort();
        }
    }

    private void voidClaim()
    {
        view.wrap(staging, 0, Math.min(length, staging.capacity()));
        vif = null;
    }

    private void checkOpen()
    {
        if (!open)
        {
            throw new IllegalStateException("no RX claim is open: claim with claimRx first (a claim ends at commit or abort)");
        }
    }
}

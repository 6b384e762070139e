package dev.splitnet.backend;

import dev.splitnet.mmap.GrantTable;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.DeviceCounters;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * The backend's record of the grants it holds for one frontend, like Xen's active grant table:
 * a hold count per gref, so the in-use flag in the shared entry is taken by the first holder and
 * cleared by the last, even when two fragments share a frame.
 *
 * <p>Permanent grants (the seed's "leave the grant mapped") are a second kind of hold: taken at a
 * grant's first permanent use, kept across packets, dropped only by {@link #releaseKept()} at
 * disconnect. The shared in-use flag is set while a grant has packet holds <em>or</em> is kept,
 * so a frontend that mixes permanent and ordinary uses of one gref cannot make the backend clear
 * the flag under a mapping it still relies on.
 */
final class ActiveGrants
{
    private final GrantTable grants;
    private final int domid;
    private final int[] readHolds;
    private final int[] writeHolds;
    private final int[] frameOf;
    // per gref: the frame of a permanent grant kept mapped for reading / writing, or -1
    private final int[] keptRead;
    private final int[] keptWrite;
    private final AtomicCounter unmaps;
    private final AtomicCounter keptGauge;
    private int held;
    private int kept;

    ActiveGrants(final GrantTable grants, final int domid, final DeviceCounters counters)
    {
        this.grants = grants;
        this.domid = domid;
        this.readHolds = new int[grants.entries()];
        this.writeHolds = new int[grants.entries()];
        this.frameOf = new int[grants.entries()];
        this.keptRead = new int[grants.entries()];
        this.keptWrite = new int[grants.entries()];
        java.util.Arrays.fill(keptRead, -1);
        java.util.Arrays.fill(keptWrite, -1);
        this.unmaps = counters.get(DeviceCounter.GRANT_UNMAPS);
        this.keptGauge = counters.get(DeviceCounter.PERMANENT_GRANTS);
    }

    GrantTable table()
    {
        return grants;
    }

    int domid()
    {
        return domid;
    }

    /**
     * Takes a hold on a grant for reading (TX payload) or writing (RX buffer).
     *
     * @return the frame, or a negative {@code GrantTable.ACQUIRE_*} reason.
     */
    int acquire(final int gref, final boolean write)
    {
        if (gref < 0 || gref >= readHolds.length)
        {
            return GrantTable.ACQUIRE_OUT_OF_RANGE;
        }
        final int[] holds = write ? writeHolds : readHolds;
        if (holds[gref] == 0)
        {
            final int keptFrame = (write ? keptWrite : keptRead)[gref];
            final int frame = keptFrame >= 0 ? keptFrame : grants.acquire(gref, domid, write);
            if (frame < 0)
            {
                return frame;
            }
            frameOf[gref] = frame;
        }
        holds[gref]++;
        held++;
        return frameOf[gref];
    }

    /** Drops a hold; the last one clears the in-use flag unless the grant is kept. */
    void release(final int gref, final boolean write)
    {
        final int[] holds = write ? writeHolds : readHolds;
        if (--holds[gref] == 0 && (write ? keptWrite : keptRead)[gref] < 0)
        {
            grants.release(gref, write);
        }
        held--;
        unmaps.incrementRelease();
    }

    /** The frame of a permanent grant already kept mapped (for reading or writing), or -1. */
    int keptFrame(final int gref, final boolean write)
    {
        return gref >= 0 && gref < keptRead.length ? (write ? keptWrite : keptRead)[gref] : -1;
    }

    /**
     * Maps a permanent grant and keeps it until {@link #releaseKept()}; a grant already kept costs
     * one array load.
     *
     * @return the frame, or a negative {@code GrantTable.ACQUIRE_*} reason.
     */
    int keep(final int gref, final boolean write)
    {
        if (gref < 0 || gref >= keptRead.length)
        {
            return GrantTable.ACQUIRE_OUT_OF_RANGE;
        }
        final int[] keptFrames = write ? keptWrite : keptRead;
        if (keptFrames[gref] >= 0)
        {
            return keptFrames[gref];
        }
        // a packet hold may have set the in-use flag already; the kept mark then just extends it
        final int frame = (write ? writeHolds : readHolds)[gref] > 0 ? frameOf[gref] : grants.acquire(gref, domid, write);
        if (frame >= 0)
        {
            keptFrames[gref] = frame;
            keptGauge.setRelease(++kept);
        }
        return frame;
    }

    /** At disconnect: drops every permanent grant, clearing in-use flags no packet hold needs. */
    void releaseKept()
    {
        for (int gref = 0; gref < keptRead.length && kept > 0; gref++)
        {
            releaseKept(gref, false);
            releaseKept(gref, true);
        }
        keptGauge.setRelease(kept);
    }

    private void releaseKept(final int gref, final boolean write)
    {
        final int[] keptFrames = write ? keptWrite : keptRead;
        if (keptFrames[gref] >= 0)
        {
            keptFrames[gref] = -1;
            kept--;
            if ((write ? writeHolds : readHolds)[gref] == 0)
            {
                grants.release(gref, write);
            }
            unmaps.incrementRelease();
        }
    }

    /** Permanent grants kept mapped now. */
    int kept()
    {
        return kept;
    }

    /** Holds outstanding now; 0 between packets. */
    int held()
    {
        return held;
    }
}

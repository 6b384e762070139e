package dev.splitnet.backend;

import dev.splitnet.mmap.GrantTable;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.DeviceCounters;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * The backend's record of the grants it holds for one frontend, like Xen's active grant table:
 * a hold count per gref, so the in-use flag in the shared entry is taken by the first holder and
 * cleared by the last, even when two fragments share a frame.
 */
final class ActiveGrants
{
    private final GrantTable grants;
    private final int domid;
    private final int[] readHolds;
    private final int[] writeHolds;
    private final int[] frameOf;
    private final AtomicCounter unmaps;
    private int held;

    ActiveGrants(final GrantTable grants, final int domid, final DeviceCounters counters)
    {
        this.grants = grants;
        this.domid = domid;
        this.readHolds = new int[grants.entries()];
        this.writeHolds = new int[grants.entries()];
        this.frameOf = new int[grants.entries()];
        this.unmaps = counters.get(DeviceCounter.GRANT_UNMAPS);
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
            final int frame = grants.acquire(gref, domid, write);
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

    /** Drops a hold; the last one clears the in-use flag. */
    void release(final int gref, final boolean write)
    {
        final int[] holds = write ? writeHolds : readHolds;
        if (--holds[gref] == 0)
        {
            grants.release(gref, write);
        }
        held--;
        unmaps.incrementRelease();
    }

    /** Holds outstanding now; 0 between packets. */
    int held()
    {
        return held;
    }
}

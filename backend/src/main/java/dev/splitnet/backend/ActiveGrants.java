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
    private final AtomicCounter unstable;
    private final GrantFaultException fault;
    private final boolean permanentGrants;
    private int held;
    // in-use flags the backend could not clear: the frontend kept rewriting the entry
    private int stuckReleases;
    private int kept;
    // the seed's range check over the grants kept for reading, and over those kept for writing
    private final KeptBlock readBlock = new KeptBlock();
    private final KeptBlock writeBlock = new KeptBlock();

    /** @param permanentGrants whether the connection negotiated permanent grants (else a permanent gref is refused). */
    ActiveGrants(final GrantTable grants, final int domid, final DeviceCounters counters, final boolean permanentGrants)
    {
        this.permanentGrants = permanentGrants;
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
        this.unstable = counters.get(DeviceCounter.ERROR_GRANT_UNSTABLE);
        this.fault = new GrantFaultException(domid);
    }

    /** This frontend's reusable fault, filled in for {@code gref} and a negative reason code. */
    GrantFaultException fault(final int gref, final int reason)
    {
        return fault.reset(gref, reason);
    }

    /** Takes the in-use flag in the shared entry, counting an entry the frontend keeps rewriting. */
    private int acquireShared(final int gref, final boolean write)
    {
        final int frame = grants.acquire(gref, domid, write);
        if (frame == GrantTable.ACQUIRE_UNSTABLE)
        {
            unstable.incrementRelease();
        }
        return frame;
    }

    /** Clears the in-use flag in the shared entry; remembers when the frontend's rewriting made that fail. */
    private void releaseShared(final int gref, final boolean write)
    {
        if (!grants.release(gref, write))
        {
            unstable.incrementRelease();
            stuckReleases++;
        }
    }

    /**
     * In-use flags the backend could not clear because the frontend kept rewriting the entry under
     * it (a protocol violation: an entry the backend holds is not the frontend's to change).
     */
    int stuckReleases()
    {
        return stuckReleases;
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
            final int frame = keptFrame >= 0 ? keptFrame : acquireShared(gref, write);
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

    /**
     * Takes a request's grant for one use, the one way every path does it: a gref marked
     * {@link dev.splitnet.api.GrantConstants#GREF_PERMANENT} is kept mapped (once, then an array
     * load), any other gets a hold that {@link #drop} gives back.
     *
     * @param rawGref the gref as the request carries it, permanent bit included.
     * @return the frame, or a negative {@code GrantTable.ACQUIRE_*} reason.
     */
    int take(final int rawGref, final boolean write)
    {
        final int gref = rawGref & dev.splitnet.api.GrantConstants.GREF_MASK;
        if ((rawGref & dev.splitnet.api.GrantConstants.GREF_PERMANENT) == 0)
        {
            return acquire(gref, write);
        }
        // a permanent gref without the feature is refused like any bad grant
        return permanentGrants ? keep(gref, write) : GrantTable.ACQUIRE_OUT_OF_RANGE;
    }

    /** Gives back what {@link #take} took: a hold is released, a kept grant stays kept. */
    void drop(final int rawGref, final boolean write)
    {
        if ((rawGref & dev.splitnet.api.GrantConstants.GREF_PERMANENT) == 0)
        {
            release(rawGref & dev.splitnet.api.GrantConstants.GREF_MASK, write);
        }
    }

    /** Drops a hold; the last one clears the in-use flag unless the grant is kept. */
    void release(final int gref, final boolean write)
    {
        final int[] holds = write ? writeHolds : readHolds;
        if (--holds[gref] == 0 && (write ? keptWrite : keptRead)[gref] < 0)
        {
            releaseShared(gref, write);
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
        final int frame = (write ? writeHolds : readHolds)[gref] > 0 ? frameOf[gref] : acquireShared(gref, write);
        if (frame >= 0)
        {
            keptFrames[gref] = frame;
            keptGauge.setRelease(++kept);
            (write ? writeBlock : readBlock).grow(gref, frame, keptFrames);
        }
        return frame;
    }

    /**
     * The first frame of a span of {@code count} grefs from {@code gref} when all are kept (for
     * reading, or for writing) inside that kept block (so their frames are consecutive), else -1:
     * then check them one by one with {@link #keep}.
     */
    int keptSpan(final int gref, final int count, final boolean write)
    {
        return (write ? writeBlock : readBlock).span(gref, count);
    }

    /** At disconnect: drops every permanent grant, clearing in-use flags no packet hold needs. */
    void releaseKept()
    {
        readBlock.clear();
        writeBlock.clear();
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
                releaseShared(gref, write);
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

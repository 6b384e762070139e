package dev.splitnet.bench;

/**
 * Where the two processes of a run sat, judged by the bare cache-line round trip measured between
 * them just before the run: every shared-memory figure moves 2-4x with it, so results are only
 * compared within one placement.
 */
public enum Placement
{
    NEAR, MID, FAR,
    /**
     * The round trip took longer than any placement explains: the two processes were not running
     * at the same time (another load took a core). Such runs are reported but not compared.
     */
    CONTENDED,
    /**
     * The probes before and after the run fell in different placements: the vCPUs moved during
     * it, so its figures belong to neither. Reported, not compared.
     */
    MOVED;

    /** Round trips below this are near (measured here: 0.13-0.22 us near). */
    public static final double THRESHOLD_NS = 220;
    /** Round trips from near up to this are mid (0.25-0.30 us seen); above, far (0.35-0.52 us). */
    public static final double MID_NS = 320;
    /** Round trips above this mean the pair was not co-scheduled. */
    public static final double CONTENDED_NS = 1500;

    public static Placement of(final double cacheLineRttNs)
    {
        if (cacheLineRttNs < THRESHOLD_NS)
        {
            return NEAR;
        }
        if (cacheLineRttNs < MID_NS)
        {
            return MID;
        }
        return cacheLineRttNs < CONTENDED_NS ? FAR : CONTENDED;
    }

    /** Whether runs here are compared with each other: one placement held through the run. */
    public boolean isComparable()
    {
        return this == NEAR || this == MID || this == FAR;
    }

    public String label()
    {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}

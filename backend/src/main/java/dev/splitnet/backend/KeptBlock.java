package dev.splitnet.backend;

/**
 * The seed's range check for permanent grants: grefs {@code [start, end)} are all kept (for
 * reading, or for writing: one block each) and gref g is frame g + delta. A frontend that
 * dedicates a contiguous block of references (netfront does: gref f is frame f) grows it one edge
 * at a time, so checking that a span of grefs is kept and its frames consecutive is O(1).
 * Duty-cycle thread only.
 */
final class KeptBlock
{
    private int start;
    private int end;
    private int delta;

    /** Extends the block by {@code gref}, newly kept as {@code frame}, at one of its edges; {@code kept} is gref to kept frame (-1: not kept). */
    void grow(final int gref, final int frame, final int[] kept)
    {
        if (start == end)
        {
            start = gref;
            end = gref + 1;
            delta = frame - gref;
            return;
        }
        if (frame - gref != delta)
        {
            return;
        }
        if (gref == end)
        {
            end++;
        }
        else if (gref == start - 1)
        {
            start--;
        }
        else
        {
            return;
        }
        // absorb neighbours kept earlier (out of order) with the same offset
        while (end < kept.length && kept[end] >= 0 && kept[end] == end + delta)
        {
            end++;
        }
        while (start > 0 && kept[start - 1] >= 0 && kept[start - 1] == start - 1 + delta)
        {
            start--;
        }
    }

    /** The first frame of {@code count} grefs from {@code gref} when all lie inside the block, else -1. */
    int span(final int gref, final int count)
    {
        return gref >= start && gref <= end - count ? gref + delta : -1;
    }

    /** At disconnect: nothing kept. */
    void clear()
    {
        start = 0;
        end = 0;
    }
}

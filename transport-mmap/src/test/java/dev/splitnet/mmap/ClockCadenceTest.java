package dev.splitnet.mmap;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Which turns of a busy loop read the clock: the times are given, not read, so each case is
 * exact. Dense turns read it every {@link ClockCadence#READ_EVERY}th time, sparse ones every
 * time, and a cadence told to read every turn always does.
 */
class ClockCadenceTest
{
    private static final long DENSE = ClockCadence.DENSE_GAP_NS / 10;
    private static final long SPARSE = ClockCadence.DENSE_GAP_NS * 10;

    /** Runs turns {@code gapNs} apart; returns how many of {@code turns} read the clock. */
    private static int reads(final ClockCadence cadence, final long[] now, final long gapNs, final int turns)
    {
        int reads = 0;
        for (int i = 0; i < turns; i++)
        {
            now[0] += gapNs;
            if (cadence.due())
            {
                cadence.read(now[0]);
                reads++;
            }
        }
        return reads;
    }

    @Test
    void denseTurnsReadTheClockEverySixteenthTime()
    {
        assertEquals(16, ClockCadence.READ_EVERY, "the default cadence");
        final long[] now = { 1_000_000 };
        final ClockCadence cadence = new ClockCadence(false, now[0]);
        // the first turn reads (nothing is known of the gaps yet) and finds them dense
        assertEquals(1, reads(cadence, now, DENSE, 1));
        assertEquals(10, reads(cadence, now, DENSE, 160), "160 dense turns, every 16th reads");
    }

    @Test
    void sparseTurnsReadTheClockEveryTimeSoASlowLoopIsCheckedAsBefore()
    {
        final long[] now = { 1_000_000 };
        final ClockCadence cadence = new ClockCadence(false, now[0]);
        assertEquals(50, reads(cadence, now, SPARSE, 50));
        // dense again: back to every 16th after the first read that sees it
        reads(cadence, now, DENSE, 1);
        assertEquals(4, reads(cadence, now, DENSE, 64));
        // turns that slow down are read at the end of the batch, then every time
        assertEquals(1, reads(cadence, now, SPARSE, 16), "the batch in progress ends at its 16th turn");
        assertEquals(20, reads(cadence, now, SPARSE, 20));
    }

    @Test
    void aCheckThatMustNeverBeLateReadsOnEveryTurn()
    {
        final long[] now = { 1_000_000 };
        final ClockCadence cadence = new ClockCadence(true, now[0]);
        assertEquals(100, reads(cadence, now, DENSE, 100));
    }

    @Test
    void aDenseBatchIsLateByAtMostSixteenGaps()
    {
        final long[] now = { 0 };
        final ClockCadence cadence = new ClockCadence(false, now[0]);
        reads(cadence, now, DENSE, 1);
        long lastRead = now[0];
        long worstGap = 0;
        for (int i = 0; i < 1000; i++)
        {
            now[0] += DENSE;
            if (cadence.due())
            {
                cadence.read(now[0]);
                worstGap = Math.max(worstGap, now[0] - lastRead);
                lastRead = now[0];
            }
        }
        assertEquals(ClockCadence.READ_EVERY * DENSE, worstGap);
        assertTrue(worstGap <= ClockCadence.READ_EVERY * ClockCadence.DENSE_GAP_NS);
    }
}

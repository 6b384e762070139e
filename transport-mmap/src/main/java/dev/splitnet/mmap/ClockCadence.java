package dev.splitnet.mmap;

/**
 * Decides which of a busy loop's turns (a frontend's polls, a backend's duty cycles that did work)
 * read the clock for their time-based checks. A clock read ({@code System.nanoTime}) costs about
 * 30 ns on the hosts measured here, more than a poll's ring reads, and a spinning frontend paid it
 * at the start of the very poll that found its response: a round trip on one thread took 14% less
 * reading it every 16th poll (medians of 8 alternating pairs of JVMs, 585 and 507 ns,
 * {@code EchoPathBenchmark}; docs/benchmarks/round-trip-cpu-2026-12-07.md).
 *
 * <p>Turns that come densely (under {@link #DENSE_GAP_NS} apart on average since the last read)
 * read it every {@link #READ_EVERY}th time, so a check is late by at most
 * {@code READ_EVERY * DENSE_GAP_NS} (0.32 ms, against check intervals of 10 ms); sparse turns read
 * it every time, as before, so a slow loop is checked no later than it was.
 */
public final class ClockCadence
{
    /** Dense turns per clock read; {@code -Dsplitnet.clock.readEvery=1} reads it on every turn. */
    public static final int READ_EVERY = Math.max(1, Integer.getInteger("splitnet.clock.readEvery", 16));
    /** Average gap between turns below which they count as dense. */
    public static final long DENSE_GAP_NS = 20_000;

    private final boolean everyTurn;
    private int batch = 1;
    private int turnsLeft = 1;
    private long lastReadNs;

    /** @param everyTurn read the clock on every turn whatever the gaps (a check that must never be late). */
    public ClockCadence(final boolean everyTurn, final long nowNs)
    {
        this.everyTurn = everyTurn || READ_EVERY == 1;
        this.lastReadNs = nowNs;
    }

    /** Whether this turn reads the clock; if it does, it passes what it read to {@link #read}. */
    public boolean due()
    {
        return everyTurn || --turnsLeft <= 0;
    }

    /** The clock as a turn read it: sets how many turns pass before the next read. */
    public void read(final long nowNs)
    {
        batch = nowNs - lastReadNs < batch * DENSE_GAP_NS ? READ_EVERY : 1;
        turnsLeft = batch;
        lastReadNs = nowNs;
    }
}

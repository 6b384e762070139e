package dev.splitnet.mmap;

import org.agrona.concurrent.IdleStrategy;

/**
 * The blocking idle strategy: after a short spin with no work, the agent arms its rings' event
 * thresholds and blocks on its doorbell sockets until the peer rings or the timeout passes.
 */
public final class DoorbellIdleStrategy implements IdleStrategy
{
    /** What the agent does to sleep: arm events, re-check, block on the doorbell. */
    @FunctionalInterface
    public interface Sleeper
    {
        void awaitWork(long timeoutMillis);
    }

    private static final int SPINS_BEFORE_SLEEP = 100;

    private final Sleeper sleeper;
    private final long timeoutMillis;
    private int spins;

    public DoorbellIdleStrategy(final Sleeper sleeper, final long timeoutMillis)
    {
        this.sleeper = sleeper;
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public void idle(final int workCount)
    {
        if (workCount > 0)
        {
            spins = 0;
            return;
        }
        idle();
    }

    @Override
    public void idle()
    {
        if (++spins < SPINS_BEFORE_SLEEP)
        {
            Thread.onSpinWait();
            return;
        }
        spins = 0;
        sleeper.awaitWork(timeoutMillis);
    }

    @Override
    public void reset()
    {
        spins = 0;
    }

    @Override
    public String alias()
    {
        return "doorbell";
    }
}

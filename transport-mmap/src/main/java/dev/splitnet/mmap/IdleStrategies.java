package dev.splitnet.mmap;

import dev.splitnet.api.IdleMode;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;

/**
 * The Agrona idle strategy of each {@link IdleMode}, for a backend's duty cycle or a frontend's
 * own loop: {@code IdleStrategies.of(IdleMode.BLOCKING, front::awaitWork, 100)}.
 */
public final class IdleStrategies
{
    /** Backoff: 100 spins, 10 yields, then parks of 1 us growing to 100 us. */
    private static final long BACKOFF_MAX_SPINS = 100;
    private static final long BACKOFF_MAX_YIELDS = 10;
    private static final long BACKOFF_MIN_PARK_NS = 1_000;
    private static final long BACKOFF_MAX_PARK_NS = 100_000;

    private IdleStrategies()
    {
    }

    /**
     * @param sleeper        what blocks on the doorbell in {@link IdleMode#BLOCKING}: the side's {@code awaitWork}.
     * @param blockTimeoutMs the longest block, so that the side notices a dead peer that often.
     */
    public static IdleStrategy of(final IdleMode mode, final DoorbellIdleStrategy.Sleeper sleeper, final long blockTimeoutMs)
    {
        switch (mode)
        {
            case BUSY_SPIN:
                return new BusySpinIdleStrategy();
            case BLOCKING:
                return new DoorbellIdleStrategy(sleeper, blockTimeoutMs);
            case BACKOFF:
                return new BackoffIdleStrategy(BACKOFF_MAX_SPINS, BACKOFF_MAX_YIELDS, BACKOFF_MIN_PARK_NS, BACKOFF_MAX_PARK_NS);
            default:
                throw new IllegalArgumentException("idle mode=" + mode + " has no strategy");
        }
    }
}

package dev.splitnet.cli;

import dev.splitnet.api.IdleMode;
import dev.splitnet.mmap.DoorbellIdleStrategy;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;

/** Maps an {@link IdleMode} to an Agrona idle strategy. */
final class Idle
{
    private Idle()
    {
    }

    static IdleStrategy strategy(final IdleMode mode, final DoorbellIdleStrategy.Sleeper sleeper, final long blockTimeoutMs)
    {
        switch (mode)
        {
            case BUSY_SPIN:
                return new BusySpinIdleStrategy();
            case BLOCKING:
                return new DoorbellIdleStrategy(sleeper, blockTimeoutMs);
            case BACKOFF:
            default:
                return new BackoffIdleStrategy(100, 10, 1_000, 100_000);
        }
    }
}

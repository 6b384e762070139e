package dev.splitnet.bench;

import java.lang.management.ManagementFactory;

/**
 * Counts messages on one worker's thread and keeps the clock: the warm-up starts at the first
 * message and is time-based; the measured window follows. The measuring side ends the window
 * after its duration and raises the stop flag; the other side ends it when it sees the flag.
 * Allocation is the JVM's per-thread allocated-bytes counter over the window. The hot loop
 * increments {@link #count} and calls {@link #poll()} every few hundred iterations, so the clock
 * costs nothing per message.
 */
final class Meter
{
    private static final com.sun.management.ThreadMXBean THREADS =
        (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();

    /** Messages so far; the loop increments it. */
    long count;

    private final Control control;
    private final boolean measuring;
    private final long warmupNs;
    private final long measureNs;
    private final long threadId = Thread.currentThread().getId();
    private long firstNs;
    private long windowStartNs;
    private long windowEndNs;
    private long countAtStart;
    private long countAtEnd;
    private long allocAtStart;
    private long allocAtEnd;
    private long cpuAtStart;
    private long cpuAtEnd;
    private boolean started;
    private boolean inWindow;
    private boolean done;

    Meter(final Control control, final boolean measuring, final long warmupMs, final long measureMs)
    {
        this.control = control;
        this.measuring = measuring;
        this.warmupNs = warmupMs * 1_000_000L;
        this.measureNs = measureMs * 1_000_000L;
    }

    /** Advances the clock; returns true once the window is over (then stop looping). */
    boolean poll()
    {
        if (done)
        {
            return true;
        }
        final long now = System.nanoTime();
        if (!started)
        {
            if (count > 0)
            {
                started = true;
                firstNs = now;
            }
            else if (control.isStopped())
            {
                return finish(now);
            }
            return false;
        }
        if (!inWindow)
        {
            if (now - firstNs >= warmupNs)
            {
                inWindow = true;
                windowStartNs = now;
                countAtStart = count;
                allocAtStart = THREADS.getThreadAllocatedBytes(threadId);
                cpuAtStart = THREADS.getCurrentThreadCpuTime();
            }
            else if (control.isStopped())
            {
                return finish(now);
            }
            return false;
        }
        if (measuring ? now - windowStartNs >= measureNs : control.isStopped())
        {
            return finish(now);
        }
        return false;
    }

    /** Whether the measured window is open now (for recording latencies only inside it). */
    boolean inWindow()
    {
        return inWindow && !done;
    }

    private boolean finish(final long now)
    {
        done = true;
        windowEndNs = now;
        countAtEnd = count;
        allocAtEnd = THREADS.getThreadAllocatedBytes(threadId);
        cpuAtEnd = THREADS.getCurrentThreadCpuTime();
        if (measuring)
        {
            control.signalStop();
        }
        return true;
    }

    long messages()
    {
        return inWindow ? countAtEnd - countAtStart : 0;
    }

    double seconds()
    {
        return inWindow ? (windowEndNs - windowStartNs) / 1e9 : 0;
    }

    double ratePerSecond()
    {
        final double s = seconds();
        return s > 0 ? messages() / s : 0;
    }

    /**
     * The share of the window this thread spent on a CPU: near 1 for a spinning thread that was
     * never descheduled; well below 1 when another load took its core (the run is then contended).
     */
    double cpuShare()
    {
        final long wall = windowEndNs - windowStartNs;
        return inWindow && wall > 0 ? (double)(cpuAtEnd - cpuAtStart) / wall : -1;
    }

    /** Bytes this thread allocated per message in the window, or -1 without a window. */
    double allocatedPerMessage()
    {
        final long m = messages();
        return m > 0 ? (double)(allocAtEnd - allocAtStart) / m : -1;
    }
}

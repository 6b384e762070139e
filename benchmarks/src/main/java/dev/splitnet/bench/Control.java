package dev.splitnet.bench;

import java.io.File;
import java.nio.MappedByteBuffer;
import org.HdrHistogram.Histogram;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The small file two workers of one run share besides the transport under test: a ready flag
 * (the side that owns the transport's files has created them), a stop flag (the measuring side is
 * done), and two words for the bare cache-line ping-pong that tells near from far placement, one
 * probed before the run and one after it. Each field has its own 128-byte line.
 */
final class Control implements AutoCloseable
{
    static final int LENGTH = 4096;
    private static final int PING_OFFSET = 0;
    private static final int READY_OFFSET = 128;
    private static final int STOP_OFFSET = 256;
    /** Side a's and side b's "my window is closed" flags, each on its own line. */
    private static final int DONE_A_OFFSET = 384;
    private static final int DONE_B_OFFSET = 512;
    /** The ping-pong word probed after the run (the first one ends at {@link #PROBE_DONE}). */
    private static final int PING_AFTER_OFFSET = 640;
    private static final long PROBE_DONE = -1;

    private final MappedByteBuffer mapped;
    private final UnsafeBuffer buffer;

    Control(final File file)
    {
        this.mapped = IoUtil.mapExistingFile(file, "control");
        this.buffer = new UnsafeBuffer(mapped);
    }

    /** Creates the zeroed file (the harness does this before starting the workers). */
    static void create(final File file)
    {
        IoUtil.unmap(IoUtil.mapNewFile(file, LENGTH, true));
    }

    void signalReady()
    {
        buffer.putIntVolatile(READY_OFFSET, 1);
    }

    void awaitReady(final long timeoutMs)
    {
        final long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (buffer.getIntVolatile(READY_OFFSET) == 0)
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new IllegalStateException("the other worker did not get ready within " + timeoutMs + " ms");
            }
            Thread.yield();
        }
    }

    void signalStop()
    {
        buffer.putIntVolatile(STOP_OFFSET, 1);
    }

    /** This side has closed its measured window (nothing it does from now on is counted). */
    void signalDone(final boolean sideA)
    {
        buffer.putIntVolatile(sideA ? DONE_A_OFFSET : DONE_B_OFFSET, 1);
    }

    /**
     * Waits until the other side has closed its window too, so that tearing down (a disconnect,
     * its log line, unmapping) never lands inside the other side's measurement: a blocking peer
     * asleep in its 100 ms wait would otherwise be woken by the close and count its cost.
     *
     * @return false when it did not within the timeout (the caller closes anyway).
     */
    boolean awaitOtherDone(final boolean sideA, final long timeoutMs)
    {
        final int offset = sideA ? DONE_B_OFFSET : DONE_A_OFFSET;
        final long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (buffer.getIntVolatile(offset) == 0)
        {
            if (System.nanoTime() - deadline > 0)
            {
                return false;
            }
            Thread.yield();
        }
        return true;
    }

    boolean isStopped()
    {
        return buffer.getIntVolatile(STOP_OFFSET) != 0;
    }

    /**
     * The pinging side of the bare cache-line round trip: writes an odd value, waits for the
     * other side to write it plus one, for {@code durationMs}; then tells the other side to stop.
     *
     * @param histogram round trips in ns, recorded after the first quarter of the time (warm-up).
     */
    void ping(final long durationMs, final Histogram histogram)
    {
        ping(PING_OFFSET, durationMs, histogram, Long.MAX_VALUE);
    }

    /** The answering side: echoes every odd value plus one until the pinging side is done. */
    void pong()
    {
        pong(PING_OFFSET, Long.MAX_VALUE);
    }

    /**
     * The probe after the run, pinging side: as {@link #ping(long, Histogram)} on a word of its
     * own, giving up when the other side has not answered a ping within {@code answerTimeoutMs}
     * (it is past its run, and may have failed there).
     *
     * @return whether the probe ran to its end.
     */
    boolean pingAfter(final long durationMs, final Histogram histogram, final long answerTimeoutMs)
    {
        return ping(PING_AFTER_OFFSET, durationMs, histogram, answerTimeoutMs);
    }

    /** The probe after the run, answering side; returns when the pinging side is done or has not pinged within {@code timeoutMs}. */
    void pongAfter(final long timeoutMs)
    {
        pong(PING_AFTER_OFFSET, timeoutMs);
    }

    private boolean ping(final int offset, final long durationMs, final Histogram histogram, final long answerTimeoutMs)
    {
        final long start = System.nanoTime();
        final long warm = start + durationMs * 250_000L;
        final long end = start + durationMs * 1_000_000L;
        final long answerTimeoutNs = answerTimeoutMs == Long.MAX_VALUE ? Long.MAX_VALUE : answerTimeoutMs * 1_000_000L;
        long value = 1;
        long now = start;
        boolean answered = true;
        while (answered && now - end < 0)
        {
            buffer.putLongVolatile(offset, value);
            int spins = 0;
            while (buffer.getLongVolatile(offset) != value + 1)
            {
                // the clock only every 4096 spins: an answer in time costs no clock read
                if ((++spins & 4095) == 0 && System.nanoTime() - now > answerTimeoutNs)
                {
                    answered = false;
                    break;
                }
                Thread.onSpinWait();
            }
            final long after = System.nanoTime();
            if (answered && after - warm > 0)
            {
                histogram.recordValue(after - now);
            }
            now = after;
            value += 2;
        }
        buffer.putLongVolatile(offset, PROBE_DONE);
        return answered;
    }

    private void pong(final int offset, final long timeoutMs)
    {
        final long timeoutNs = timeoutMs == Long.MAX_VALUE ? Long.MAX_VALUE : timeoutMs * 1_000_000L;
        long last = 0;
        // no clock read per answer (it would lengthen the round trip measured): idle spins are
        // counted, and every 4096th looks at the clock and whether a ping came since the last look
        boolean answeredSinceLook = false;
        long lastLook = System.nanoTime();
        int idleSpins = 0;
        while (true)
        {
            final long value = buffer.getLongVolatile(offset);
            if (value == PROBE_DONE)
            {
                return;
            }
            if (value != last && (value & 1) == 1)
            {
                buffer.putLongVolatile(offset, value + 1);
                last = value;
                answeredSinceLook = true;
            }
            else if (timeoutNs != Long.MAX_VALUE && (++idleSpins & 4095) == 0)
            {
                final long now = System.nanoTime();
                if (answeredSinceLook)
                {
                    answeredSinceLook = false;
                    lastLook = now;
                }
                else if (now - lastLook > timeoutNs)
                {
                    return;
                }
            }
            Thread.onSpinWait();
        }
    }

    @Override
    public void close()
    {
        IoUtil.unmap(mapped);
    }
}

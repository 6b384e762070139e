package dev.splitnet.bench;

import java.io.File;
import java.nio.MappedByteBuffer;
import org.HdrHistogram.Histogram;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The small file two workers of one run share besides the transport under test: a ready flag
 * (the side that owns the transport's files has created them), a stop flag (the measuring side is
 * done), and one word for the bare cache-line ping-pong that tells near from far placement.
 * Each field has its own 128-byte line.
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
        final long start = System.nanoTime();
        final long warm = start + durationMs * 250_000L;
        final long end = start + durationMs * 1_000_000L;
        long value = 1;
        long now = start;
        while (now - end < 0)
        {
            buffer.putLongVolatile(PING_OFFSET, value);
            while (buffer.getLongVolatile(PING_OFFSET) != value + 1)
            {
                Thread.onSpinWait();
            }
            final long after = System.nanoTime();
            if (after - warm > 0)
            {
                histogram.recordValue(after - now);
            }
            now = after;
            value += 2;
        }
        buffer.putLongVolatile(PING_OFFSET, PROBE_DONE);
    }

    /** The answering side: echoes every odd value plus one until the pinging side is done. */
    void pong()
    {
        long last = 0;
        while (true)
        {
            final long value = buffer.getLongVolatile(PING_OFFSET);
            if (value == PROBE_DONE)
            {
                return;
            }
            if (value != last && (value & 1) == 1)
            {
                buffer.putLongVolatile(PING_OFFSET, value + 1);
                last = value;
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

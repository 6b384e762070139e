package dev.splitnet.bench;

import java.nio.file.Path;
import org.agrona.DirectBuffer;

/** What every transport worker gets: the run, its meter, and a sink for checksums. */
final class WorkerSetup
{
    /** Bytes of every packet that are its header (splitnet puts them in a header slot). */
    static final int HEADER_LENGTH = 64;
    /** How many loop iterations pass between looks at the clock and the stop flag. */
    static final int POLL_MASK = 255;

    final Path runDir;
    final Scenario scenario;
    final int size;
    final boolean yielding;
    final Meter meter;
    long checksum;

    WorkerSetup(final Path runDir, final Scenario scenario, final int size, final boolean yielding, final Meter meter)
    {
        this.runDir = runDir;
        this.scenario = scenario;
        this.size = size;
        this.yielding = yielding;
        this.meter = meter;
    }

    /** What a consumer does when a poll found nothing: spin, or yield the CPU. */
    void idle()
    {
        if (yielding)
        {
            Thread.yield();
        }
        else
        {
            Thread.onSpinWait();
        }
    }

    /** Reads every byte (as longs where it can): the "receiver reads the payload" work. */
    static long sum(final DirectBuffer buffer, final int offset, final int length)
    {
        long sum = 0;
        int i = 0;
        final int longs = length & ~7;
        for (; i < longs; i += 8)
        {
            sum += buffer.getLong(offset + i);
        }
        for (; i < length; i++)
        {
            sum += buffer.getByte(offset + i);
        }
        return sum;
    }
}

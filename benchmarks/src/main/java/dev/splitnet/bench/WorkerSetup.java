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
        // four independent sums so the loads are not serialised on one add chain: the reader can
        // go at memory speed, which is what "read every byte" should measure (same for every transport)
        long s0 = 0;
        long s1 = 0;
        long s2 = 0;
        long s3 = 0;
        int i = 0;
        final int blocks = length & ~31;
        for (; i < blocks; i += 32)
        {
            s0 += buffer.getLong(offset + i);
            s1 += buffer.getLong(offset + i + 8);
            s2 += buffer.getLong(offset + i + 16);
            s3 += buffer.getLong(offset + i + 24);
        }
        long sum = s0 + s1 + s2 + s3;
        for (; i + 8 <= length; i += 8)
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

package dev.splitnet.bench.jmh;

import dev.splitnet.mmap.GrantTable;
import java.util.concurrent.TimeUnit;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.*;

/**
 * One grant's life per packet fragment: the granter grants (release store), the grantee maps
 * (acquire: CAS sets GTF_reading) and unmaps (CAS clears it), the granter ends access (CAS).
 * Three CASes per fragment.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class GrantBenchmark
{
    private GrantTable table;
    private int gref;

    @Setup
    public void setUp()
    {
        table = new GrantTable(new UnsafeBuffer(BufferUtil.allocateDirectAligned(1280 * 8, 64)), 1280, 1280);
    }

    @Benchmark
    public boolean grantMapReleaseEnd()
    {
        gref = (gref + 1) & 1023;
        table.grantAccess(gref, 0, gref, true);
        final int frame = table.acquire(gref, 0, false);
        table.release(gref, false);
        return table.endForeignAccess(gref) && frame >= 0;
    }

    @Benchmark
    public boolean grantEndWithoutMapping()
    {
        gref = (gref + 1) & 1023;
        table.grantAccess(gref, 0, gref, true);
        return table.endForeignAccess(gref);
    }
}

package dev.splitnet.backend;

import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.DeviceCounters;
import dev.splitnet.mmap.GrantTable;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.*;

/**
 * The lazy-fragment fault path: a fragment over a granted frame, first CPU access faults it in
 * (grant check, CAS of GTF_reading, counters, view), then the handler's release drops the hold.
 * {@code untouched} is the forward path: the fragment is set up and released without a fault.
 * (In the benchmarks module but in the backend's package, to reach the package-private classes.)
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class FaultPathBenchmark
{
    private static final int FRAMES = 64;

    private GrantTable table;
    private LazyFragment fragment;
    private int gref;

    @Setup
    public void setUp()
    {
        table = new GrantTable(new UnsafeBuffer(BufferUtil.allocateDirectAligned(FRAMES * 8, 64)), FRAMES, FRAMES);
        final UnsafeBuffer values = new UnsafeBuffer(BufferUtil.allocateDirectAligned(DeviceCounter.COUNT * 128, 64));
        final DeviceCounters counters = DeviceCounters.attach(values);
        final ActiveGrants grants = new ActiveGrants(table, 0, counters, true);
        final ByteBuffer frames = BufferUtil.allocateDirectAligned(FRAMES * 4096, 4096);
        fragment = new LazyFragment(grants, new UnsafeBuffer(frames).addressOffset(), frames, java.nio.ByteBuffer.allocateDirect(0), counters);
        for (int g = 0; g < FRAMES; g++)
        {
            table.grantAccess(g, 0, g, true);
        }
    }

    @Benchmark
    public byte faultReadRelease()
    {
        gref = (gref + 1) & (FRAMES - 1);
        fragment.reset(gref, 0, 4096);
        final byte b = fragment.getByte(100);
        fragment.release();
        return b;
    }

    @Benchmark
    public int untouched()
    {
        gref = (gref + 1) & (FRAMES - 1);
        fragment.reset(gref, 0, 4096);
        fragment.release();
        return fragment.length();
    }
}

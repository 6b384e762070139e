package dev.splitnet.bench.jmh;

import java.util.concurrent.TimeUnit;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.*;

/** netfront writes a header into a 128-byte slot; netback copies it out into private memory. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class HeaderSlotCopyBenchmark
{
    @Param({ "64", "128" })
    public int headerLength;

    private UnsafeBuffer slots;
    private UnsafeBuffer header;
    private UnsafeBuffer privateCopy;
    private int slot;

    @Setup
    public void setUp()
    {
        slots = new UnsafeBuffer(BufferUtil.allocateDirectAligned(256 * 128, 64));
        header = new UnsafeBuffer(new byte[128]);
        privateCopy = new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64));
    }

    @Benchmark
    public byte writeAndCopyOut()
    {
        slot = (slot + 1) & 255;
        slots.putBytes(slot * 128, header, 0, headerLength);
        privateCopy.putBytes(0, slots, slot * 128, headerLength);
        return privateCopy.getByte(0);
    }
}

package dev.splitnet.bench.jmh;

import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.RxHandler;
import dev.splitnet.api.TxCompletionHandler;
import dev.splitnet.backend.NetBack;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/**
 * The whole TX path on one thread, without cross-core traffic: the frontend claims and commits
 * 64 packets of {@code size} bytes (64 B header in a slot, the rest in frames, untouched), the
 * backend's duty cycle takes and answers them, the frontend consumes the responses. The figure is
 * the instruction cost per packet of both sides together; the cross-process harness adds the
 * cache-line transfers.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@OperationsPerInvocation(64)
public class TxPathBenchmark
{
    @Param({ "64", "1500" })
    public int size;

    @Param({ "1", "32" })
    public int pushBatch;

    /** The rings' format: Xen's (4 pages, 1024 entries each way) or ring v2 (8 pages, the same entries). */
    @Param({ "xen", "v2" })
    public String ring;

    private OneThreadPair pair;
    private NetBack backend;
    private NetFront front;
    private final TxCompletionHandler completions = (id, status) -> { };
    private final RxHandler receiver = packet -> { };

    @Setup
    public void setUp() throws Exception
    {
        pair = new OneThreadPair(ring, b -> packet -> PacketStatus.OKAY, new FrontendContext().txFrames(2048).txPushBatch(pushBatch));
        backend = pair.backend;
        front = pair.front;
    }

    @Benchmark
    public int sixtyFourPackets()
    {
        for (int i = 0; i < 64; i++)
        {
            front.tryClaim(64, size - 64).commit(i);
        }
        int work = backend.doWork();
        while (front.inFlight() > 0)
        {
            work += front.poll(completions, receiver);
            work += backend.doWork();
        }
        return work;
    }

    @TearDown
    public void tearDown() throws IOException
    {
        pair.close();
    }
}

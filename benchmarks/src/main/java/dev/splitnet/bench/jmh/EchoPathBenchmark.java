package dev.splitnet.bench.jmh;

import dev.splitnet.api.RxHandler;
import dev.splitnet.api.TxClaim;
import dev.splitnet.api.TxCompletionHandler;
import dev.splitnet.backend.NetBack;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/**
 * One round trip of the busy-spin RTT scenario on one thread, without cross-core traffic: the
 * frontend claims and commits one 64-byte packet (pushed at once), the backend's duty cycle takes
 * it and delivers it back to the same frontend (copied into a posted receive buffer), and the
 * frontend polls until it is in, with the TX completion. The figure is the instruction cost of a
 * round trip, both sides together: what the cross-process round trip pays on top of its cache-line
 * transfers.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class EchoPathBenchmark
{
    /** The rings' format: Xen's (4 pages) or ring v2 (8 pages, the same 1024 entries each way). */
    @Param({ "xen", "v2" })
    public String ring;

    /** Receive buffers posted: how many frames the backend's copies cycle through. */
    @Param({ "256" })
    public int rxFrames;

    private OneThreadPair pair;
    private NetBack backend;
    private NetFront front;
    private boolean received;
    private final TxCompletionHandler completions = (id, status) -> { };
    private final RxHandler receiver = packet -> received = true;

    @Setup
    public void setUp() throws Exception
    {
        pair = new OneThreadPair(ring, b -> packet -> b.deliver(packet.domainId(), packet),
            new FrontendContext().txFrames(2048).rxFrames(rxFrames));
        backend = pair.backend;
        front = pair.front;
    }

    @Benchmark
    public int roundTrip()
    {
        final TxClaim claim = front.tryClaim(64, 0);
        claim.header().putLong(0, 42);
        claim.commit(1);
        received = false;
        int work = 0;
        while (!received || front.inFlight() > 0)
        {
            work += backend.doWork();
            work += front.poll(completions, receiver);
        }
        return work;
    }

    @TearDown
    public void tearDown() throws IOException
    {
        pair.close();
    }
}

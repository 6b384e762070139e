package dev.splitnet.bench.jmh;

import dev.splitnet.api.Features;
import dev.splitnet.api.IdleMode;
import dev.splitnet.api.RxHandler;
import dev.splitnet.api.TxClaim;
import dev.splitnet.api.TxCompletionHandler;
import dev.splitnet.backend.BackendContext;
import dev.splitnet.backend.NetBack;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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

    private Path dir;
    private NetBack backend;
    private NetFront front;
    private boolean received;
    private final TxCompletionHandler completions = (id, status) -> { };
    private final RxHandler receiver = packet -> received = true;

    @Setup
    public void setUp() throws Exception
    {
        dir = Files.createTempDirectory(Path.of("/dev/shm"), "echo-jmh");
        final NetBack[] holder = new NetBack[1];
        holder[0] = NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BUSY_SPIN)
            .handler(packet -> holder[0].deliver(packet.domainId(), packet)));
        backend = holder[0];
        final Thread accept = new Thread(() ->
        {
            final long end = System.nanoTime() + 10_000_000_000L;
            while (backend.connectedCount() == 0 && System.nanoTime() < end)
            {
                backend.doWork();
            }
        });
        accept.start();
        final boolean v2 = "v2".equals(ring);
        front = NetFront.connect(new FrontendContext().directory(dir).name("jmh").ringPages(v2 ? 8 : 4).txFrames(2048).rxFrames(rxFrames)
            .features(v2 ? Features.DEFAULT | Features.RING_V2 : Features.DEFAULT));
        accept.join();
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
        front.close();
        backend.close();
        try (var paths = Files.walk(dir))
        {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}

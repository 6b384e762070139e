package dev.splitnet.backend;

import dev.splitnet.api.Features;
import dev.splitnet.api.IdleMode;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import dev.splitnet.frontend.ResourceUsage;
import dev.splitnet.mmap.CounterReadings;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.RingFormat;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Ring v2 end to end in one JVM (a real NetBack on its own thread, a real NetFront, the device in
 * shared memory): the frontend echoes packets of every shape through the backend, which fills the
 * receive buffers in a shuffled order; every byte must come back, no buffer be posted twice (the
 * frontend disconnects on a buffer named twice), and the counters show the order really was
 * shuffled and TX completions really came in runs.
 */
class RingV2LoopbackTest
{
    private static final int PACKETS = 3000;

    @TempDir
    Path dir;
    private AgentRunner runner;

    @AfterEach
    void stop()
    {
        if (runner != null)
        {
            runner.close();
        }
    }

    private void startEcho(final BackendContext context)
    {
        final NetBack[] holder = new NetBack[1];
        holder[0] = NetBack.launch(context.directory(dir).idleMode(IdleMode.BACKOFF)
            .handler(packet -> holder[0].deliver(packet.domainId(), packet)));
        runner = new AgentRunner(new BackoffIdleStrategy(), Throwable::printStackTrace, null, holder[0]);
        AgentRunner.startOnThread(runner);
    }

    /** Two ring pages: 256 entries each way, so the 256 posted RX buffers cover 15 packets of 16 frames in flight. */
    private NetFront connect(final long features)
    {
        return NetFront.connect(new FrontendContext().directory(dir).name("v2").ringPages(2).txFrames(240).features(features));
    }

    @Test
    void shouldEchoEveryByteWithReceiveBuffersReturnedInAShuffledOrder()
    {
        startEcho(new BackendContext().rxOrder(RxOrder.SHUFFLE));
        try (NetFront front = connect(Features.DEFAULT | Features.RING_V2))
        {
            assertEquals(RingFormat.V2, RingFormat.of(front.negotiatedFeatures()));
            final EchoTraffic echo = new EchoTraffic(front, new SplittableRandom(7), 65535);
            echo.run(PACKETS);
            echo.assertIntact(PACKETS);
            final CounterReadings counters = CounterReadings.read(front.device(), dir, front.domainId());
            final long buffers = counters.get(DeviceCounter.RX_DELIVERED);
            assertEquals(PACKETS, buffers, "every echo delivered");
            // a buffer is taken in posting order only when the random pick is the oldest (1 in the number posted)
            assertTrue(counters.get(DeviceCounter.RX_BUFFERS_REORDERED) > PACKETS / 2,
                "buffers filled out of posting order=" + counters.get(DeviceCounter.RX_BUFFERS_REORDERED));
            assertTrue(front.isConnected(), "no buffer was named twice: " + front.disconnectReason());
            assertAllPostedAgain(front);
        }
    }

    @Test
    void shouldFillBuffersInPostingOrderUnlessAskedAndCompleteRunsOfIdsInOneResponse()
    {
        startEcho(new BackendContext());
        try (NetFront front = NetFront.connect(new FrontendContext().directory(dir).name("v2").ringPages(2).txPushBatch(16)
            .features(Features.DEFAULT | Features.RING_V2)))
        {
            final EchoTraffic echo = new EchoTraffic(front, new SplittableRandom(8), 1500);
            echo.run(PACKETS);
            echo.assertIntact(PACKETS);
            final CounterReadings counters = CounterReadings.read(front.device(), dir, front.domainId());
            assertEquals(0, counters.get(DeviceCounter.RX_BUFFERS_REORDERED), "posting order by default");
            // packets pushed 16 at a time take consecutive ids and are answered together
            assertTrue(counters.get(DeviceCounter.TX_IDS_COMPLETED_IN_RUNS) > 0, "no TX response answered a run of ids");
            assertEquals(PACKETS, counters.get(DeviceCounter.TX_OKAY));
            assertAllPostedAgain(front);
        }
    }

    /**
     * One ring page: 128 entries each way, and 256 receive buffers. Ring v2 frees a request slot
     * as soon as the backend copies the request out, so only the frontend's own count keeps more
     * than 128 buffers from being out at once, which would leave the backend no response slot for
     * some (found by the kill harness: "157 of 128 RX buffers posted").
     */
    @Test
    void shouldNeverHaveMoreReceiveBuffersOutThanTheRingHasResponseSlots()
    {
        startEcho(new BackendContext().rxOrder(RxOrder.SHUFFLE));
        // 120 TX frames: at most 40 packets of up to 9000 B (3 frames) in flight, whose echoes
        // need at most 120 receive buffers, so none is dropped for want of one
        try (NetFront front = NetFront.connect(new FrontendContext().directory(dir).name("v2").txFrames(120).rxFrames(256)
            .features(Features.DEFAULT | Features.RING_V2)))
        {
            assertEquals(128, front.resourceUsage().rxBuffersPostable(), "one page: 128 entries, fewer than the 256 buffers");
            assertEquals(128, new FrontendContext().rxFrames(256).features(Features.DEFAULT | Features.RING_V2).rxWindow(64),
                "the window the context promises is ring v2's");
            assertEquals(256, new FrontendContext().rxFrames(256).features(Features.DEFAULT).rxWindow(64), "and Xen's ring's without it");
            final EchoTraffic echo = new EchoTraffic(front, new SplittableRandom(10), 9000);
            echo.checkEachPoll = () -> assertTrue(front.resourceUsage().rxBuffersPosted() <= 128,
                "buffers out=" + front.resourceUsage().rxBuffersPosted());
            echo.run(PACKETS);
            echo.assertIntact(PACKETS);
            assertAllPostedAgain(front);
        }
    }

    @Test
    void shouldKeepXensRingsWhenTheBackendDoesNotTakeRingV2()
    {
        startEcho(new BackendContext().acceptedFeatures(Features.DEFAULT).rxOrder(RxOrder.SHUFFLE));
        try (NetFront front = connect(Features.DEFAULT | Features.RING_V2))
        {
            assertEquals(Features.DEFAULT, front.negotiatedFeatures(), "ring-v2 dropped from the offer after the ADVERTISE");
            final EchoTraffic echo = new EchoTraffic(front, new SplittableRandom(9), 9000);
            echo.run(500);
            echo.assertIntact(500);
            assertEquals(0, CounterReadings.read(front.device(), dir, front.domainId()).get(DeviceCounter.RX_BUFFERS_REORDERED),
                "Xen's ring keeps posting order even when shuffling is asked for");
        }
    }

    static void assertAllPostedAgain(final NetFront front)
    {
        final ResourceUsage usage = front.resourceUsage();
        assertEquals(0, usage.ringIdsHeld());
        assertEquals(usage.rxBuffersPostable(), usage.rxBuffersPosted(), "every receive buffer posted again, once");
    }
}

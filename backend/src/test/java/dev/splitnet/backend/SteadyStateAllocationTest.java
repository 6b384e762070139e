package dev.splitnet.backend;

import dev.splitnet.api.IdleMode;
import dev.splitnet.api.PacketHandler;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.ReceivedPacket;
import dev.splitnet.api.RxHandler;
import dev.splitnet.api.TxClaim;
import dev.splitnet.api.TxCompletionHandler;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/**
 * No allocation per packet on the steady-state path: after warm-up, the frontend thread and the
 * backend's duty-cycle thread allocate nothing while packets flow (measured with the JVM's
 * per-thread allocation counter, com.sun.management.ThreadMXBean#getThreadAllocatedBytes).
 */
class SteadyStateAllocationTest
{
    private static final int WARMUP_PACKETS = 200_000;
    private static final int MEASURED_PACKETS = 200_000;
    /** Slack for one-off JVM bookkeeping (e.g. a late JIT deoptimisation); far below one byte per packet. */
    private static final long SLACK_BYTES = 16 * 1024;

    @TempDir
    Path dir;

    /** What the backend's consumer does with each packet. */
    enum Consumer
    {
        /** Reads its first header byte and answers OKAY. */
        SINK,
        /** Delivers it back to its sender (reads every byte). */
        ECHO,
        /** Holds it, completes it 64 packets later, having read a byte of it. */
        HOLD,
        /** Holds it as HOLD, with a pressure share so small that nearly every packet is copied late first. */
        HOLD_COPIED
    }

    @Test
    void shouldNotAllocatePerPacketWhenTheBackendReadsAndEchoesPayloads() throws Exception
    {
        measure(Consumer.ECHO);
    }

    @Test
    void shouldNotAllocatePerPacketWhenTheBackendCompletesWithoutTouchingPayloads() throws Exception
    {
        measure(Consumer.SINK);
    }

    @Test
    void shouldNotAllocatePerPacketWhenAConsumerHoldsPackets() throws Exception
    {
        final long[] counts = measure(Consumer.HOLD);
        assertTrue(counts[0] >= WARMUP_PACKETS + MEASURED_PACKETS - HOLDER_QUEUE, "held zero-copy: " + counts[0]);
        // only the last 64 of each run: nothing follows them, so they wait for the copy deadline
        assertTrue(counts[1] <= 2 * HOLDER_QUEUE, "late copies with a pressure share of the whole ring: " + counts[1]);
    }

    @Test
    void shouldNotAllocatePerPacketWhenHeldPacketsAreCopiedLate() throws Exception
    {
        final long[] counts = measure(Consumer.HOLD_COPIED);
        assertTrue(counts[1] > (WARMUP_PACKETS + MEASURED_PACKETS) / 2, "late copies by pressure: " + counts[1]);
    }

    /** How many packets the holding consumer keeps before it completes the oldest. */
    private static final int HOLDER_QUEUE = 64;

    /** Holds every packet in a ring of handles; completes the oldest once {@link #HOLDER_QUEUE} are held. */
    private static final class QueueingHolder implements dev.splitnet.api.ForwardingHandler
    {
        private final long[] handles = new long[HOLDER_QUEUE * 2];
        private long head;
        private long tail;
        long misread;

        @Override
        public PacketStatus onPacket(final dev.splitnet.api.Backend backend, final dev.splitnet.api.Packet packet)
        {
            handles[(int)(tail++ % handles.length)] = packet.hold();
            return PacketStatus.OKAY;
        }

        @Override
        public int onDutyCycle(final dev.splitnet.api.Backend backend)
        {
            int work = 0;
            while (tail - head > HOLDER_QUEUE)
            {
                final long handle = handles[(int)(head++ % handles.length)];
                final dev.splitnet.api.Packet packet = backend.held(handle);
                // read it as a consumer would: header and the first payload byte (copy or grant)
                if (packet == null || packet.header().getByte(0) != 7 || packet.fragment(0).getByte(0) != 1)
                {
                    misread++;
                }
                backend.complete(handle, PacketStatus.OKAY);
                work++;
            }
            return work;
        }
    }

    /**
     * A blocking backend whose wait times out (nobody to serve) allocates nothing either: it used to
     * call accept() after every timeout, and the JDK's accept() allocates a FileDescriptor even when
     * no connection is waiting (112 bytes per 100 ms idle timeout, seen in the benchmarks).
     */
    @Test
    void shouldNotAllocateWhenABlockingBackendWaitTimesOut()
    {
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        try (NetBack backend = NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BLOCKING)
            .handler(packet -> PacketStatus.OKAY)))
        {
            for (int i = 0; i < 50; i++)
            {
                backend.awaitWork(1);
                backend.doWork();
            }
            final long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 300; i++)
            {
                backend.awaitWork(1);
                backend.doWork();
            }
            final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertTrue(allocated < 1024, "300 timed-out waits allocated " + allocated + " bytes");
        }
    }

    /**
     * A bad packet allocates nothing either: a hostile frontend sends packets whose payload grant
     * names a frame outside its device (valid flags, so it passes validation and faults at the
     * first touch); the handler tries to deliver each back (the delivery maps the source first and
     * fails) and then reads it (the fault handler throws the frontend's preallocated fault).
     */
    @Test
    void shouldNotAllocateWhileAHostileFrontendSendsFaultingPackets()
    {
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final NetBack[] backendRef = new NetBack[1];
        final long[] faultsSeen = new long[1];
        final NetBack backend = NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BUSY_SPIN).handler(packet ->
        {
            if (backendRef[0].deliver(packet.domainId(), packet) != PacketStatus.ERROR)
            {
                return PacketStatus.OKAY;
            }
            try
            {
                packet.fragment(0).getByte(0);
            }
            catch (final GrantFaultException ex)
            {
                faultsSeen[0] += ex.gref() == FAULTING_GREF ? 1 : 0;
            }
            return PacketStatus.OKAY;
        }));
        backendRef[0] = backend;
        final AgentRunner runner = new AgentRunner(new BusySpinIdleStrategy(), Throwable::printStackTrace, null, backend);
        AgentRunner.startOnThread(runner);
        try (NetFront front = NetFront.connect(new FrontendContext().directory(dir).name("hostile")))
        {
            final HostileFrontendTest.RawTx tx = new HostileFrontendTest.RawTx(front);
            tx.grants.grantAccess(FAULTING_GREF, dev.splitnet.api.GrantConstants.BACKEND_DOMAIN_ID, tx.layout.frameCount() + 1, true);
            tx.writeHeader(1, 0, 42);
            sendFaulting(tx, FAULTING_PACKETS);
            final long before = threads.getThreadAllocatedBytes(runner.thread().getId());
            sendFaulting(tx, FAULTING_PACKETS);
            final long backendBytes = threads.getThreadAllocatedBytes(runner.thread().getId()) - before;
            System.out.printf("faulting: backend %d bytes over %d packets%n", backendBytes, FAULTING_PACKETS);
            assertTrue(backendBytes < SLACK_BYTES, "backend allocated " + backendBytes + " bytes for " + FAULTING_PACKETS + " faulting packets");
        }
        finally
        {
            runner.close();
        }
        assertEquals(2L * FAULTING_PACKETS, faultsSeen[0], "every packet faulted in the handler");
    }

    private static final int FAULTING_GREF = 20;
    private static final int FAULTING_PACKETS = 20_000;

    private static void sendFaulting(final HostileFrontendTest.RawTx tx, final int packets)
    {
        for (int i = 0; i < packets; i++)
        {
            for (final HostileFrontendTest.Rsp rsp : tx.exchange(HostileFrontendTest.chain(
                new HostileFrontendTest.Req(1, 0, dev.splitnet.api.NetifConstants.NETTXF_SPLITNET_HEADER_SLOT, tx.id(), 42 + 1000),
                new HostileFrontendTest.Req(FAULTING_GREF, 0, 0, tx.id(), 1000))))
            {
                assertEquals(dev.splitnet.api.NetifConstants.NETIF_RSP_ERROR, rsp.status(), "a faulting packet fails");
            }
        }
    }

    /** @return held_packets and late copies (deadline and pressure) of the run. */
    private long[] measure(final Consumer consumer) throws Exception
    {
        final boolean echo = consumer == Consumer.ECHO;
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final NetBack[] backendRef = new NetBack[1];
        final UnsafeBuffer sink = new UnsafeBuffer(new byte[8]);
        final PacketHandler handler = echo
            ? packet -> backendRef[0].deliver(packet.domainId(), packet)
            : packet ->
            {
                sink.putByte(0, packet.header().getByte(0));
                return PacketStatus.OKAY;
            };
        final QueueingHolder holder = new QueueingHolder();
        final BackendContext context = new BackendContext().directory(dir).idleMode(IdleMode.BUSY_SPIN);
        if (consumer == Consumer.HOLD || consumer == Consumer.HOLD_COPIED)
        {
            context.handler(holder);
        }
        else
        {
            context.handler(handler);
        }
        if (consumer == Consumer.HOLD)
        {
            // the holder's 64 and a batch of 64 in flight: never more than the whole ring unanswered
            context.holdPressureShare(1.0);
        }
        if (consumer == Consumer.HOLD_COPIED)
        {
            // past 8 unanswered requests the oldest held packet is copied; the holder's 64 copies
            // and a batch's worth fit in 4 MiB, so none is dropped at the bound
            context.holdPressureShare(8.0 / 256).copyMemoryPerFrontendBytes(4L << 20);
        }
        final NetBack backend = NetBack.launch(context);
        backendRef[0] = backend;
        final AgentRunner runner = new AgentRunner(new BusySpinIdleStrategy(), Throwable::printStackTrace, null, backend);
        AgentRunner.startOnThread(runner);
        try (NetFront front = NetFront.connect(new FrontendContext().directory(dir).name("alloc")))
        {
            final long[] completed = new long[1];
            final long[] notOkay = new long[1];
            final long[] received = new long[1];
            final long[] malformed = new long[1];
            final TxCompletionHandler completions = (id, status) ->
            {
                completed[0]++;
                if (status != PacketStatus.OKAY)
                {
                    notOkay[0]++;
                }
            };
            final int[] fragments = { 1000, 3000, 200 };
            final int packetLength = 64 + 1000 + 3000 + 200;
            // an echoed packet is the one sent: header byte 0 is 7, payload byte 0 is 1, length whole
            final RxHandler receiver = (ReceivedPacket packet) ->
            {
                if (packet.length() == packetLength && packet.buffer(0).getByte(0) == 7 && packet.buffer(0).getByte(64) == 1)
                {
                    received[0]++;
                }
                else
                {
                    malformed[0]++;
                }
            };
            run(front, completions, receiver, fragments, WARMUP_PACKETS, completed);
            final long backendThread = runner.thread().getId();
            final long frontendThread = Thread.currentThread().getId();
            final long backendBefore = threads.getThreadAllocatedBytes(backendThread);
            final long frontendBefore = threads.getThreadAllocatedBytes(frontendThread);
            run(front, completions, receiver, fragments, MEASURED_PACKETS, completed);
            final long frontendBytes = threads.getThreadAllocatedBytes(frontendThread) - frontendBefore;
            final long backendBytes = threads.getThreadAllocatedBytes(backendThread) - backendBefore;
            System.out.printf("%s: frontend %d bytes, backend %d bytes over %d packets%n",
                consumer, frontendBytes, backendBytes, MEASURED_PACKETS);
            assertTrue(frontendBytes < SLACK_BYTES, "frontend allocated " + frontendBytes + " bytes for " + MEASURED_PACKETS + " packets");
            assertTrue(backendBytes < SLACK_BYTES, "backend allocated " + backendBytes + " bytes for " + MEASURED_PACKETS + " packets");
            assertEquals(0, notOkay[0], "every packet completed OKAY");
            if (echo)
            {
                // the last echoes may still be on their way when the last completion is in
                final long deadline = System.nanoTime() + 10_000_000_000L;
                while (received[0] + malformed[0] < completed[0] && System.nanoTime() - deadline < 0)
                {
                    front.poll(completions, receiver);
                }
                assertEquals(0, malformed[0], "an echoed packet arrived cut short or with other bytes");
                assertEquals(completed[0], received[0], "every packet sent was echoed back once");
            }
            else
            {
                assertEquals(0, received[0] + malformed[0], "a sink delivers nothing");
            }
            assertEquals(0, holder.misread, "held packets read with other bytes, or dropped");
            final dev.splitnet.mmap.CounterReadings counters = dev.splitnet.mmap.CounterReadings.read(front.device(), dir, front.domainId());
            return new long[] { counters.get(dev.splitnet.mmap.DeviceCounter.HELD_PACKETS),
                counters.get(dev.splitnet.mmap.DeviceCounter.HELD_COPIED_DEADLINE) + counters.get(dev.splitnet.mmap.DeviceCounter.HELD_COPIED_PRESSURE) };
        }
        finally
        {
            runner.close();
        }
    }

    private static void run(final NetFront front, final TxCompletionHandler completions, final RxHandler receiver,
        final int[] fragments, final int packets, final long[] completed)
    {
        final long target = completed[0] + packets;
        long sent = 0;
        final AtomicLong guard = new AtomicLong(System.nanoTime() + 60_000_000_000L);
        while (completed[0] < target)
        {
            if (sent < packets)
            {
                final TxClaim claim = front.tryClaim(64, fragments, fragments.length);
                if (claim != null)
                {
                    claim.header().putByte(0, (byte)7);
                    claim.fragment(0).putByte(0, (byte)1);
                    claim.commit(sent++);
                }
            }
            front.poll(completions, receiver);
            if (System.nanoTime() - guard.get() > 0)
            {
                fail("timed out with " + completed[0] + " of " + target + " completed");
            }
        }
    }
}

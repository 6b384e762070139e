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

    @Test
    void shouldNotAllocatePerPacketWhenTheBackendReadsAndEchoesPayloads() throws Exception
    {
        measure(true);
    }

    @Test
    void shouldNotAllocatePerPacketWhenTheBackendCompletesWithoutTouchingPayloads() throws Exception
    {
        measure(false);
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

    private void measure(final boolean echo) throws Exception
    {
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
        final NetBack backend = NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BUSY_SPIN).handler(handler));
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
                echo ? "echo" : "sink", frontendBytes, backendBytes, MEASURED_PACKETS);
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

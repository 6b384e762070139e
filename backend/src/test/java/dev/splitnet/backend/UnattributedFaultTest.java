package dev.splitnet.backend;

import dev.splitnet.api.IdleMode;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.SplitnetException;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A memory fault the backend cannot put down to one frontend (no device file is short: a file
 * truncated and grown back before the check, a hole punched into it) must not leave a silent
 * zombie: the duty cycle stops, every frontend sees its doorbell close within a second, nobody new
 * can connect, and {@link NetBackRunner#failure()} says why. The fault is raised the way the JVM
 * raises a SIGBUS on a mapping: an {@link InternalError} out of the code that touched the memory.
 */
class UnattributedFaultTest
{
    private static final int FAULT_MAGIC = 0x5160B05;

    @TempDir
    Path dir;

    private final List<NetFront> fronts = new ArrayList<>();
    private final List<Throwable> reported = new CopyOnWriteArrayList<>();
    private NetBackRunner runner;

    @AfterEach
    void shutdown()
    {
        fronts.forEach(NetFront::close);
        if (runner != null)
        {
            runner.close();
        }
    }

    @Test
    void shouldDisconnectEveryFrontendAndStopVisiblyOnAFaultNobodyCanBeBlamedFor()
    {
        final NetBack backend = NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BACKOFF).handler(packet ->
        {
            if (packet.headerLength() >= 4 && packet.header().getInt(0) == FAULT_MAGIC)
            {
                throw new InternalError("a fault occurred in a recent unsafe memory access operation in compiled Java code");
            }
            return PacketStatus.OKAY;
        }).allowFileMemory(true));
        runner = new NetBackRunner(backend, new BackoffIdleStrategy(), reported::add);
        final NetFront a = connect("a");
        final NetFront bystander = connect("b");
        final UnsafeBuffer header = new UnsafeBuffer(new byte[64]);
        header.putInt(0, FAULT_MAGIC);
        a.send(header, 0, 64, header, 0, 0, 1L);
        final long faultSentNs = System.nanoTime();

        for (final NetFront front : fronts)
        {
            while (front.isConnected())
            {
                front.poll((id, status) -> { }, packet -> { });
                assertTrue(System.nanoTime() - faultSentNs < TimeUnit.SECONDS.toNanos(1),
                    "frontend still connected a second after the fault");
                Thread.onSpinWait();
            }
        }
        assertFalse(bystander.isConnected());
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (runner.isRunning())
        {
            assertTrue(System.nanoTime() < deadline, "duty cycle still running");
            Thread.yield();
        }
        final Throwable failure = runner.failure();
        assertInstanceOf(SplitnetException.class, failure);
        assertTrue(failure.getMessage().contains("could not be put down to one frontend"), failure.getMessage());
        assertInstanceOf(InternalError.class, failure.getCause());
        assertEquals(List.of(failure), reported, "the error handler heard it once");
        assertEquals(0, backend.connectedCount());
        final SplitnetException refused = assertThrows(SplitnetException.class, () -> connect("late"));
        assertFalse(refused.getMessage().isEmpty());
    }

    private NetFront connect(final String name)
    {
        // file-backed: a truncated file is the fault these tests are about (sealed memory cannot be truncated)
        final NetFront front = NetFront.connect(new FrontendContext().directory(dir).name(name).connectTimeoutMs(2000).sealedMemory(false));
        fronts.add(front);
        return front;
    }

    /**
     * A frontend that truncated its device file and grew it back is no longer short, but its file
     * now has holes (every honest device file has none): the fault is put down to it, it alone is
     * disconnected, and the other frontend is served on.
     */
    @Test
    void shouldPutAFaultDownToTheFrontendThatTruncatedAndRegrewItsFile() throws Exception
    {
        final java.util.concurrent.CountDownLatch handling = new java.util.concurrent.CountDownLatch(1);
        final java.util.concurrent.CountDownLatch regrown = new java.util.concurrent.CountDownLatch(1);
        final NetBack backend = NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BACKOFF).handler(packet ->
        {
            if (packet.headerLength() >= 4 && packet.header().getInt(0) == FAULT_MAGIC)
            {
                // the fault comes from the pages the frontend takes away while the backend reads them
                handling.countDown();
                awaitQuietly(regrown);
                throw new InternalError("a fault occurred in a recent unsafe memory access operation in compiled Java code");
            }
            return PacketStatus.OKAY;
        }).allowFileMemory(true));
        runner = new NetBackRunner(backend, new BackoffIdleStrategy(), reported::add);
        final NetFront offender = connect("offender");
        final NetFront bystander = connect("bystander");
        final UnsafeBuffer header = new UnsafeBuffer(new byte[64]);
        header.putInt(0, FAULT_MAGIC);
        offender.send(header, 0, 64, header, 0, 0, 1L);
        final long published = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (handling.getCount() > 0)
        {
            // a poll publishes the request (sends may be batched)
            offender.poll((id, status) -> { }, packet -> { });
            assertTrue(System.nanoTime() < published, "the backend never started on the packet");
        }
        // the backend holds the packet now: the pages go and come back as holes
        try (java.io.RandomAccessFile file = new java.io.RandomAccessFile(dir.resolve("offender.dev").toFile(), "rw"))
        {
            final long length = file.length();
            file.setLength(0);
            file.setLength(length);
        }
        regrown.countDown();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (offender.isConnected())
        {
            try
            {
                offender.poll((id, status) -> { }, packet -> { });
            }
            catch (final Throwable t)
            {
                // the offender's own memory is gone too; whatever it throws is its own business
                break;
            }
            assertTrue(System.nanoTime() < deadline, "offender still connected");
        }
        final long quiet = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
        final int[] okay = new int[1];
        header.putInt(0, 0);
        bystander.send(header, 0, 64, header, 0, 0, 2L);
        while (okay[0] == 0 || System.nanoTime() < quiet)
        {
            bystander.poll((id, status) -> okay[0] += status == PacketStatus.OKAY ? 1 : 0, packet -> { });
            assertTrue(System.nanoTime() < deadline, "bystander's packet not completed");
        }
        assertEquals(1, okay[0]);
        assertTrue(bystander.isConnected());
        assertTrue(runner.isRunning(), "the backend goes on serving");
        assertNull(runner.failure());
        assertEquals(List.of(), reported);
        assertEquals(1, backend.connectedCount());
    }

    private static void awaitQuietly(final java.util.concurrent.CountDownLatch latch)
    {
        try
        {
            latch.await(5, TimeUnit.SECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}

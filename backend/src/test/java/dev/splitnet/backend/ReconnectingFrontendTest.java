package dev.splitnet.backend;

import dev.splitnet.api.IdleMode;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.SendResult;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import dev.splitnet.frontend.ReconnectingFrontend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The library's reconnect: a backend that goes away leaves every packet in flight reported
 * DISCONNECTED exactly once, the old connection closed (its file deleted), and the next backend in
 * the directory is connected to from poll, with traffic flowing again. Killed backends (SIGKILL,
 * separate JVMs) are KillHarnessIT's.
 */
class ReconnectingFrontendTest
{
    private static final int BEFORE = 20;
    private static final int STRANDED = 10;
    private static final int AFTER = 20;

    @TempDir
    Path dir;

    private final int[] statusCount = new int[PacketStatus.values().length];
    private final int[] reportsPerPacket = new int[BEFORE + STRANDED + AFTER];
    private final List<String> events = new ArrayList<>();

    @Test
    void shouldReportEveryPacketInFlightOnceAndConnectToTheNextBackend() throws Exception
    {
        final ReconnectingFrontend.Listener listener = new ReconnectingFrontend.Listener()
        {
            @Override
            public void connected(final NetFront front, final int connection)
            {
                events.add("connected " + connection);
            }

            @Override
            public void disconnected(final NetFront front, final int reported)
            {
                assertTrue(Files.exists(front.device().path()), "the old connection is still mapped while the listener runs");
                events.add("disconnected " + reported);
            }
        };
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[2048]);
        final ReconnectingFrontend front;
        final Path firstFile;
        try (NetBackRunner runner = new NetBackRunner(launch(), new BackoffIdleStrategy(), Throwable::printStackTrace))
        {
            // attempts of 100 ms, so the polls while no backend listens return soon
            front = ReconnectingFrontend.connect(new FrontendContext().directory(dir).name("survivor"), listener, 20, 100);
            firstFile = front.current().device().path();
            for (int i = 0; i < BEFORE; i++)
            {
                assertEquals(SendResult.SENT, front.send(buffer, 0, 64, buffer, 64, 1000, i));
            }
            drain(front, BEFORE);
            assertEquals(BEFORE, statusCount[PacketStatus.OKAY.ordinal()]);
        }
        // the backend is gone (its sockets closed); the frontend has not looked yet
        for (int i = BEFORE; i < BEFORE + STRANDED; i++)
        {
            assertEquals(SendResult.SENT, front.send(buffer, 0, 64, buffer, 64, 1000, i));
        }
        final long deadline = System.nanoTime() + 5_000_000_000L;
        // awaitWork or poll may notice; the poll that follows reports and closes the connection
        while (front.current() != null)
        {
            assertTrue(System.nanoTime() - deadline < 0, "the frontend did not notice its backend closed");
            front.poll(this::onComplete, packet -> { });
            front.awaitWork(10);
        }
        assertEquals(STRANDED, statusCount[PacketStatus.DISCONNECTED.ordinal()], "every stranded packet DISCONNECTED");
        assertEquals(List.of("connected 1", "disconnected " + STRANDED), events);
        assertNull(front.current());
        assertFalse(Files.exists(firstFile), "the old connection's file is deleted");
        assertEquals(SendResult.NOT_CONNECTED, front.send(buffer, 0, 64, buffer, 64, 1000, 999));
        assertNull(front.tryClaim(64, 100));
        for (int i = 0; i < 5; i++)
        {
            assertEquals(0, front.poll(this::onComplete, packet -> { }), "no backend: nothing to report");
        }

        try (NetBackRunner runner = new NetBackRunner(launch(), new BackoffIdleStrategy(), Throwable::printStackTrace))
        {
            final long reconnectDeadline = System.nanoTime() + 10_000_000_000L;
            while (!front.isConnected())
            {
                assertTrue(System.nanoTime() - reconnectDeadline < 0, "did not reconnect: " + events);
                front.poll(this::onComplete, packet -> { });
                front.awaitWork(10);
            }
            assertEquals(2, front.connections());
            assertTrue(Files.exists(front.current().device().path()));
            for (int i = BEFORE + STRANDED; i < reportsPerPacket.length; i++)
            {
                assertEquals(SendResult.SENT, front.send(buffer, 0, 64, buffer, 64, 1000, i));
            }
            drain(front, reportsPerPacket.length);
            front.close();
            front.close();
        }
        assertEquals(BEFORE + AFTER, statusCount[PacketStatus.OKAY.ordinal()]);
        assertEquals(STRANDED, statusCount[PacketStatus.DISCONNECTED.ordinal()]);
        for (int i = 0; i < reportsPerPacket.length; i++)
        {
            assertEquals(1, reportsPerPacket[i], "packet " + i + " reported once");
        }
        assertEquals(List.of("connected 1", "disconnected " + STRANDED, "connected 2"), events);
        assertEquals(0, front.poll(this::onComplete, packet -> { }), "closed: final");
        try (var files = Files.list(dir))
        {
            assertTrue(files.noneMatch(p -> p.toString().endsWith(".dev")), "no device file left");
        }
    }

    private NetBack launch()
    {
        return NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BACKOFF).handler(packet -> PacketStatus.OKAY));
    }

    private void drain(final ReconnectingFrontend front, final int total)
    {
        final long deadline = System.nanoTime() + 10_000_000_000L;
        while (reported() < total)
        {
            assertTrue(System.nanoTime() - deadline < 0, "only " + reported() + " of " + total + " packets reported");
            front.poll(this::onComplete, packet -> { });
        }
    }

    private int reported()
    {
        int sum = 0;
        for (final int c : statusCount)
        {
            sum += c;
        }
        return sum;
    }

    private void onComplete(final long correlationId, final PacketStatus status)
    {
        statusCount[status.ordinal()]++;
        reportsPerPacket[(int)correlationId]++;
    }
}

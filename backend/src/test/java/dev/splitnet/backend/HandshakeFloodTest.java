package dev.splitnet.backend;

import dev.splitnet.api.IdleMode;
import dev.splitnet.api.SendResult;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The control plane cannot be used to starve the data plane: thousands of connections that never
 * send a HELLO, and frontends connecting and disconnecting in a loop, while an honest frontend
 * echoes packets. Connect work runs on the conductor's thread; at most {@link Conductor#MAX_PENDING}
 * connections wait for a HELLO (the oldest is evicted), so the honest frontend still connects and
 * its file descriptors stay bounded. The round trips are printed (speed is not asserted here).
 */
class HandshakeFloodTest
{
    private static final int IDLE_CONNECTIONS = 5000;
    private static final long ECHO_SECONDS = 3;

    @TempDir
    Path dir;

    @Test
    void shouldServeAnHonestFrontendThroughAHandshakeFloodAndConnectChurn() throws Exception
    {
        final NetBack[] backend = new NetBack[1];
        backend[0] = NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BACKOFF)
            .handler(packet -> backend[0].deliver(packet.domainId(), packet)));
        final List<SocketChannel> idle = new ArrayList<>();
        final AtomicBoolean churning = new AtomicBoolean(true);
        final int[] churned = new int[1];
        final Thread churn = new Thread(() ->
        {
            while (churning.get())
            {
                try (NetFront front = NetFront.connect(new FrontendContext().directory(dir).name("churn-" + churned[0])
                    .connectTimeoutMs(5000)))
                {
                    churned[0]++;
                }
            }
        }, "churn");
        try (NetBackRunner runner = new NetBackRunner(backend[0], new BackoffIdleStrategy(), Throwable::printStackTrace))
        {
            final UnixDomainSocketAddress address = UnixDomainSocketAddress.of(dir.resolve("backend.sock"));
            for (int i = 0; i < IDLE_CONNECTIONS; i++)
            {
                final SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
                channel.connect(address);
                idle.add(channel);
            }
            final long fdsBefore = openDescriptors();
            try (NetFront honest = NetFront.connect(new FrontendContext().directory(dir).name("honest").connectTimeoutMs(10_000)))
            {
                churn.start();
                final long[] rtt = new long[10_000_000];
                final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(ECHO_SECONDS);
                final UnsafeBuffer header = new UnsafeBuffer(new byte[64]);
                final int[] echoed = new int[1];
                final long[] got = new long[1];
                int echoes = 0;
                for (int i = 0; i < rtt.length && System.nanoTime() - end < 0; i++)
                {
                    header.putLong(0, i);
                    final long start = System.nanoTime();
                    final long deadline = start + TimeUnit.SECONDS.toNanos(10);
                    while (honest.send(header, 0, 64, header, 0, 0, i) != SendResult.SENT)
                    {
                        honest.poll((id, status) -> { }, packet -> { });
                        assertTrue(System.nanoTime() < deadline, "send " + i + " back-pressured for 10 s");
                    }
                    while (echoed[0] == i)
                    {
                        honest.poll((id, status) -> { }, packet ->
                        {
                            got[0] = packet.buffer(0).getLong(0);
                            echoed[0]++;
                        });
                        assertTrue(System.nanoTime() < deadline, "echo " + i + " not back within 10 s");
                    }
                    rtt[i] = System.nanoTime() - start;
                    assertEquals(i, got[0], "echo " + i + " carries its own header");
                    echoes++;
                }
                while (honest.inFlight() > 0)
                {
                    honest.poll((id, status) -> { }, packet -> { });
                }
                churning.set(false);
                churn.join(20_000);
                Arrays.sort(rtt, 0, echoes);
                System.out.printf("handshake flood: %d idle connections, %d churn connects; %d 64 B echoes, rtt p50 %.1f us, "
                    + "p99 %.1f us, max %.1f us%n", IDLE_CONNECTIONS, churned[0], echoes, rtt[echoes / 2] / 1e3,
                    rtt[echoes * 99 / 100] / 1e3, rtt[echoes - 1] / 1e3);
                assertTrue(honest.isConnected());
                assertTrue(churned[0] > 0, "churning frontends connected too");
                assertTrue(backend[0].conductorPendingCount() <= Conductor.MAX_PENDING);
                assertTrue(openDescriptors() - fdsBefore < Conductor.MAX_PENDING + 64,
                    "descriptors grew from " + fdsBefore + " to " + openDescriptors());
            }
        }
        finally
        {
            churning.set(false);
            for (final SocketChannel channel : idle)
            {
                closeQuietly(channel);
            }
        }
    }

    private static long openDescriptors() throws IOException
    {
        try (var fds = Files.list(Path.of("/proc/self/fd")))
        {
            return fds.count();
        }
    }

    private static void closeQuietly(final SocketChannel channel)
    {
        try
        {
            channel.close();
        }
        catch (final IOException ignore)
        {
            // test cleanup
        }
    }
}

package dev.splitnet.it;

import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.SendResult;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A real backend JVM stopped (SIGSTOP: its socket stays open, only the heartbeat in shared memory
 * can tell) or killed (SIGKILL: the socket closes) under a frontend in this JVM that either polls
 * without pause or sleeps in {@code awaitWork(1000)} between polls: the frontend notices within one
 * second of wall time, and every packet it sent gets exactly one status.
 */
class BackendLivenessIT
{
    private static final long NOTICE_LIMIT_MS = 1_000;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "SIG{0} of a {1} backend, frontend {2}")
    @CsvSource({
        "STOP, blocking, polling",
        "STOP, blocking, sleeping",
        "STOP, backoff, polling",
        "KILL, blocking, sleeping",
        "KILL, backoff, polling",
    })
    void shouldNoticeAStoppedOrKilledBackendWithinASecond(final String signal, final String backendIdle, final String frontendIdle)
        throws Exception
    {
        final boolean sleeping = frontendIdle.equals("sleeping");
        try (SplitnetProcess backend = Backends.start("liveness-" + signal + "-" + backendIdle, dir, "--mode", "echo", "--idle", backendIdle);
            NetFront front = NetFront.connect(new FrontendContext().directory(dir).name("watcher")))
        {
            final Traffic traffic = new Traffic(front);
            // traffic, then a quiet second and a half: an idle (blocked) backend still beats
            traffic.run(300, sleeping, true);
            traffic.run(1_500, sleeping, false);
            assertTrue(front.isConnected(), "an idle backend is alive: " + front.disconnectReason());
            assertTrue(traffic.okay > 0, "echoes completed");

            traffic.sendSome();
            signal(backend.pid(), signal);
            final long signalledNs = System.nanoTime();
            final long deadline = signalledNs + TimeUnit.SECONDS.toNanos(5);
            while (front.isConnected() && System.nanoTime() - deadline < 0)
            {
                traffic.step(sleeping, true);
            }
            final long noticedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - signalledNs);
            System.out.printf("liveness: SIG%s of a %s backend, frontend %s: noticed in %d ms (%s)%n",
                signal, backendIdle, frontendIdle, noticedMs, front.disconnectReason());
            assertFalse(front.isConnected(), "still connected 5 s after SIG" + signal);
            assertTrue(noticedMs < NOTICE_LIMIT_MS, "noticed after " + noticedMs + " ms: " + front.disconnectReason());
            assertTrue(front.disconnectReason().contains(signal.equals("STOP") ? "backend heartbeat stopped" : "backend closed the connection"),
                front.disconnectReason());
            traffic.step(false, false);
            assertEquals(0, front.inFlight());
            assertEquals(traffic.sent, traffic.okay + traffic.disconnected + traffic.other, "one status per packet sent");
            if (signal.equals("STOP"))
            {
                signal(backend.pid(), "CONT");
            }
        }
    }

    private static void signal(final long pid, final String signal) throws Exception
    {
        final Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        assertEquals(0, kill.waitFor(), "kill -" + signal + " " + pid);
    }

    /** Echo traffic with a small window, counting completions by status. */
    private static final class Traffic
    {
        private final NetFront front;
        private final UnsafeBuffer bytes = new UnsafeBuffer(new byte[2048]);
        long sent;
        long okay;
        long disconnected;
        long other;

        Traffic(final NetFront front)
        {
            this.front = front;
        }

        void run(final long millis, final boolean sleeping, final boolean sending)
        {
            final long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            while (System.nanoTime() - end < 0)
            {
                step(sleeping, sending);
            }
        }

        void sendSome()
        {
            while (front.inFlight() < 8 && front.send(bytes, 0, 64, bytes, 64, 1000, sent) == SendResult.SENT)
            {
                sent++;
            }
        }

        void step(final boolean sleeping, final boolean sending)
        {
            if (sending)
            {
                sendSome();
            }
            if (sleeping)
            {
                front.awaitWork(1_000);
            }
            front.poll((id, status) ->
            {
                if (status == PacketStatus.OKAY)
                {
                    okay++;
                }
                else if (status == PacketStatus.DISCONNECTED)
                {
                    disconnected++;
                }
                else
                {
                    other++;
                }
            }, packet -> { });
        }
    }
}

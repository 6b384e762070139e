package dev.splitnet.it;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static dev.splitnet.it.SplitnetProcess.value;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Local delivery without netloop, across two JVMs: {@code splitnet backend --mode local} holds
 * every packet in the sending frontend's grants for --hold-ms, then reads and checks every byte
 * (a packet that fails its checksum is completed ERROR, so the frontend's error count is the
 * consumer's verdict). Held for less than the copy deadline no packet is copied; held longer each
 * is copied exactly once, and its copy still reads intact.
 */
class LocalDeliveryIT
{
    @TempDir
    Path dir;

    @Test
    void shouldHoldEveryPacketWithoutACopyWhenTheHoldIsShorterThanTheDeadline() throws Exception
    {
        try (SplitnetProcess backend = startBackend("local-short", "--hold-ms", "50");
            SplitnetProcess frontend = frontend("local-short-frontend", "--count", "1000"))
        {
            assertEquals(0, frontend.waitFor(60), frontend.stderr());
            final String summary = frontend.lastLine();
            assertEquals(1000, value(summary, "okay"), "every packet completed OKAY by the consumer, which checked its bytes: " + summary);
            assertEquals(1000, value(summary, "held_packets"), summary);
            assertEquals(1000, value(summary, "held_completed_no_copy"), "no packet copied: " + summary);
            assertEquals(0, value(summary, "held_copied_deadline") + value(summary, "held_copied_pressure"), summary);
            assertEquals(0, value(summary, "payload_bytes_copied"), "the checks read the grants in place: " + summary);
            assertEquals(0, value(summary, "error") + value(summary, "dropped"), summary);
            assertConsumerChecked(backend, 1000);
        }
    }

    @Test
    void shouldCopyEachPacketHeldPastTheDeadlineOnceAndStillReadItIntact() throws Exception
    {
        try (SplitnetProcess backend = startBackend("local-long", "--hold-ms", "800", "--copy-deadline-ms", "100",
            "--copy-memory-per-frontend-kib", "4096");
            SplitnetProcess frontend = frontend("local-long-frontend", "--count", "300"))
        {
            assertEquals(0, frontend.waitFor(60), frontend.stderr());
            final String summary = frontend.lastLine();
            assertEquals(300, value(summary, "okay"), "answered OKAY when copied: " + summary);
            assertEquals(300, value(summary, "held_packets"), summary);
            assertEquals(300, value(summary, "held_copied_deadline"), "each copied once, at the deadline: " + summary);
            assertEquals(0, value(summary, "held_completed_no_copy") + value(summary, "held_dropped_bound"), summary);
            // the consumer reads the copies 700 ms after the frontend got its answers and reused its frames
            assertConsumerChecked(backend, 300);
        }
    }

    private SplitnetProcess startBackend(final String logName, final String... extra) throws Exception
    {
        final String[] args = new String[5 + extra.length];
        args[0] = "backend";
        args[1] = "--dir";
        args[2] = dir.toString();
        args[3] = "--mode";
        args[4] = "local";
        System.arraycopy(extra, 0, args, 5, extra.length);
        // not --quiet: its progress line says what the consumer checked
        final SplitnetProcess backend = SplitnetProcess.start(logName, args);
        final long deadline = System.nanoTime() + 30_000_000_000L;
        while (!Files.exists(dir.resolve("backend.sock")))
        {
            assertTrue(backend.isAlive() && System.nanoTime() < deadline, "backend did not start: " + backend.stderr());
            Thread.sleep(20);
        }
        return backend;
    }

    private SplitnetProcess frontend(final String logName, final String... extra) throws Exception
    {
        // one request a packet (frame spans) and 32 in flight: an eighth of the ring, never under pressure
        final String[] base = { "frontend", "--dir", dir.toString(), "--name", "held", "--max-size", "9000",
            "--window", "32", "--quiet", "--linger", "0", "--seed", "11" };
        final String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return SplitnetProcess.start(logName, args);
    }

    /** Waits for the backend's progress line to show {@code packets} checked intact and none failed. */
    private static void assertConsumerChecked(final SplitnetProcess backend, final long packets) throws InterruptedException
    {
        final long deadline = System.nanoTime() + 15_000_000_000L;
        String line = "";
        while (System.nanoTime() < deadline)
        {
            line = backend.stderr().lines().filter(l -> l.startsWith("[backend]")).reduce((a, b) -> b).orElse("");
            if (line.contains("local_checked=" + packets + " "))
            {
                break;
            }
            Thread.sleep(100);
        }
        assertTrue(line.contains("local_checked=" + packets + " "), "the consumer checked every packet: " + line);
        assertTrue(line.contains("local_failures=0 "), line);
        assertTrue(line.contains("local_dropped_by_backend=0"), line);
    }
}

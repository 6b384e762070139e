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
    /** Adjacent pairs of runs (instant consumer, then holding) the sender's rate is compared in, at most. */
    private static final int RATE_PAIRS = 5;
    /**
     * The least share of its paired instant run every held run must keep, whatever the placement: a
     * sender the holder stalls stays far under it (pressure relief disabled: 1,536 packets in 3 s, only
     * what the copy deadline freed, against 3,493,793 instant, x0.0004).
     */
    private static final double STALL_BOUND = 0.1;

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
            assertConsumerChecked(backend, 1000, 0);
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
            assertConsumerChecked(backend, 300, 0);
        }
    }

    /**
     * The seed's promise: a slow local consumer never stalls the guest. A consumer holds every
     * packet 5 s while the frontend sends at full rate for 3 s: the frontend keeps at least half the
     * rate it has with a consumer that completes at once, because the backend copies (or, past its
     * copy memory, drops) what the ring cannot keep; every packet held is accounted for, and every
     * copy the consumer reads 5 s later is intact.
     *
     * <p>The rate is compared within a pair of adjacent runs, up to {@link #RATE_PAIRS} pairs: on a
     * VM whose two vCPUs move between near and far cores, one 3 s run can land on a slow placement
     * (x0.35 once in CI, x0.25 and x0.38 in two pairs of another, where the third gave x0.98; x0.66-1.01
     * in every direct run on record). A sender the holder really stalls fails every pair, and fails
     * at once: each held run must keep {@link #STALL_BOUND} of its pair's rate; every held run is
     * checked in full whatever its rate.
     */
    @Test
    void shouldKeepTheSenderAtHalfItsRateWhileAConsumerHoldsEveryPacketFiveSeconds() throws Exception
    {
        final StringBuilder pairs = new StringBuilder();
        for (int pair = 1; pair <= RATE_PAIRS; pair++)
        {
            final long instant = sentInThreeSeconds("local-instant-" + pair, "0");
            final long held = sentInThreeSecondsHeldFiveSeconds(pair);
            System.out.printf("[local-delivery] pair %d: 3 s at full rate: %d packets sent with an instant consumer, %d with one "
                + "holding 5 s (x%.2f)%n", pair, instant, held, (double)held / instant);
            pairs.append(String.format(" pair %d: %d held against %d instant;", pair, held, instant));
            assertTrue(held >= instant * STALL_BOUND, "a consumer holding every packet stalled the sender:" + pairs);
            if (held >= instant / 2)
            {
                return;
            }
        }
        fail("a consumer holding every packet kept the sender under half its rate in all " + RATE_PAIRS + " pairs of runs:" + pairs);
    }

    /** One 3 s run at full rate to a consumer holding 5 s, every packet accounted for; returns the packets sent. */
    private long sentInThreeSecondsHeldFiveSeconds(final int pair) throws Exception
    {
        try (SplitnetProcess backend = startBackend("local-5s-" + pair, "--hold-ms", "5000", "--copy-memory-per-frontend-kib", "65536");
            SplitnetProcess frontend = frontend("local-5s-frontend-" + pair, 1000, 1024, "--duration", "3"))
        {
            assertEquals(0, frontend.waitFor(60), frontend.stderr());
            final String summary = frontend.lastLine();
            final long sent = value(summary, "sent");
            System.out.printf("[local-delivery] held run %d: copied late by pressure %d, by deadline %d, dropped at the bound %d%n", pair,
                value(summary, "held_copied_pressure"), value(summary, "held_copied_deadline"), value(summary, "held_dropped_bound"));
            assertEquals(sent, value(summary, "held_packets"), summary);
            final long copied = value(summary, "held_copied_pressure") + value(summary, "held_copied_deadline");
            final long dropped = value(summary, "held_dropped_bound");
            assertEquals(sent, copied + dropped, "every packet held past the deadline copied late or dropped at the bound: " + summary);
            assertEquals(0, value(summary, "held_completed_no_copy"), summary);
            assertEquals(sent, value(summary, "okay") + value(summary, "dropped"), summary);
            assertEquals(dropped, value(summary, "dropped"), "each DROPPED is a drop at the copy bound: " + summary);
            assertConsumerChecked(backend, copied, dropped);
            return sent;
        }
    }

    /** Packets a frontend sends in 3 s at full rate to a local consumer holding {@code holdMs}. */
    private long sentInThreeSeconds(final String logName, final String holdMs) throws Exception
    {
        try (SplitnetProcess backend = startBackend(logName, "--hold-ms", holdMs);
            SplitnetProcess frontend = frontend(logName + "-frontend", 1000, 1024, "--duration", "3"))
        {
            assertEquals(0, frontend.waitFor(60), frontend.stderr());
            final String summary = frontend.lastLine();
            assertEquals(value(summary, "sent"), value(summary, "okay"), summary);
            return value(summary, "sent");
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

    /** One request a packet (frame spans) and 32 in flight: an eighth of the ring, never under pressure. */
    private SplitnetProcess frontend(final String logName, final String... extra) throws Exception
    {
        return frontend(logName, 9000, 32, extra);
    }

    private SplitnetProcess frontend(final String logName, final int maxSize, final int window, final String... extra) throws Exception
    {
        final String[] base = { "frontend", "--dir", dir.toString(), "--name", "held", "--max-size", String.valueOf(maxSize),
            "--window", String.valueOf(window), "--quiet", "--linger", "0", "--seed", "11" };
        final String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return SplitnetProcess.start(logName, args);
    }

    /**
     * Waits for the backend's progress line to show {@code packets} checked intact, none failed, and
     * {@code dropped} found dropped by the backend when the consumer came to read them.
     */
    private static void assertConsumerChecked(final SplitnetProcess backend, final long packets, final long dropped)
        throws InterruptedException
    {
        final long deadline = System.nanoTime() + 30_000_000_000L;
        String line = "";
        while (System.nanoTime() < deadline)
        {
            line = backend.stderr().lines().filter(l -> l.startsWith("[backend]")).reduce((a, b) -> b).orElse("");
            // both: the consumer visits the copies and the dropped handles in hold order, 5 s each
            if (line.contains("local_checked=" + packets + " ") && line.endsWith("local_dropped_by_backend=" + dropped))
            {
                break;
            }
            Thread.sleep(100);
        }
        assertTrue(line.contains("local_checked=" + packets + " "), "the consumer checked every packet: " + line);
        assertTrue(line.contains("local_failures=0 "), line);
        assertTrue(line.endsWith("local_dropped_by_backend=" + dropped), line);
    }
}

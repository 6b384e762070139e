package dev.splitnet.backend.fuzz;

import dev.splitnet.mmap.DeviceCounter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fuzzer in the normal test run: while a bystander and an offender send traffic through one
 * backend, a hostile writer corrupts at least {@code -Dsplitnet.fuzz.fields} (default 1,000,000)
 * fields of the offender's device file, truncates and regrows it and floods the backend's socket.
 * The backend must keep its duty cycle up with nothing reaching its error handler, disconnect the
 * offender only with a logged reason, never write the bystander's memory but where it may, and
 * the bystander's every byte and every packet's status must be right. The seed is printed;
 * {@code -Dsplitnet.fuzz.seed=N} reruns the same corruption sequence (see {@link FuzzRun} for what
 * timing still changes). {@code scripts/fuzz} runs the same for hours.
 *
 * <p>Truncating and regrowing the offender's file is off in this run ({@code
 * -Dsplitnet.fuzz.truncate=true} turns it on): HotSpot raises the SIGBUS of a truncated mapping as
 * an asynchronous {@code InternalError} at a later, unpredictable point (seen here hundreds of loop
 * rounds after the access), so a fault of the offender's memory can surface inside a bystander's
 * packet. The backend then puts it down to the right frontend (its file has a hole) but cannot
 * undo what the interrupted code was doing; see README "Reliability" for what is left to do.
 */
class HostileFrontendFuzzTest
{
    @TempDir
    Path dir;

    @Test
    void backendSurvivesAHostileFrontendAndTheBystanderIsUntouched()
    {
        final long seed = FuzzRun.seedFromProperties();
        final long fields = Long.getLong(FuzzRun.FIELDS_PROP, 1_000_000L);
        final boolean cross = !"false".equals(System.getProperty(FuzzRun.CROSS_PROP));
        final boolean truncate = Boolean.getBoolean(FuzzRun.TRUNCATE_PROP);
        final FuzzAccounting accounting = new FuzzRun(dir, seed, fields, cross, truncate, Long.getLong(FuzzRun.PROGRESS_PROP, 10),
            Boolean.getBoolean(FuzzRun.LOG_PROP), System.out).run();
        assertFalse(accounting.failed(), () -> "fuzz seed " + seed + " failed after " + String.format("%,d", accounting.fields())
            + " fields (rerun with -D" + FuzzRun.SEED_PROP + "=" + seed + "): " + String.join("; ", accounting.violations()));
        // four in fourteen episodes offer ring v2 (Offender.FEATURE_CHOICES): both ring formats were fuzzed
        assertTrue(accounting.ringV2Episodes.sum() > 0 && accounting.ringV2Episodes.sum() < accounting.episodes.sum(),
            "episodes on ring v2: " + accounting.ringV2Episodes.sum() + " of " + accounting.episodes.sum());
        // three in fourteen offer lazy-rx to a backend in lazy mode: frames were lent to hostile frontends
        assertTrue(accounting.lazyRxEpisodes.sum() > 0, "episodes with lazy-rx: " + accounting.lazyRxEpisodes.sum());
        assertTrue(accounting.offenderCounter(DeviceCounter.RX_FLIPS.key()) > 0, "no frame was lent to an offender");
        // two in fourteen offer rx-spans
        assertTrue(accounting.rxSpansEpisodes.sum() > 0, "episodes with rx-spans: " + accounting.rxSpansEpisodes.sum());
    }

    /**
     * The same with a switch that holds half the packets it may hold past its handler (issue 11:
     * offender packets and bystander packets it would not echo) and completes them up to 40 ms
     * later in shuffled order with random statuses, with a 20 ms copy deadline, a quarter of the
     * ring as pressure share and 128 KiB of copy memory per frontend: late copies at the deadline,
     * under pressure and at the offender's disconnects, and drops at the bound and the 35 ms drop
     * limit, all happen. Fewer fields ({@code -Dsplitnet.fuzz.hold.fields}, default 300,000) keep
     * CI time short; {@code scripts/fuzz --hold} runs it for hours.
     */
    @Test
    void backendSurvivesAHostileFrontendWhileItsConsumerHoldsPackets()
    {
        final long seed = FuzzRun.seedFromProperties();
        final long fields = Long.getLong("splitnet.fuzz.hold.fields", 300_000L);
        final boolean cross = !"false".equals(System.getProperty(FuzzRun.CROSS_PROP));
        final FuzzAccounting accounting = new FuzzRun(dir, seed, fields, cross, false, Long.getLong(FuzzRun.PROGRESS_PROP, 10),
            Boolean.getBoolean(FuzzRun.LOG_PROP), System.out).hold(true).run();
        assertFalse(accounting.failed(), () -> "holding fuzz seed " + seed + " failed after " + String.format("%,d", accounting.fields())
            + " fields (rerun with -D" + FuzzRun.SEED_PROP + "=" + seed + "): " + String.join("; ", accounting.violations()));
    }
}

package dev.splitnet.backend.fuzz;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertFalse;

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
 * <p>Not yet in the default run ({@code -Dsplitnet.fuzz=true} runs it): it still finds two open
 * defects that make it fail intermittently (a memory fault the JVM delivers late, inside another
 * frontend's packet, fails a bystander packet with ERROR; and a stall at the end of a run in which
 * neither the bystander's last packets nor the offender's last close are seen), and a test that
 * fails at random cannot guard the build. See README "Reliability".
 */
@EnabledIfSystemProperty(named = "splitnet.fuzz", matches = "true",
    disabledReason = "the fuzzer still finds open defects; run it with -Dsplitnet.fuzz=true (README, Reliability)")
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
        final boolean truncate = !"false".equals(System.getProperty(FuzzRun.TRUNCATE_PROP));
        final FuzzAccounting accounting = new FuzzRun(dir, seed, fields, cross, truncate, Long.getLong(FuzzRun.PROGRESS_PROP, 10),
            Boolean.getBoolean(FuzzRun.LOG_PROP), System.out).run();
        assertFalse(accounting.failed(), () -> "fuzz seed " + seed + " failed after " + String.format("%,d", accounting.fields())
            + " fields (rerun with -D" + FuzzRun.SEED_PROP + "=" + seed + "): " + String.join("; ", accounting.violations()));
    }
}

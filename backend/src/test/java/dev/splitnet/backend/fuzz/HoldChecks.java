package dev.splitnet.backend.fuzz;

import dev.splitnet.mmap.BackendCounters;
import dev.splitnet.mmap.DeviceCounter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The holding mode's checks once the bystander has drained: the holder completes everything it
 * held and the backend holds nothing ({@code heldCount()} back to 0), every held bystander packet
 * was settled on both sides, and the backend's own counters for the bystander agree with what the
 * holder and the bystander saw (every hold counted, no more late OKAYs than late copies, every
 * packet held ended one way: completed, copied or dropped).
 */
final class HoldChecks
{
    private static final long QUIET_DEADLINE_NS = TimeUnit.SECONDS.toNanos(10);

    private final FuzzAccounting accounting;
    private final HeldLedger ledger;
    private final Holder holder;
    private final Path dir;
    private final int bystanderDomain;

    HoldChecks(final FuzzAccounting accounting, final HeldLedger ledger, final Holder holder, final Path dir, final int bystanderDomain)
    {
        this.accounting = accounting;
        this.ledger = ledger;
        this.holder = holder;
        this.dir = dir;
        this.bystanderDomain = bystanderDomain;
    }

    void afterQuiet()
    {
        final long deadline = System.nanoTime() + QUIET_DEADLINE_NS;
        while ((holder.outstanding() != 0 || holder.backendHeld() != 0 || ledger.open() != 0) && System.nanoTime() - deadline < 0)
        {
            LockSupport.parkNanos(10_000_000);
        }
        if (holder.outstanding() != 0 || holder.backendHeld() != 0 || ledger.open() != 0)
        {
            accounting.violation("10 s after the traffic stopped the holder still holds " + holder.outstanding() + " packets, the backend's heldCount() is "
                + holder.backendHeld() + " and " + ledger.open() + " held bystander packets are unsettled (" + ledger.summary() + ")");
        }
        final Map<DeviceCounter, Long> c = BackendCounters.read(dir).get(bystanderDomain);
        if (c == null)
        {
            accounting.violation("the backend's counters file has no block for the bystander (domain " + bystanderDomain + ")");
            return;
        }
        final long held = c.getOrDefault(DeviceCounter.HELD_PACKETS, 0L);
        final long noCopy = c.getOrDefault(DeviceCounter.HELD_COMPLETED_NO_COPY, 0L);
        final long deadlineCopies = c.getOrDefault(DeviceCounter.HELD_COPIED_DEADLINE, 0L);
        final long pressureCopies = c.getOrDefault(DeviceCounter.HELD_COPIED_PRESSURE, 0L);
        final long disconnectCopies = c.getOrDefault(DeviceCounter.HELD_COPIED_DISCONNECT, 0L);
        final long copies = deadlineCopies + pressureCopies + disconnectCopies;
        final long droppedBound = c.getOrDefault(DeviceCounter.HELD_DROPPED_BOUND, 0L);
        final long droppedLimit = c.getOrDefault(DeviceCounter.HELD_DROPPED_LIMIT, 0L);
        final long heldNow = c.getOrDefault(DeviceCounter.HELD_NOW, 0L);
        final long copyBytes = c.getOrDefault(DeviceCounter.COPY_MEMORY_BYTES, 0L);
        accounting.heldSummary = "bystander: " + ledger.summary() + "; backend counters: held_packets=" + held + " held_completed_no_copy=" + noCopy
            + " held_copied_deadline=" + deadlineCopies + " held_copied_pressure=" + pressureCopies + " held_copied_disconnect=" + disconnectCopies
            + " held_dropped_bound=" + droppedBound + " held_dropped_limit=" + droppedLimit + " held_now=" + heldNow + " copy_memory_bytes=" + copyBytes;
        if (held != ledger.heldCount())
        {
            accounting.violation("the backend counted held_packets=" + held + " for the bystander, its holder held " + ledger.heldCount());
        }
        // each held packet is either completed before any copy, or copied (then completed or dropped), or dropped while held
        if (noCopy + copies + droppedBound < held || noCopy > ledger.completedByHolder())
        {
            accounting.violation("the bystander's held packets do not add up: held_packets=" + held + " but completed_no_copy=" + noCopy
                + " + copied=" + copies + " + dropped_bound=" + droppedBound + "; the holder completed " + ledger.completedByHolder());
        }
        if (ledger.okayBeforeCompletion() > copies)
        {
            accounting.violation("the bystander heard OKAY for " + ledger.okayBeforeCompletion() + " held packets its holder had not completed OKAY,"
                + " but the backend copied only " + copies + " late");
        }
        if (ledger.droppedByBackendCount() > droppedBound + droppedLimit)
        {
            accounting.violation("the holder found " + ledger.droppedByBackendCount() + " held bystander packets dropped, the backend counted "
                + (droppedBound + droppedLimit));
        }
        if (heldNow != 0 || copyBytes != 0)
        {
            accounting.violation("the bystander's gauges held_now=" + heldNow + " copy_memory_bytes=" + copyBytes + " after every held packet was completed");
        }
        if (ledger.heldCount() > 0 && deadlineCopies == 0)
        {
            accounting.violation("no held bystander packet was copied late at the deadline (" + ledger.heldCount() + " held, deadline "
                + FuzzRun.HOLD_COPY_DEADLINE_MS + " ms, held up to twice that): the holding mode does not test late copies");
        }
    }
}

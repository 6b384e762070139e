package dev.splitnet.backend.fuzz;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * What a fuzz run did and saw, shared by its threads: fields written per region, offender
 * episodes and how each ended, the bystander's packets by status, and every violation of the
 * run's properties. Printed as progress lines and as the final accounting.
 */
public final class FuzzAccounting
{
    private final long startNs = System.nanoTime();
    private final AtomicLongArray fieldsByRegion = new AtomicLongArray(Region.values().length);
    private final LongAdder fields = new LongAdder();
    private final Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();

    final LongAdder episodes = new LongAdder();
    final LongAdder truncations = new LongAdder();
    /** Resizes of sealed memory tried and refused by the kernel. */
    final LongAdder truncationsRefused = new LongAdder();
    final LongAdder sealedEpisodes = new LongAdder();
    /** Episodes whose offender negotiated ring v2 (its ring regions corrupted by RingV2Corrupter). */
    final LongAdder ringV2Episodes = new LongAdder();
    /** Episodes whose offender negotiated lazy receive (backend frames lent to it through its P2M). */
    final LongAdder lazyRxEpisodes = new LongAdder();
    /** Episodes whose offender negotiated rx-spans (receive buffers of several frames). */
    final LongAdder rxSpansEpisodes = new LongAdder();
    final LongAdder floods = new LongAdder();
    final LongAdder floodBytes = new LongAdder();
    final LongAdder offenderPackets = new LongAdder();
    final LongAdder handled = new LongAdder();

    final LongAdder bystanderSent = new LongAdder();
    final LongAdder bystanderOkay = new LongAdder();
    final LongAdder bystanderError = new LongAdder();
    final LongAdder bystanderErrorExplained = new LongAdder();
    final LongAdder bystanderDropped = new LongAdder();
    final LongAdder bystanderDisconnected = new LongAdder();
    final LongAdder bystanderEchoes = new LongAdder();
    final LongAdder bystanderForeign = new LongAdder();
    final LongAdder bystanderBytesChecked = new LongAdder();

    // holding mode: packets held past the handler, completed by the holder, found dropped by the
    // backend, offender grants that faulted under a hold or a held read, held bystander bytes read
    final LongAdder heldPackets = new LongAdder();
    final LongAdder heldCompleted = new LongAdder();
    final LongAdder heldDroppedByBackend = new LongAdder();
    final LongAdder heldOffenderFaults = new LongAdder();
    final LongAdder heldBystanderBytesChecked = new LongAdder();
    /** The holding mode's bystander ledger and backend counters, for the report (null when not holding). */
    volatile String heldSummary;

    void fields(final Region region, final int n)
    {
        fieldsByRegion.addAndGet(region.ordinal(), n);
        fields.add(n);
    }

    /** Fields written so far. */
    public long fields()
    {
        return fields.sum();
    }

    private final Map<String, LongAdder> offenderCounters = new ConcurrentHashMap<>();

    void offenderCounter(final String key, final long value)
    {
        offenderCounters.computeIfAbsent(key, k -> new LongAdder()).add(value);
    }

    /** The sum over all episodes of an offender counter ({@link DeviceCounter#key()}), 0 when never read. */
    long offenderCounter(final String key)
    {
        final LongAdder sum = offenderCounters.get(key);
        return sum == null ? 0 : sum.sum();
    }

    void outcome(final String what)
    {
        outcomes.computeIfAbsent(what, k -> new LongAdder()).increment();
    }

    /** Records a broken property; the run stops soon after the first. */
    void violation(final String what)
    {
        if (violations.size() < 100)
        {
            violations.add(what);
        }
    }

    /** The violations seen, oldest first (at most 100). */
    public List<String> violations()
    {
        return new ArrayList<>(violations);
    }

    public boolean failed()
    {
        return !violations.isEmpty();
    }

    public double seconds()
    {
        return (System.nanoTime() - startNs) / 1e9;
    }

    /** One progress line: fields, rate, offender outcomes, bystander statuses. */
    public String progressLine()
    {
        final double s = seconds();
        return String.format("fuzz %.0fs: %,d fields (%,.0f/s), %,d episodes (%,d sealed), %,d truncations, %,d sealed resizes refused,"
            + " %,d floods; offender %s; bystander sent=%,d okay=%,d error=%,d dropped=%,d echoes=%,d foreign=%,d; held=%,d",
            s, fields(), fields() / Math.max(s, 1e-3), episodes.sum(), sealedEpisodes.sum(), truncations.sum(), truncationsRefused.sum(),
            floods.sum(), outcomeSummary(),
            bystanderSent.sum(), bystanderOkay.sum(), bystanderError.sum(), bystanderDropped.sum(), bystanderEchoes.sum(),
            bystanderForeign.sum(), heldPackets.sum());
    }

    private String outcomeSummary()
    {
        final StringBuilder sb = new StringBuilder("{");
        new TreeMap<>(outcomes).forEach((k, v) -> sb.append(sb.length() > 1 ? ", " : "").append(k).append('=').append(v.sum()));
        return sb.append('}').toString();
    }

    /** The final accounting, several lines. */
    public String report(final long seed)
    {
        final StringBuilder sb = new StringBuilder();
        sb.append(String.format("fuzz seed %d: %,d fields in %.1f s (%,.0f fields/s), %,d episodes (%,d with sealed memory, %,d on ring v2, %,d with lazy-rx, %,d with rx-spans), %,d truncate-and-regrow, %,d sealed resizes refused, %,d floods (%,d bytes), %,d offender packets sent, %,d packets handled%n",
            seed, fields(), seconds(), fields() / Math.max(seconds(), 1e-3), episodes.sum(), sealedEpisodes.sum(), ringV2Episodes.sum(), lazyRxEpisodes.sum(), rxSpansEpisodes.sum(),
            truncations.sum(),
            truncationsRefused.sum(), floods.sum(),
            floodBytes.sum(), offenderPackets.sum(), handled.sum()));
        sb.append("  fields by region:");
        for (final Region r : Region.values())
        {
            sb.append(' ').append(r.name().toLowerCase()).append('=').append(fieldsByRegion.get(r.ordinal()));
        }
        sb.append(System.lineSeparator()).append("  offender's backend counters, all episodes:");
        new TreeMap<>(offenderCounters).forEach((k, v) -> sb.append(' ').append(k).append('=').append(v.sum()));
        sb.append(System.lineSeparator()).append("  offender episodes ended by:");
        new TreeMap<>(outcomes).forEach((k, v) -> sb.append(System.lineSeparator()).append("    ").append(v.sum()).append("  ").append(k));
        sb.append(System.lineSeparator()).append(String.format(
            "  bystander: sent=%,d okay=%,d error=%,d (explained by a late truncation fault: %,d) dropped=%,d disconnected=%,d;"
            + " echoes checked=%,d, foreign packets=%,d, bytes checked=%,d; accounted: %s",
            bystanderSent.sum(), bystanderOkay.sum(), bystanderError.sum(), bystanderErrorExplained.sum(), bystanderDropped.sum(),
            bystanderDisconnected.sum(), bystanderEchoes.sum(), bystanderForeign.sum(), bystanderBytesChecked.sum(),
            bystanderSent.sum() == bystanderOkay.sum() + bystanderError.sum() + bystanderDropped.sum() ? "yes" : "NO"));
        if (heldPackets.sum() > 0 || heldSummary != null)
        {
            sb.append(System.lineSeparator()).append(String.format(
                "  holding: held=%,d completed by the holder=%,d found dropped by the backend=%,d offender grant faults=%,d held bystander bytes checked=%,d",
                heldPackets.sum(), heldCompleted.sum(), heldDroppedByBackend.sum(), heldOffenderFaults.sum(), heldBystanderBytesChecked.sum()));
            if (heldSummary != null)
            {
                sb.append(System.lineSeparator()).append("    ").append(heldSummary);
            }
        }
        sb.append(System.lineSeparator()).append(violations.isEmpty() ? "  no violations" : "  VIOLATIONS:");
        for (final String v : violations)
        {
            sb.append(System.lineSeparator()).append("    ").append(v);
        }
        return sb.toString();
    }
}

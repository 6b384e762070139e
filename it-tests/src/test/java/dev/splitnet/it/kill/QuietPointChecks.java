package dev.splitnet.it.kill;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The checks of one quiet point of {@link KillHarness}, on the frontends' reports (one line of
 * {@code key=value} fields each, see {@link KillHarnessFrontend}) and on what the processes and
 * the directory hold; a failed check adds a violation to the run's result.
 */
final class QuietPointChecks
{
    /** A device file being created: {@code .NAME.dev.PID.tmp}, renamed to NAME.dev when complete. */
    private static final java.util.regex.Pattern CREATION_TEMP = java.util.regex.Pattern.compile("\\..+\\.dev\\.[0-9]+\\.tmp");
    private static final Set<String> BACKEND_FILES = Set.of("backend.sock", "backend.lock", "backend.counters");

    private final Path dir;
    private final KillHarness.Result result;
    // frontends (slot, incarnation) that reported at the previous quiet point: there all window
    private final Set<Long> presentAtWindowStart = new HashSet<>();
    private ProcView backendBaseline;
    private ProcView[] frontendBaseline;

    QuietPointChecks(final Path dir, final KillHarness.Result result)
    {
        this.dir = dir;
        this.result = result;
    }

    /** Runs every check on the reports of one quiet point ({@code where} names it in violations). */
    void check(final String where, final List<Map<String, String>> reports, final long backendPid, final int backendIncarnation,
        final long[] pids, final int[] incarnation) throws IOException
    {
        for (final Map<String, String> report : reports)
        {
            checkReport(where, report);
        }
        for (final Map<String, String> sender : reports)
        {
            checkDelivery(where, sender, reports);
        }
        checkHeld(where, reports, backendIncarnation);
        checkFiles(where, pids);
        checkProcesses(where, backendPid, backendIncarnation, pids, incarnation);
        presentAtWindowStart.clear();
        for (final Map<String, String> report : reports)
        {
            presentAtWindowStart.add(KillHarness.key(number(report, "slot"), number(report, "incarnation")));
        }
    }

    /**
     * The backend holds none of a quiet frontend's packets (its local consumer completes each
     * after --hold-ms; within 2 s, for a loaded machine), and its hold counters, summed over its
     * frontends' blocks, go into the run's figures (lower bounds: a block is reused by a later domain).
     */
    private void checkHeld(final String where, final List<Map<String, String>> reports, final int backendIncarnation)
        throws IOException
    {
        final long deadline = System.nanoTime() + 2_000_000_000L;
        while (true)
        {
            final Map<Integer, Map<dev.splitnet.mmap.DeviceCounter, Long>> blocks;
            try
            {
                blocks = dev.splitnet.mmap.BackendCounters.read(dir);
            }
            catch (final RuntimeException ex)
            {
                result.violations.add(where + ": the backend's counters file cannot be read: " + ex);
                return;
            }
            final StringBuilder stillHeld = new StringBuilder();
            for (final Map<String, String> r : reports)
            {
                final Map<dev.splitnet.mmap.DeviceCounter, Long> c = blocks.get(number(r, "domain"));
                final long heldNow = c == null ? 0 : c.getOrDefault(dev.splitnet.mmap.DeviceCounter.HELD_NOW, 0L);
                final long copyBytes = c == null ? 0 : c.getOrDefault(dev.splitnet.mmap.DeviceCounter.COPY_MEMORY_BYTES, 0L);
                if (heldNow != 0 || copyBytes != 0)
                {
                    stillHeld.append(" fe").append(r.get("slot")).append(" (domain ").append(r.get("domain")).append("): held_now=")
                        .append(heldNow).append(" copy_memory_bytes=").append(copyBytes);
                }
            }
            if (stillHeld.length() == 0)
            {
                result.heldFigures(backendIncarnation, blocks);
                return;
            }
            if (System.nanoTime() - deadline > 0)
            {
                result.violations.add(where + ": the backend still holds packets of quiet frontends 2 s after they went quiet:" + stillHeld);
                return;
            }
            try
            {
                Thread.sleep(20);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private Path deviceFile(final int slot)
    {
        return dir.resolve("fe" + slot + ".dev");
    }

    private void checkReport(final String where, final Map<String, String> r)
    {
        final String who = "fe" + r.get("slot") + "#" + r.get("incarnation") + " " + where;
        final long sent = count(r, "sent");
        final long sum = count(r, "okay") + count(r, "error") + count(r, "dropped") + count(r, "disconnected");
        if (sent != sum || number(r, "inflight") != 0)
        {
            result.violations.add(who + ": sent=" + sent + " but okay+error+dropped+disconnected=" + sum + ", in flight " + r.get("inflight"));
        }
        final long localSent = count(r, "localsent");
        final long localSum = count(r, "localokay") + count(r, "localerror") + count(r, "localdropped") + count(r, "localdisconnected");
        if (localSent != localSum)
        {
            result.violations.add(who + ": localsent=" + localSent + " to the backend's local consumer but localokay+localerror+localdropped"
                + "+localdisconnected=" + localSum);
        }
        // the local consumer completes ERROR only when a byte it read differs from what was sent
        for (final String zero : List.of("integrity", "duplicates", "ids", "slots", "frames", "localerror"))
        {
            if (number(r, zero) != 0)
            {
                result.violations.add(who + ": " + zero + "=" + r.get(zero) + " (expected 0)");
            }
        }
        if (number(r, "rxposted") != number(r, "rxpostable"))
        {
            result.violations.add(who + ": " + r.get("rxposted") + " of " + r.get("rxpostable") + " RX buffers posted when quiet");
        }
        if (number(r, "grantsinuse") != number(r, "permanentgrants"))
        {
            result.violations.add(who + ": " + r.get("grantsinuse") + " grant entries in use by the backend when quiet, but it keeps "
                + r.get("permanentgrants") + " permanent grants");
        }
    }

    /**
     * Every packet the sender saw OKAY this window arrived at a receiver that was there all window;
     * nothing arrived that the sender did not send (and see OKAY, or lose to a disconnect).
     */
    private void checkDelivery(final String where, final Map<String, String> sender, final List<Map<String, String>> reports)
    {
        final int senderSlot = number(sender, "slot");
        final int senderIncarnation = number(sender, "incarnation");
        final Map<Integer, BitSet[]> streams = new HashMap<>();
        for (final String stream : sender.get("tx").split(";"))
        {
            final int colon = stream.indexOf(':');
            final int slash = stream.indexOf('/');
            streams.put(Integer.parseInt(stream.substring(0, colon)),
                new BitSet[] { Ranges.decode(stream.substring(colon + 1, slash)), Ranges.decode(stream.substring(slash + 1)) });
        }
        for (final Map<String, String> receiver : reports)
        {
            final int receiverSlot = number(receiver, "slot");
            final int receiverIncarnation = number(receiver, "incarnation");
            final boolean self = receiverSlot == senderSlot;
            if (!self && !presentAtWindowStart.contains(KillHarness.key(receiverSlot, receiverIncarnation)))
            {
                continue; // packets to its slot may have gone to the incarnation killed this window
            }
            final BitSet okay = streams.get(receiverSlot)[0];
            final BitSet unknown = streams.get(receiverSlot)[1];
            final BitSet got = receivedFrom(receiver, senderSlot, senderIncarnation);
            final BitSet missing = (BitSet)okay.clone();
            missing.andNot(got);
            final String pair = "fe" + senderSlot + "#" + senderIncarnation + " -> fe" + receiverSlot + "#" + receiverIncarnation + " " + where;
            if (!missing.isEmpty())
            {
                result.violations.add(pair + ": " + missing.cardinality() + " packets completed OKAY never arrived (seq "
                    + Ranges.encode(missing) + ")");
            }
            final BitSet unexpected = (BitSet)got.clone();
            unexpected.andNot(okay);
            unexpected.andNot(unknown);
            if (!unexpected.isEmpty())
            {
                result.violations.add(pair + ": " + unexpected.cardinality() + " packets arrived that the sender saw dropped or never sent (seq "
                    + Ranges.encode(unexpected) + ")");
            }
            result.okayChecked += okay.cardinality();
        }
    }

    private static BitSet receivedFrom(final Map<String, String> receiver, final int slot, final int incarnation)
    {
        final String rx = receiver.get("rx");
        final String prefix = slot + "." + incarnation + ":";
        if (rx != null && !rx.isEmpty())
        {
            for (final String source : rx.split(";"))
            {
                if (source.startsWith(prefix))
                {
                    return Ranges.decode(source.substring(prefix.length()));
                }
            }
        }
        return new BitSet();
    }

    /** The directory holds exactly one device file per frontend, the very file that frontend holds (its lock's). */
    private void checkFiles(final String where, final long[] pids) throws IOException
    {
        final Set<String> expected = new TreeSet<>();
        for (int slot = 0; slot < pids.length; slot++)
        {
            expected.add("fe" + slot + ".dev");
            final long mapped = ProcView.heldInode(pids[slot], deviceFile(slot));
            final long onDisk = Files.exists(deviceFile(slot)) ? inode(deviceFile(slot)) : -1;
            if (mapped == -2 || mapped != onDisk)
            {
                result.violations.add("fe" + slot + " " + where + ": its live device file was deleted or replaced (held inode "
                    + mapped + ", on disk " + onDisk + ")");
            }
        }
        final Set<String> all;
        try (Stream<Path> list = Files.list(dir))
        {
            all = list.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
        final Set<String> found = new TreeSet<>();
        for (final String name : all)
        {
            if (name.endsWith(".dev"))
            {
                found.add(name);
            }
            else if (CREATION_TEMP.matcher(name).matches())
            {
                // Device.create's file before its rename into place, left by a frontend killed
                // while creating it: nothing removes these yet (counted and reported, see README)
                result.creationTempFiles.add(name);
            }
            else if (!BACKEND_FILES.contains(name))
            {
                result.violations.add(where + ": unexpected file " + name + " in the directory");
            }
        }
        if (!found.equals(expected))
        {
            result.violations.add(where + ": device files " + found + ", expected " + expected + " (a stale file left or a live one gone)");
        }
    }

    private static long inode(final Path file) throws IOException
    {
        return ((Number)Files.getAttribute(file, "unix:ino")).longValue();
    }

    /** Descriptors and mappings of the directory's files, and sockets, are what they were at the first quiet point. */
    private void checkProcesses(final String where, final long backendPid, final int backendIncarnation, final long[] pids,
        final int[] incarnation)
    {
        final ProcView b = ProcView.of(backendPid, dir);
        if (frontendBaseline == null)
        {
            frontendBaseline = new ProcView[pids.length];
        }
        if (backendBaseline == null)
        {
            backendBaseline = b;
        }
        else if (!b.equals(backendBaseline))
        {
            result.violations.add("backend #" + backendIncarnation + " " + where + ": holds " + b + " with " + pids.length
                + " frontends connected, first quiet point " + backendBaseline);
        }
        for (int slot = 0; slot < pids.length; slot++)
        {
            final ProcView f = ProcView.of(pids[slot], dir);
            if (frontendBaseline[slot] == null)
            {
                frontendBaseline[slot] = f;
            }
            else if (!f.equals(frontendBaseline[slot]))
            {
                result.violations.add("fe" + slot + "#" + incarnation[slot] + " " + where + ": holds " + f + ", first quiet point "
                    + frontendBaseline[slot]);
            }
        }
    }

    static Map<String, String> parse(final String line)
    {
        final Map<String, String> map = new HashMap<>();
        for (final String field : line.split(" "))
        {
            final int eq = field.indexOf('=');
            if (eq > 0)
            {
                map.put(field.substring(0, eq), field.substring(eq + 1));
            }
        }
        return map;
    }

    static int number(final Map<String, String> report, final String key)
    {
        return (int)count(report, key);
    }

    static long count(final Map<String, String> report, final String key)
    {
        final String value = report.get(key);
        if (value == null)
        {
            throw new IllegalStateException("report without " + key + ": " + report);
        }
        return Long.parseLong(value);
    }
}

package dev.splitnet.it.kill;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * SIGKILLs the splitnet backend (the CLI, {@code --mode switch}) and its frontends
 * ({@link KillHarnessFrontend}, each its own JVM) at seeded random instants, restarts what it
 * killed, and after every kill brings all of them to a quiet point and checks the accounting:
 * one status per packet, every OKAY packet received exactly once, nothing held or leaked, no
 * stale device file and no live one deleted, and how long the survivors took to notice.
 */
public final class KillHarness
{
    /** Where a kill lands. */
    enum Scenario
    {
        /** The backend, while packets (RX chains up to 9000 bytes among them) flow both ways. */
        BACKEND_MID_TRAFFIC,
        /** A frontend, while packets flow. */
        FRONTEND_MID_TRAFFIC,
        /** The backend, then its successor again while it starts and the frontends connect to it. */
        BACKEND_MID_HANDSHAKE,
        /** A frontend, then its successor again while it starts and connects. */
        FRONTEND_MID_HANDSHAKE,
        /** A frontend, then the backend while it is disconnecting that frontend. */
        WHILE_DISCONNECTING,
        /** The slow frontend, asleep in awaitWork, or the backend while that frontend is. */
        WHILE_BLOCKED
    }

    /** How a run is configured. */
    record Options(Path dir, Path logs, long seed, int kills, int slots, long progressIntervalMs, PrintStream out, String fault)
    {
    }

    /** What a run did and found. */
    static final class Result
    {
        int kills;
        int quietPoints;
        final Map<Scenario, Integer> scenarios = new EnumMap<>(Scenario.class);
        long maxFrontendNoticeMs;
        long maxBackendNoticeMs;
        long sent;
        long okay;
        long error;
        long dropped;
        long disconnected;
        long received;
        long misdelivered;
        long okayChecked;
        int staleAtDeath;
        final List<String> violations = new ArrayList<>();
        long elapsedMs;

        String summary()
        {
            return String.format(Locale.ROOT,
                "kills=%d %s quiet_points=%d packets: sent=%d okay=%d error=%d dropped=%d disconnected=%d received=%d"
                    + " okay_checked_end_to_end=%d misdelivered=%d; max notice: frontends of a backend death %d ms,"
                    + " backend of a frontend death %d ms; dead frontends' files the backend left=%d; violations=%d; %.1f s",
                kills, scenarios, quietPoints, sent, okay, error, dropped, disconnected, received, okayChecked, misdelivered,
                maxFrontendNoticeMs, maxBackendNoticeMs, staleAtDeath, violations.size(), elapsedMs / 1000.0);
        }
    }

    /** A run that cannot go on (a child that never became quiet). */
    static final class Abort extends Exception
    {
        Abort(final String message)
        {
            super(message);
        }
    }

    private static final long NOTICE_TIMEOUT_MS = 5_000;
    private static final long QUIET_TIMEOUT_MS = 60_000;

    private final Options options;
    private final SplittableRandom random;
    private final Result result = new Result();
    private final Child[] frontends;
    private final int[] incarnation;
    private final Map<Long, Map<String, String>> lastReport = new HashMap<>();
    private final Set<Long> presentAtWindowStart = new HashSet<>();
    private final ProcView[] frontendBaseline;
    private ProcView backendBaseline;
    private Child backend;
    private int backendIncarnation;
    private int nextIncarnation;
    private Scenario scenario;
    private long startNs;
    private long nextProgressNs;

    KillHarness(final Options options)
    {
        this.options = options;
        this.random = new SplittableRandom(options.seed());
        this.frontends = new Child[options.slots()];
        this.incarnation = new int[options.slots()];
        this.frontendBaseline = new ProcView[options.slots()];
    }

    /** Runs until the number of kills is reached or a child cannot be brought to a quiet point. */
    Result run() throws Exception
    {
        startNs = System.nanoTime();
        nextProgressNs = startNs + options.progressIntervalMs() * 1_000_000L;
        options.out().println("kill-harness: seed " + options.seed() + " (rerun with -Dsplitnet.kill.seed=" + options.seed()
            + " or scripts/kill-harness --seed " + options.seed() + "), " + options.kills() + " kills, " + options.slots()
            + " frontends, directory " + options.dir() + ", logs " + options.logs());
        try
        {
            startBackend();
            for (int slot = 0; slot < frontends.length; slot++)
            {
                startFrontend(slot);
            }
            quietPoint();
            while (result.kills < options.kills())
            {
                scenario = Scenario.values()[random.nextInt(Scenario.values().length)];
                result.scenarios.merge(scenario, 1, Integer::sum);
                play(scenario);
                quietPoint();
                progress(false);
            }
            finish();
        }
        catch (final Abort ex)
        {
            result.violations.add("aborted: " + ex.getMessage());
        }
        finally
        {
            for (final Child fe : frontends)
            {
                if (fe != null && fe.isAlive())
                {
                    fe.kill();
                }
            }
            if (backend != null && backend.isAlive())
            {
                backend.kill();
            }
        }
        result.elapsedMs = (System.nanoTime() - startNs) / 1_000_000L;
        progress(true);
        return result;
    }

    private void play(final Scenario scenario) throws Exception
    {
        switch (scenario)
        {
            case BACKEND_MID_TRAFFIC:
                pause(20, 800);
                killBackend(true);
                startBackend();
                break;
            case FRONTEND_MID_TRAFFIC:
            {
                pause(20, 800);
                final int slot = random.nextInt(frontends.length);
                killFrontend(slot, true);
                startFrontend(slot);
                break;
            }
            case BACKEND_MID_HANDSHAKE:
                pause(20, 400);
                killBackend(true);
                startBackend();
                pause(0, 1500); // inside the new backend's start-up, its accept and the frontends' handshakes
                killBackend(false);
                startBackend();
                break;
            case FRONTEND_MID_HANDSHAKE:
            {
                pause(20, 400);
                final int slot = random.nextInt(frontends.length);
                killFrontend(slot, true);
                startFrontend(slot);
                pause(0, 1500); // inside its start-up, its device file's creation, its handshake
                killFrontend(slot, false);
                startFrontend(slot);
                break;
            }
            case WHILE_DISCONNECTING:
            {
                pause(20, 400);
                final int slot = random.nextInt(frontends.length);
                killFrontend(slot, false);
                pause(0, 30); // the backend is taking that frontend apart
                killBackend(true);
                startBackend();
                startFrontend(slot);
                break;
            }
            case WHILE_BLOCKED:
            default:
            {
                pause(20, 400);
                final int blocked = frontends.length - 1; // the slow one, mostly asleep in awaitWork
                if (random.nextBoolean())
                {
                    killFrontend(blocked, true);
                    startFrontend(blocked);
                }
                else
                {
                    killBackend(true);
                    startBackend();
                }
                break;
            }
        }
    }

    private void pause(final int minMs, final int maxMs) throws InterruptedException
    {
        Thread.sleep(minMs + random.nextInt(maxMs - minMs + 1));
    }

    private void startBackend() throws IOException
    {
        backendIncarnation++;
        backend = Child.start("backend-" + backendIncarnation, options.logs(), List.of(), "dev.splitnet.cli.Main",
            "backend", "--dir", options.dir().toString(), "--mode", "switch", "--quiet");
    }

    private void startFrontend(final int slot) throws IOException
    {
        incarnation[slot] = ++nextIncarnation;
        frontends[slot] = Child.start("fe" + slot + "-" + incarnation[slot], options.logs(),
            List.of("-D" + KillHarnessFrontend.FAULT_PROP + "=" + options.fault()), KillHarnessFrontend.class.getName(),
            options.dir().toString(), Integer.toString(slot), Integer.toString(frontends.length), Integer.toString(incarnation[slot]),
            Long.toString(options.seed() * 1_000_003L + incarnation[slot]), slot == frontends.length - 1 ? "blocking" : "busy");
    }

    /** SIGKILLs the backend; with {@code measure}, waits for every frontend to say it noticed. */
    private void killBackend(final boolean measure) throws InterruptedException
    {
        for (final Child fe : frontends)
        {
            fe.clearLines();
        }
        backend.kill();
        result.kills++;
        if (!measure)
        {
            return;
        }
        for (int slot = 0; slot < frontends.length; slot++)
        {
            final Child fe = frontends[slot];
            if (!fe.isAlive())
            {
                continue;
            }
            final Child.Line line = fe.await("event disconnected", NOTICE_TIMEOUT_MS);
            if (line == null)
            {
                result.violations.add("kill " + result.kills + ": " + fe.label() + " did not notice the backend's death within "
                    + NOTICE_TIMEOUT_MS + " ms");
                continue;
            }
            final long ms = (line.atNs() - backend.killedAtNs()) / 1_000_000L;
            result.maxFrontendNoticeMs = Math.max(result.maxFrontendNoticeMs, ms);
            if (ms > 1000)
            {
                result.violations.add("kill " + result.kills + ": " + fe.label() + " noticed the backend's death after " + ms + " ms");
            }
        }
    }

    /**
     * SIGKILLs a frontend; with {@code measure}, waits for the backend to notice (the dead
     * frontend's registration is gone: its name no longer resolves) and to remove the dead
     * frontend's device file, before the caller starts a successor.
     */
    private void killFrontend(final int slot, final boolean measure) throws InterruptedException
    {
        final Child fe = frontends[slot];
        final Path file = deviceFile(slot);
        fe.kill();
        result.kills++;
        if (!measure || !backend.isAlive())
        {
            return;
        }
        while (resolves("fe" + slot))
        {
            final long ms = (System.nanoTime() - fe.killedAtNs()) / 1_000_000L;
            if (ms > NOTICE_TIMEOUT_MS)
            {
                result.violations.add("kill " + result.kills + ": the backend did not notice " + fe.label() + "'s death within "
                    + NOTICE_TIMEOUT_MS + " ms");
                return;
            }
            Thread.sleep(1);
        }
        final long ms = (System.nanoTime() - fe.killedAtNs()) / 1_000_000L;
        result.maxBackendNoticeMs = Math.max(result.maxBackendNoticeMs, ms);
        if (ms > 1000)
        {
            result.violations.add("kill " + result.kills + ": the backend noticed " + fe.label() + "'s death after " + ms + " ms");
        }
        final long deadline = System.nanoTime() + 2_000_000_000L;
        while (Files.exists(file))
        {
            if (System.nanoTime() - deadline > 0)
            {
                // The backend decided the file was still in use (its lock looked held); the
                // successor replaces it as stale, which the quiet point checks.
                result.staleAtDeath++;
                options.out().println("kill-harness: kill " + result.kills + ": the backend noticed " + fe.label()
                    + "'s death but left its device file (its lock still looked held)");
                return;
            }
            Thread.sleep(2);
        }
    }

    private boolean resolves(final String name)
    {
        try
        {
            return dev.splitnet.mmap.BackendCounters.resolve(options.dir(), name) > 0;
        }
        catch (final RuntimeException ex)
        {
            return true; // the counters file is being written: look again
        }
    }

    private Path deviceFile(final int slot)
    {
        return options.dir().resolve("fe" + slot + ".dev");
    }

    private static long key(final int slot, final int incarnation)
    {
        return ((long)slot << 32) | incarnation;
    }

    /**
     * Pauses every frontend until it is connected with nothing in flight, has each drain and
     * report, checks the reports and what the processes hold, then lets traffic flow again.
     */
    private void quietPoint() throws Exception
    {
        result.quietPoints++;
        for (final Child fe : frontends)
        {
            fe.clearLines();
            fe.command("pause");
        }
        for (final Child fe : frontends)
        {
            if (fe.await("paused", QUIET_TIMEOUT_MS) == null)
            {
                throw new Abort(fe.label() + " was not connected with nothing in flight within " + QUIET_TIMEOUT_MS
                    + " ms after kill " + result.kills + " (alive: " + fe.isAlive() + ", backend alive: " + backend.isAlive()
                    + "); see " + fe.log());
            }
        }
        for (final Child fe : frontends)
        {
            fe.command("report");
        }
        final List<Map<String, String>> reports = new ArrayList<>();
        for (final Child fe : frontends)
        {
            final Child.Line line = fe.await("report", QUIET_TIMEOUT_MS);
            if (line == null)
            {
                throw new Abort(fe.label() + " did not report after kill " + result.kills + "; see " + fe.log());
            }
            reports.add(parse(line.text()));
        }
        final String where = "after kill " + result.kills + (scenario == null ? "" : " (" + scenario + ")");
        for (final Map<String, String> report : reports)
        {
            checkReport(where, report);
        }
        for (final Map<String, String> sender : reports)
        {
            checkDelivery(where, sender, reports);
        }
        checkFiles(where);
        checkProcesses(where);
        presentAtWindowStart.clear();
        for (final Map<String, String> report : reports)
        {
            final long k = key(number(report, "slot"), number(report, "incarnation"));
            presentAtWindowStart.add(k);
            lastReport.put(k, report);
        }
        for (final Child fe : frontends)
        {
            fe.command("resume");
        }
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
        for (final String zero : List.of("integrity", "duplicates", "ids", "slots", "frames"))
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
            if (!self && !presentAtWindowStart.contains(key(receiverSlot, receiverIncarnation)))
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

    /** The directory holds exactly one device file per frontend, the very file that frontend has mapped. */
    private void checkFiles(final String where) throws IOException
    {
        final Set<String> expected = new TreeSet<>();
        for (int slot = 0; slot < frontends.length; slot++)
        {
            expected.add("fe" + slot + ".dev");
            final long mapped = ProcView.mappedInode(frontends[slot].pid(), deviceFile(slot));
            final long onDisk = Files.exists(deviceFile(slot)) ? inode(deviceFile(slot)) : -1;
            if (mapped == -2 || mapped != onDisk)
            {
                result.violations.add("fe" + slot + " " + where + ": its live device file was deleted or replaced (mapped inode "
                    + mapped + ", on disk " + onDisk + ")");
            }
        }
        final Set<String> found;
        try (Stream<Path> list = Files.list(options.dir()))
        {
            found = list.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".dev")).collect(Collectors.toCollection(TreeSet::new));
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
    private void checkProcesses(final String where)
    {
        final ProcView b = ProcView.of(backend.pid(), options.dir());
        if (backendBaseline == null)
        {
            backendBaseline = b;
        }
        else if (!b.equals(backendBaseline))
        {
            result.violations.add("backend #" + backendIncarnation + " " + where + ": holds " + b + " with " + frontends.length
                + " frontends connected, first quiet point " + backendBaseline);
        }
        for (int slot = 0; slot < frontends.length; slot++)
        {
            final ProcView f = ProcView.of(frontends[slot].pid(), options.dir());
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

    /** Stops every frontend cleanly, then the backend: nothing may be left in the directory but the backend's own files. */
    private void finish() throws Exception
    {
        for (int slot = 0; slot < frontends.length; slot++)
        {
            frontends[slot].stop();
        }
        final int exit = backend.terminate();
        try (Stream<Path> list = Files.list(options.dir()))
        {
            final List<String> left = list.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".dev")).toList();
            if (!left.isEmpty())
            {
                result.violations.add("after a clean stop of every frontend, device files left: " + left);
            }
        }
        if (exit != 0 && exit != 143)
        {
            result.violations.add("the last backend exited " + exit + " on SIGTERM; see " + backend.log());
        }
    }

    private void progress(final boolean last)
    {
        final long now = System.nanoTime();
        if (!last && now - nextProgressNs < 0)
        {
            return;
        }
        nextProgressNs = now + options.progressIntervalMs() * 1_000_000L;
        totals();
        result.elapsedMs = (now - startNs) / 1_000_000L;
        options.out().println((last ? "kill-harness: done: " : "kill-harness: ") + result.summary());
        for (final String violation : result.violations.subList(Math.max(0, result.violations.size() - 5), result.violations.size()))
        {
            options.out().println("  violation: " + violation);
        }
    }

    /** Sums the last report of every frontend incarnation (what a killed one did after its last report died with it). */
    private void totals()
    {
        result.sent = 0;
        result.okay = 0;
        result.error = 0;
        result.dropped = 0;
        result.disconnected = 0;
        result.received = 0;
        result.misdelivered = 0;
        for (final Map<String, String> r : lastReport.values())
        {
            result.sent += count(r, "sent");
            result.okay += count(r, "okay");
            result.error += count(r, "error");
            result.dropped += count(r, "dropped");
            result.disconnected += count(r, "disconnected");
            result.received += count(r, "received");
            result.misdelivered += count(r, "misdelivered");
        }
    }

    private static Map<String, String> parse(final String line)
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

    private static int number(final Map<String, String> report, final String key)
    {
        return (int)count(report, key);
    }

    private static long count(final Map<String, String> report, final String key)
    {
        final String value = report.get(key);
        if (value == null)
        {
            throw new IllegalStateException("report without " + key + ": " + report);
        }
        return Long.parseLong(value);
    }
}

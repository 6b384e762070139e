package dev.splitnet.it.kill;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
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
    record Options(Path dir, Path logs, long seed, int kills, int slots, long progressIntervalMs, PrintStream out, String fault,
        Holding holding)
    {
        Options(final Path dir, final Path logs, final long seed, final int kills, final int slots, final long progressIntervalMs,
            final PrintStream out, final String fault)
        {
            this(dir, logs, seed, kills, slots, progressIntervalMs, out, fault, Holding.DEFAULT);
        }
    }

    /**
     * Packets the frontends address to the backend itself (DemoFrame.BACKEND), which the switch's
     * local consumer holds {@code holdMs} past its handler (issue 11, no netloop) and the backend
     * copies late past {@code copyDeadlineMs}: kills then find packets held in the grants of the
     * frontend killed, and late copies of them.
     */
    record Holding(int localPercent, long holdMs, long copyDeadlineMs)
    {
        static final Holding DEFAULT = new Holding(20, 10, 8);
        static final Holding NONE = new Holding(0, 0, 500);
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
        long localSent;
        long localOkay;
        long localError;
        long localDropped;
        long localDisconnected;
        // the backend's hold and lazy-receive counters, summed over its frontends' blocks, per backend incarnation (the last quiet point's)
        private final Map<Integer, long[]> held = new java.util.TreeMap<>();
        private static final dev.splitnet.mmap.DeviceCounter[] HELD_COUNTERS = {
            dev.splitnet.mmap.DeviceCounter.HELD_PACKETS, dev.splitnet.mmap.DeviceCounter.HELD_COMPLETED_NO_COPY,
            dev.splitnet.mmap.DeviceCounter.HELD_COPIED_DEADLINE, dev.splitnet.mmap.DeviceCounter.HELD_COPIED_PRESSURE,
            dev.splitnet.mmap.DeviceCounter.HELD_COPIED_DISCONNECT, dev.splitnet.mmap.DeviceCounter.HELD_DROPPED_BOUND,
            dev.splitnet.mmap.DeviceCounter.HELD_DROPPED_LIMIT, dev.splitnet.mmap.DeviceCounter.RX_FLIPS,
            dev.splitnet.mmap.DeviceCounter.RX_COPIES_AVOIDED, dev.splitnet.mmap.DeviceCounter.ERROR_P2M };

        void heldFigures(final int backendIncarnation, final Map<Integer, Map<dev.splitnet.mmap.DeviceCounter, Long>> blocks)
        {
            final long[] sums = new long[HELD_COUNTERS.length];
            for (final Map<dev.splitnet.mmap.DeviceCounter, Long> block : blocks.values())
            {
                for (int i = 0; i < sums.length; i++)
                {
                    sums[i] += block.getOrDefault(HELD_COUNTERS[i], 0L);
                }
            }
            final long[] before = held.get(backendIncarnation);
            for (int i = 0; before != null && i < sums.length; i++)
            {
                sums[i] = Math.max(sums[i], before[i]);
            }
            held.put(backendIncarnation, sums);
        }

        /** The backend's hold counter {@code i} of {@link #HELD_COUNTERS}, summed over backends (a lower bound). */
        long held(final dev.splitnet.mmap.DeviceCounter counter)
        {
            final int i = java.util.Arrays.asList(HELD_COUNTERS).indexOf(counter);
            return held.values().stream().mapToLong(s -> s[i]).sum();
        }
        int staleAtDeath;
        long maxDyingMs;
        final java.util.Set<String> creationTempFiles = new java.util.TreeSet<>();
        final List<String> violations = new ArrayList<>();
        long elapsedMs;

        String summary()
        {
            return String.format(Locale.ROOT,
                "kills=%d %s quiet_points=%d packets: sent=%d okay=%d error=%d dropped=%d disconnected=%d received=%d"
                    + " okay_checked_end_to_end=%d misdelivered=%d; max notice: frontends of a backend death %d ms,"
                    + " backend of a frontend death %d ms (both from the SIGKILL; the process took at most %d ms to end);"
                    + " dead frontends' files the backend left=%d; creation temp files left by killed frontends=%d; violations=%d; %.1f s",
                kills, scenarios, quietPoints, sent, okay, error, dropped, disconnected, received, okayChecked, misdelivered,
                maxFrontendNoticeMs, maxBackendNoticeMs, maxDyingMs, staleAtDeath, creationTempFiles.size(), violations.size(), elapsedMs / 1000.0)
                + String.format(Locale.ROOT, "; to the backend's local consumer: sent=%d okay=%d error=%d dropped=%d disconnected=%d;"
                    + " backend hold counters (lower bounds): held=%d completed_no_copy=%d copied_deadline=%d copied_pressure=%d"
                    + " copied_disconnect=%d dropped_bound=%d dropped_limit=%d; lazy-rx (lower bounds): flips=%d copies_avoided=%d error_p2m=%d",
                    localSent, localOkay, localError, localDropped, localDisconnected,
                    held(dev.splitnet.mmap.DeviceCounter.HELD_PACKETS), held(dev.splitnet.mmap.DeviceCounter.HELD_COMPLETED_NO_COPY),
                    held(dev.splitnet.mmap.DeviceCounter.HELD_COPIED_DEADLINE), held(dev.splitnet.mmap.DeviceCounter.HELD_COPIED_PRESSURE),
                    held(dev.splitnet.mmap.DeviceCounter.HELD_COPIED_DISCONNECT), held(dev.splitnet.mmap.DeviceCounter.HELD_DROPPED_BOUND),
                    held(dev.splitnet.mmap.DeviceCounter.HELD_DROPPED_LIMIT), held(dev.splitnet.mmap.DeviceCounter.RX_FLIPS),
                    held(dev.splitnet.mmap.DeviceCounter.RX_COPIES_AVOIDED), held(dev.splitnet.mmap.DeviceCounter.ERROR_P2M));
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
    private final QuietPointChecks checks;
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
        this.checks = new QuietPointChecks(options.dir(), result);
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

    private void dying(final Child child)
    {
        final long ms = (child.diedAtNs() - child.killedAtNs()) / 1_000_000L;
        result.maxDyingMs = Math.max(result.maxDyingMs, ms);
        if (ms > 500)
        {
            event("kill " + result.kills + " (" + scenario + "): " + child.label() + " took " + ms + " ms to die after SIGKILL");
        }
    }

    /** One line in LOGS/events.log: what was killed when, and how soon it was noticed (wall clock, as the children log). */
    private void event(final String line)
    {
        try
        {
            Files.createDirectories(options.logs());
            Files.writeString(options.logs().resolve("events.log"), java.time.LocalTime.now() + " " + line + "\n",
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        }
        catch (final IOException ex)
        {
            options.out().println("kill-harness: cannot write events.log: " + ex);
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
            "backend", "--dir", options.dir().toString(), "--mode", "switch", "--quiet",
            "--hold-ms", Long.toString(options.holding().holdMs()), "--copy-deadline-ms", Long.toString(options.holding().copyDeadlineMs()));
    }

    private void startFrontend(final int slot) throws IOException
    {
        incarnation[slot] = ++nextIncarnation;
        frontends[slot] = Child.start("fe" + slot + "-" + incarnation[slot], options.logs(),
            List.of("-D" + KillHarnessFrontend.FAULT_PROP + "=" + options.fault(),
                "-D" + KillHarnessFrontend.RING_V2_PROP + "=" + System.getProperty(KillHarnessFrontend.RING_V2_PROP, "odd"),
                "-D" + KillHarnessFrontend.LAZY_RX_PROP + "=" + System.getProperty(KillHarnessFrontend.LAZY_RX_PROP, "half")),
            KillHarnessFrontend.class.getName(),
            options.dir().toString(), Integer.toString(slot), Integer.toString(frontends.length), Integer.toString(incarnation[slot]),
            Long.toString(options.seed() * 1_000_003L + incarnation[slot]), slot == frontends.length - 1 ? "blocking" : "busy",
            Integer.toString(options.holding().localPercent()));
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
        dying(backend);
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
            event("kill " + result.kills + " (" + scenario + "): " + fe.label() + " noticed backend-" + backendIncarnation
                + "'s death in " + ms + " ms");
            if (ms > 1000)
            {
                result.violations.add("kill " + result.kills + ": " + fe.label() + " noticed the backend's death after " + ms
                    + " ms (from the SIGKILL; the backend took " + (backend.diedAtNs() - backend.killedAtNs()) / 1_000_000L + " ms to end)");
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
        dying(fe);
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
        event("kill " + result.kills + " (" + scenario + "): backend-" + backendIncarnation + " noticed " + fe.label()
            + "'s death in " + ms + " ms");
        if (ms > 1000)
        {
            result.violations.add("kill " + result.kills + ": the backend noticed " + fe.label() + "'s death after " + ms
                + " ms (from the SIGKILL; the frontend took " + (fe.diedAtNs() - fe.killedAtNs()) / 1_000_000L + " ms to end)");
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

    static long key(final int slot, final int incarnation)
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
            reports.add(QuietPointChecks.parse(line.text()));
        }
        final long[] pids = new long[frontends.length];
        for (int slot = 0; slot < frontends.length; slot++)
        {
            pids[slot] = frontends[slot].pid();
        }
        checks.check("after kill " + result.kills + (scenario == null ? "" : " (" + scenario + ")"), reports,
            backend.pid(), backendIncarnation, pids, incarnation);
        for (final Map<String, String> report : reports)
        {
            lastReport.put(key(QuietPointChecks.number(report, "slot"), QuietPointChecks.number(report, "incarnation")), report);
        }
        for (final Child fe : frontends)
        {
            fe.command("resume");
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
        result.localSent = 0;
        result.localOkay = 0;
        result.localError = 0;
        result.localDropped = 0;
        result.localDisconnected = 0;
        for (final Map<String, String> r : lastReport.values())
        {
            result.sent += QuietPointChecks.count(r, "sent");
            result.okay += QuietPointChecks.count(r, "okay");
            result.error += QuietPointChecks.count(r, "error");
            result.dropped += QuietPointChecks.count(r, "dropped");
            result.disconnected += QuietPointChecks.count(r, "disconnected");
            result.received += QuietPointChecks.count(r, "received");
            result.misdelivered += QuietPointChecks.count(r, "misdelivered");
            result.localSent += QuietPointChecks.count(r, "localsent");
            result.localOkay += QuietPointChecks.count(r, "localokay");
            result.localError += QuietPointChecks.count(r, "localerror");
            result.localDropped += QuietPointChecks.count(r, "localdropped");
            result.localDisconnected += QuietPointChecks.count(r, "localdisconnected");
        }
    }

}

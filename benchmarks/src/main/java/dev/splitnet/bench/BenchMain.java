package dev.splitnet.bench;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code splitnet bench}: runs splitnet and its peers (Aeron IPC, an Agrona ring over a mapped
 * file, Unix sockets) side by side, each measurement in two fresh JVMs, transports alternating
 * within every case so that drift hits all alike, the cache-line round trip measured before every
 * run to label it near or far; prints one table and writes the report and charts.
 */
public final class BenchMain
{
    /** Room the peers' files need in the shared-memory directory (Aeron: 3 x 64 MiB terms per stream, two streams). */
    static final long SHM_NEEDED = 640L * 1024 * 1024;

    private BenchMain()
    {
    }

    public static void main(final String[] args)
    {
        System.setProperty("java.awt.headless", "true");
        final BenchOptions options;
        try
        {
            options = BenchOptions.parse(args);
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("splitnet bench: " + ex.getMessage());
            System.exit(2);
            return;
        }
        if (options.help)
        {
            System.out.println(BenchOptions.USAGE);
            return;
        }
        try
        {
            System.exit(run(options));
        }
        catch (final IOException | RuntimeException ex)
        {
            System.err.println("splitnet bench: " + ex.getMessage());
            System.exit(1);
        }
        catch (final InterruptedException ex)
        {
            System.exit(130);
        }
    }

    static int run(final BenchOptions options) throws IOException, InterruptedException
    {
        final int cores = Runtime.getRuntime().availableProcessors();
        if (cores < 2)
        {
            System.err.println("splitnet bench: needs at least 2 cores (this machine has " + cores
                + "): every measurement runs two spinning processes");
            return 2;
        }
        final MachineFacts machine = MachineFacts.collect();
        if (options.jmhOnly)
        {
            final List<String> jmh = JmhRunner.run(options.out);
            Report.writeJmhOnly(options.out, machine, jmh);
            return 0;
        }
        Files.createDirectories(options.shmDir);
        final FileStore store = Files.getFileStore(options.shmDir);
        if (store.getUsableSpace() < SHM_NEEDED)
        {
            System.err.printf(Locale.ROOT, "splitnet bench: %s has %d MiB free, the peers' files need %d MiB; free some or pass --dir%n",
                options.shmDir, store.getUsableSpace() >> 20, SHM_NEEDED >> 20);
            return 2;
        }
        final Path logDir = Files.createTempDirectory("splitnet-bench-logs");
        final Launcher launcher = new Launcher(options.shmDir, logDir);
        final List<Case> cases = cases(options);
        int runs = 0;
        for (final Case kase : cases)
        {
            for (final Transport transport : options.transports)
            {
                runs += measures(transport, kase.scenario) ? 1 : 0;
            }
        }
        final int total = runs * options.reps + 3;
        final Progress progress = new Progress(total);
        final List<RunResult> results = new ArrayList<>();
        final List<RunResult> cacheLine = new ArrayList<>();
        final long startNs = System.nanoTime();

        progress.step("limit: copy bandwidth, 65000 B copies");
        final double copyGbps = Double.parseDouble(launcher.run("copy", Scenario.FORWARD, 65000, "spin",
            options.warmupMs, options.measureMs)[1].get("gbps"));
        progress.done(String.format(Locale.ROOT, "%.1f GB/s", copyGbps));
        cacheLine.add(cacheLineRun(launcher, progress, options, 0));

        for (int rep = 1; rep <= options.reps; rep++)
        {
            for (int c = 0; c < cases.size(); c++)
            {
                final Case kase = cases.get(c);
                final List<Transport> order = new ArrayList<>(options.transports);
                java.util.Collections.rotate(order, c + rep);
                for (final Transport transport : order)
                {
                    if (!measures(transport, kase.scenario))
                    {
                        continue;
                    }
                    progress.step(String.format(Locale.ROOT, "%-9s %5d B  %-8s %-5s rep %d/%d", kase.scenario.cliName(), kase.size,
                        transport.cliName(), kase.idle, rep, options.reps));
                    try
                    {
                        final Map<String, String>[] r = launcher.run(transport.cliName(), kase.scenario, kase.size, kase.idle,
                            options.warmupMs, options.measureMs);
                        final RunResult result = toResult(transport, kase, rep, r);
                        results.add(result);
                        progress.done(describe(result));
                    }
                    catch (final IOException ex)
                    {
                        progress.done("FAILED: " + ex.getMessage());
                    }
                }
            }
        }
        cacheLine.add(cacheLineRun(launcher, progress, options, 1));
        final double minutes = (System.nanoTime() - startNs) / 60e9;
        final Report report = new Report(options, machine, results, cacheLine, copyGbps, minutes);
        List<String> jmh = List.of();
        if (options.jmh)
        {
            jmh = JmhRunner.run(options.out);
        }
        System.out.println();
        System.out.println(report.table(false));
        System.out.println(report.targets(false));
        report.write(options.out, jmh);
        Charts.write(options.out, report);
        System.out.println("report: " + options.out.resolve("latest.md") + " (charts: throughput.png, latency.png); worker logs: " + logDir);
        Launcher.deleteTree(options.shmDir);
        return 0;
    }

    private static RunResult cacheLineRun(final Launcher launcher, final Progress progress, final BenchOptions options, final int rep)
        throws IOException, InterruptedException
    {
        progress.step("limit: bare cache-line round trip between two processes");
        final Map<String, String> b = launcher.run("cacheline", Scenario.RTT_SPIN, 8, "spin", 500, 1000)[1];
        final RunResult result = new RunResult(null, Scenario.RTT_SPIN, 8, "spin", rep, num(b, "p50"), -1, 0, -1, -1,
            num(b, "p50"), num(b, "p99"), num(b, "p999"), num(b, "max"), -1, "");
        progress.done(String.format(Locale.ROOT, "p50 %.2f us (%s)", result.p50() / 1000, result.placement().label()));
        return result;
    }

    /** One measured case: a scenario at a size with a consumer idle strategy. */
    record Case(Scenario scenario, int size, String idle)
    {
    }

    static List<Case> cases(final BenchOptions options)
    {
        final List<Case> cases = new ArrayList<>();
        for (final Scenario scenario : options.scenarios)
        {
            for (final int size : options.sizesFor(scenario))
            {
                cases.add(new Case(scenario, size, scenario == Scenario.RTT_BLOCK ? "block" : "spin"));
                if (options.yieldingVariant && scenario == Scenario.FORWARD && size == BenchOptions.MIN_SIZE)
                {
                    cases.add(new Case(scenario, size, "yield"));
                }
            }
        }
        return cases;
    }

    /** The lending transports differ from splitnet only in the receive direction: elsewhere they are not run. */
    private static boolean measures(final Transport transport, final Scenario scenario)
    {
        return scenario.isReceiveDirection() || (transport != Transport.SPLITNET_FLIP && transport != Transport.SPLITNET_LAZY);
    }

    private static RunResult toResult(final Transport transport, final Case kase, final int rep, final Map<String, String>[] r)
    {
        final Map<String, String> a = r[0];
        final Map<String, String> b = r[1];
        final boolean aMeasures = kase.scenario == Scenario.FORWARD || kase.scenario == Scenario.READ;
        final Map<String, String> measurer = kase.scenario.isThroughput() && aMeasures ? a : b;
        final String extra = a.getOrDefault("payload_faults", b.getOrDefault("payload_faults", null)) == null ? ""
            : " payload_faults=" + b.get("payload_faults") + " grant_pins=" + b.get("grant_pins");
        return new RunResult(transport, kase.scenario, kase.size, kase.idle, rep, num(b, "probe_p50"), num(b, "probe_after_p50"),
            num(measurer, "rate"), num(a, "alloc"), num(b, "alloc"),
            num(b, "p50"), num(b, "p99"), num(b, "p999"), num(b, "max"), cpuShare(transport, kase, a, b), extra);
    }

    /**
     * The smaller CPU share of the two sides when both should have spun through the whole window
     * (shared-memory transports, spinning consumers); -1 where sleeping is part of the design.
     */
    private static double cpuShare(final Transport transport, final Case kase, final Map<String, String> a, final Map<String, String> b)
    {
        if (transport == Transport.UDS || !"spin".equals(kase.idle))
        {
            return -1;
        }
        return Math.min(num(a, "cpu"), num(b, "cpu"));
    }

    private static double num(final Map<String, String> fields, final String key)
    {
        final String v = fields.get(key);
        return v == null ? -1 : Double.parseDouble(v);
    }

    private static String describe(final RunResult r)
    {
        final String figure = r.scenario().isThroughput()
            ? String.format(Locale.ROOT, "%s msg/s (%.2f GB/s)", Report.rate(r.rate()), r.gigabytesPerSecond())
            : String.format(Locale.ROOT, "p50 %.2f us p99 %.2f us", r.p50() / 1000, r.p99() / 1000);
        return String.format(Locale.ROOT, "%s, %s (cache-line %.2f us%s%s), alloc %s/%s B/msg%s", figure, r.placement().label(),
            r.probeNs() / 1000, r.probeAfterNs() < 0 ? "" : String.format(Locale.ROOT, " before, %.2f us after", r.probeAfterNs() / 1000),
            r.cpuShare() >= 0 ? String.format(Locale.ROOT, ", cpu %.0f%%", 100 * r.cpuShare()) : "",
            Report.alloc(r.allocA()), Report.alloc(r.allocB()), r.extra());
    }

    /** The progress line: which case runs now, and what the last one gave. */
    static final class Progress
    {
        private final int total;
        private int n;

        Progress(final int total)
        {
            this.total = total;
        }

        void step(final String what)
        {
            System.err.printf(Locale.ROOT, "[%3d/%3d] %s ... ", ++n, total, what);
            System.err.flush();
        }

        void done(final String what)
        {
            System.err.println(what);
        }
    }
}

package dev.splitnet.it.kill;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * {@code scripts/kill-harness}: runs {@link KillHarness} for as many kills as asked, printing
 * progress every 10 s and the accounting at the end; exits 1 on any violation, 2 on bad usage.
 *
 * <pre>
 * --kills N (default 2000) --seed N (default: time) --frontends N (default 3) --progress S (default 10) --logs DIR
 * --local-percent P (default 20) --hold-ms MS (default 10) --copy-deadline-ms MS (default 8)
 *   (packets to the backend itself, held by the switch's local consumer; --local-percent 0: none)
 * --fault lose-receive|count-twice|leak-fd|corrupt-local   (a planted defect: the run must report violations)
 * </pre>
 */
public final class KillHarnessMain
{
    private KillHarnessMain()
    {
    }

    private static void deleteTree(final Path dir) throws java.io.IOException
    {
        try (java.util.stream.Stream<Path> files = Files.walk(dir))
        {
            for (final Path p : (Iterable<Path>)files.sorted(java.util.Comparator.reverseOrder())::iterator)
            {
                Files.deleteIfExists(p);
            }
        }
    }

    public static void main(final String[] args) throws Exception
    {
        int kills = 2000;
        long seed = System.nanoTime() & 0xFFFF_FFFFL;
        int slots = 3;
        long progressS = 10;
        Path logs = Path.of("it-tests/target/kill-harness-logs");
        String fault = "";
        int localPercent = KillHarness.Holding.DEFAULT.localPercent();
        long holdMs = KillHarness.Holding.DEFAULT.holdMs();
        long copyDeadlineMs = KillHarness.Holding.DEFAULT.copyDeadlineMs();
        for (int i = 0; i < args.length; i++)
        {
            final String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--kills": kills = Integer.parseInt(value); i++; break;
                case "--seed": seed = Long.parseLong(value); i++; break;
                case "--frontends": slots = Integer.parseInt(value); i++; break;
                case "--progress": progressS = Long.parseLong(value); i++; break;
                case "--logs": logs = Path.of(value); i++; break;
                case "--fault": fault = value; i++; break;
                case "--local-percent": localPercent = Integer.parseInt(value); i++; break;
                case "--hold-ms": holdMs = Long.parseLong(value); i++; break;
                case "--copy-deadline-ms": copyDeadlineMs = Long.parseLong(value); i++; break;
                default:
                    System.err.println("kill-harness: unknown option " + args[i]
                        + "; use --kills N --seed N --frontends N --progress SECONDS --logs DIR --fault NAME"
                        + " --local-percent P --hold-ms MS --copy-deadline-ms MS");
                    System.exit(2);
            }
        }
        if (kills < 1 || slots < 2 || localPercent < 0 || localPercent > 100 || holdMs < 0 || copyDeadlineMs < 1)
        {
            System.err.println("kill-harness: --kills must be >= 1, --frontends >= 2, --local-percent 0 to 100, --hold-ms >= 0"
                + " and --copy-deadline-ms >= 1");
            System.exit(2);
        }
        final Path dir = Files.createTempDirectory(Path.of("/dev/shm"), "kill-harness",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        final KillHarness.Result result = new KillHarness(new KillHarness.Options(dir, logs.toAbsolutePath(), seed, kills, slots,
            progressS * 1000, System.out, fault, new KillHarness.Holding(localPercent, holdMs, copyDeadlineMs))).run();
        for (final String violation : result.violations)
        {
            System.out.println("violation: " + violation);
        }
        if (result.violations.isEmpty())
        {
            deleteTree(dir); // what a clean run leaves is the backend's lock file; kept after a violation
        }
        else
        {
            System.out.println("kill-harness: directory kept for inspection: " + dir);
        }
        System.exit(result.violations.isEmpty() ? 0 : 1);
    }
}

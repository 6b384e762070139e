package dev.splitnet.cli;

import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.DeviceDirectory;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code splitnet stat DIR}: every device in a directory, refreshed each second, like xentop or AeronStat. */
@Command(name = "stat", mixinStandardHelpOptions = true,
    description = "Shows every device in DIR with its states and counters, refreshed each second (--json: one snapshot).")
final class StatCommand implements Callable<Integer>
{
    @Parameters(index = "0", arity = "0..1", paramLabel = "DIR", description = "Device directory (default: ${DEFAULT-VALUE}).")
    Path directory = DeviceDirectory.defaultPath();

    @Option(names = "--json", description = "Print one snapshot as JSON and exit.")
    boolean json;

    @Option(names = "--interval", paramLabel = "MS", description = "Refresh interval in milliseconds (default: ${DEFAULT-VALUE}).")
    long intervalMs = 1000;

    @Option(names = "--count", paramLabel = "N", description = "Stop after N refreshes (default: run until interrupted).")
    long count = Long.MAX_VALUE;

    @Override
    public Integer call() throws InterruptedException
    {
        DeviceDirectory.openForReading(directory);
        final PrintStream out = System.out;
        if (json)
        {
            out.println(json(directory, DeviceSnapshot.readAll(directory)));
            return 0;
        }
        Map<String, DeviceSnapshot> previous = new HashMap<>();
        for (long n = 0; n < count; n++)
        {
            if (n > 0)
            {
                Thread.sleep(intervalMs);
            }
            final List<DeviceSnapshot> snapshots = DeviceSnapshot.readAll(directory);
            out.printf("%n%s  %d device(s)  %tT%n", directory, snapshots.size(), System.currentTimeMillis());
            out.printf("%-14s %4s %-12s %-12s %11s %9s %11s %9s %10s %9s %9s %12s %7s%n", "NAME", "DOM", "FRONTEND", "BACKEND",
                "TX_PKTS", "TX/s", "RX_PKTS", "RX/s", "FAULTS", "MAPS", "PINS", "PAYLOAD_CPY", "ERRORS");
            final Map<String, DeviceSnapshot> current = new HashMap<>();
            for (final DeviceSnapshot s : snapshots)
            {
                current.put(s.name(), s);
                final DeviceSnapshot before = previous.get(s.name());
                final double seconds = intervalMs / 1000.0;
                out.printf("%-14s %4d %-12s %-12s %11d %9.0f %11d %9.0f %10d %9d %9d %12d %7d%n", s.name(), s.domainId(),
                    s.frontendState(), s.backendState(),
                    s.get(DeviceCounter.TX_PACKETS), rate(s, before, DeviceCounter.TX_PACKETS, seconds),
                    s.get(DeviceCounter.RX_PACKETS), rate(s, before, DeviceCounter.RX_PACKETS, seconds),
                    s.get(DeviceCounter.PAYLOAD_FAULTS), s.get(DeviceCounter.GRANT_MAPS), s.get(DeviceCounter.GRANT_PINS),
                    s.get(DeviceCounter.PAYLOAD_BYTES_COPIED), s.errors());
            }
            out.flush();
            previous = current;
        }
        return 0;
    }

    private static double rate(final DeviceSnapshot now, final DeviceSnapshot before, final DeviceCounter counter, final double seconds)
    {
        return before == null ? 0 : (now.get(counter) - before.get(counter)) / seconds;
    }

    static String json(final Path directory, final List<DeviceSnapshot> snapshots)
    {
        final StringBuilder sb = new StringBuilder(4096);
        sb.append("{\"directory\":\"").append(directory).append("\",\"time_ms\":").append(System.currentTimeMillis()).append(",\"devices\":[");
        for (int i = 0; i < snapshots.size(); i++)
        {
            if (i > 0)
            {
                sb.append(',');
            }
            sb.append(snapshots.get(i).toJson());
        }
        return sb.append("]}").toString();
    }
}

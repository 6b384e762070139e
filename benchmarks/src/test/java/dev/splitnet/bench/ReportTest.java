package dev.splitnet.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

class ReportTest
{
    @TempDir
    Path dir;

    private static RunResult forward(final Transport t, final double probeNs, final double rate)
    {
        return new RunResult(t, Scenario.FORWARD, 64, "spin", 1, probeNs, probeNs, rate, 0, 0, -1, -1, -1, -1, -1, "");
    }

    private Report report()
    {
        final List<RunResult> runs = List.of(
            forward(Transport.SPLITNET, 150, 30e6), forward(Transport.AERON, 160, 20e6), forward(Transport.SPLITNET_V2, 155, 45e6),
            forward(Transport.SPLITNET, 450, 12e6), forward(Transport.AGRONA, 460, 16e6),
            new RunResult(Transport.SPLITNET, Scenario.RTT_SPIN, 64, "spin", 1, 150, 160, 0, 0, 0, 300, 500, 900, 4000, -1, ""),
            new RunResult(Transport.SPLITNET_V2, Scenario.RTT_SPIN, 64, "spin", 1, 150, 160, 0, 0, 0, 240, 500, 900, 4000, -1, ""),
            new RunResult(Transport.AERON, Scenario.RTT_SPIN, 64, "spin", 1, 150, 160, 0, 0, 0, 270, 400, 800, 3000, -1, ""),
            // near before, far after: the vCPUs moved during it; counted, it would make Aeron's near median 510 M/s
            new RunResult(Transport.AERON, Scenario.FORWARD, 64, "spin", 2, 150, 450, 1e9, 0, 0, -1, -1, -1, -1, -1, ""));
        final List<RunResult> cacheLine = List.of(
            new RunResult(null, Scenario.RTT_SPIN, 8, "spin", 0, 150, -1, 0, -1, -1, 150, 200, 300, 1000, -1, ""));
        return new Report(BenchOptions.parse(), new MachineFacts("Test CPU", 2, "JVM 17", "Linux", "0.1 0.1 0.1", "now"),
            runs, cacheLine, 18.0, 1.0);
    }

    @Test
    void shouldCompareSplitnetWithAPeerOnlyWithinOnePlacement()
    {
        final String table = report().table(false);
        assertTrue(table.contains("| forward | 64 | spin | near (0.16 us) | 30.00 M/s (1.92 GB/s) [1] | 45.00 M/s (2.88 GB/s) **x1.50** | - | - | 20.00 M/s (1.28 GB/s) **x1.50** | - |"), table);
        assertTrue(table.contains("| forward | 64 | spin | far (0.46 us) | 12.00 M/s (0.77 GB/s) [1] | - | - | - | - | 16.00 M/s (1.02 GB/s) **x0.75** |"), table);
    }

    @Test
    void shouldShowARunWhoseProbesNameTwoPlacementsAsMovedAndNeverCompareIt()
    {
        final String table = report().table(false);
        assertTrue(table.contains("| forward | 64 | spin | moved (0.15 us) | - | - | - | - | 1000.00 M/s (64.00 GB/s) | - |"), table);
        assertTrue(report().targets(false).contains("- **near**: Xen ring: 64 B one-way >= Aeron: x1.50 met"), "the moved run is left out");
        final String csv = report().results().stream().filter(r -> r.placement() == Placement.MOVED).map(RunResult::csv)
            .findFirst().orElseThrow();
        assertTrue(csv.startsWith("aeron,forward,64,spin,2,moved,150.0,450.0,1000000000.0,"), csv);
    }

    @Test
    void shouldSayWhereSplitnetStandsAgainstEachTarget()
    {
        final String targets = report().targets(false);
        final String near = targets.lines().filter(l -> l.startsWith("- **near**")).findFirst().orElseThrow();
        // each format judged on its own runs, and the RTT bound beside Aeron's own ratio to it
        assertTrue(near.contains("Xen ring: 64 B one-way >= Aeron: x1.50 met; RTT busy-spin p50 within 1.5x cache-line RTT: "
            + "2.0x NOT met (Aeron IPC 1.8x)"), near);
        assertTrue(near.contains("ring v2: 64 B one-way >= Aeron: x2.25 met; RTT busy-spin p50 within 1.5x cache-line RTT: "
            + "1.6x NOT met (Aeron IPC 1.8x)"), near);
        assertTrue(targets.contains("- **far**: Xen ring: 64 B one-way >= half Agrona ring: x0.75 met"), targets);
    }

    @Test
    void shouldWriteTheMarkdownReportWithMachineFactsAndRawRuns() throws Exception
    {
        report().write(dir, List.of("| jmh | row |"));
        final String md = Files.readString(dir.resolve("latest.md"));
        assertTrue(md.contains("**Machine:** Test CPU, 2 cores (vCPUs), JVM 17, Linux"), md);
        assertTrue(md.contains("| jmh | row |"));
        assertEquals(10, Files.readAllLines(dir.resolve("runs.csv")).size(), "a header and the nine runs");
    }
}

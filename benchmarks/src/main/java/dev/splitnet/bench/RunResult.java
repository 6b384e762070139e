package dev.splitnet.bench;

/** One run of one transport in one case: what both workers reported, with the placement it ran in. */
record RunResult(
    Transport transport,
    Scenario scenario,
    int size,
    String idle,
    int rep,
    double probeNs,
    double probeAfterNs,
    double rate,
    double allocA,
    double allocB,
    double p50,
    double p99,
    double p999,
    double max,
    double cpuShare,
    String extra)
{
    /**
     * Below this share of CPU time, a side that should have spun all along was descheduled by
     * another load. Spinning sides measure 95-99% on a quiet machine; Aeron's sides 65-90%, as the
     * embedded driver's conductor shares the two cores with them.
     */
    static final double MIN_CPU_SHARE = 0.6;

    /**
     * Where the run ran: contended when a side lost its core, moved when the probe after the run
     * (-1 when it did not run) names another placement than the probe before it, else the
     * placement both name.
     */
    Placement placement()
    {
        if (cpuShare >= 0 && cpuShare < MIN_CPU_SHARE)
        {
            return Placement.CONTENDED;
        }
        final Placement before = Placement.of(probeNs);
        return probeAfterNs < 0 || before == Placement.CONTENDED || Placement.of(probeAfterNs) == before ? before : Placement.MOVED;
    }

    /** Payload bandwidth in GB/s (messages per second times size). */
    double gigabytesPerSecond()
    {
        return rate * size / 1e9;
    }

    /** Allocation per message on the worse of the two sides; -1 when unknown. */
    double allocWorst()
    {
        return Math.max(allocA, allocB);
    }

    static String csvHeader()
    {
        return "transport,scenario,size,idle,rep,placement,probe_ns,probe_after_ns,rate_msg_s,gbps,alloc_a,alloc_b,p50_ns,p99_ns,p999_ns,max_ns,cpu_share,extra";
    }

    String csv()
    {
        return String.join(",", transport.cliName(), scenario.cliName(), Integer.toString(size), idle, Integer.toString(rep),
            placement().label(), fmt(probeNs), fmt(probeAfterNs), fmt(rate), String.format(java.util.Locale.ROOT, "%.3f", gigabytesPerSecond()),
            fmt(allocA), fmt(allocB), fmt(p50), fmt(p99), fmt(p999), fmt(max),
            String.format(java.util.Locale.ROOT, "%.3f", cpuShare), extra.trim().replace(' ', ';'));
    }

    private static String fmt(final double v)
    {
        return String.format(java.util.Locale.ROOT, "%.1f", v);
    }
}

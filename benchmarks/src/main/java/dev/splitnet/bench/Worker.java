package dev.splitnet.bench;

import dev.splitnet.backend.RxMode;
import java.io.File;
import java.nio.file.Path;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * One side of one run, in its own JVM, started by the harness: side A owns the transport's
 * shared files (splitnet's backend, Aeron's embedded driver, the ring's creator, the socket's
 * listener), side B connects to it. Before the run the two measure the bare cache-line round trip
 * between them through the control file; at the end each prints one {@code RESULT} line.
 *
 * <pre>Worker SIDE TRANSPORT SCENARIO SIZE WARMUP_MS MEASURE_MS RUN_DIR IDLE</pre>
 */
public final class Worker
{
    static final long PROBE_MS = 300;
    /** The probe after the run gives up on a side that has not answered for this long. */
    static final long PROBE_ANSWER_TIMEOUT_MS = 5_000;

    private Worker()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final boolean sideA = "a".equals(args[0]);
        final String transportName = args[1];
        final Scenario scenario = Scenario.parse(args[2]);
        final int size = Integer.parseInt(args[3]);
        final long warmupMs = Long.parseLong(args[4]);
        final long measureMs = Long.parseLong(args[5]);
        final Path runDir = Path.of(args[6]);
        final boolean yielding = "yield".equals(args[7]);
        try (Control control = new Control(new File(runDir.toFile(), "control")))
        {
            if ("cacheline".equals(transportName))
            {
                cacheLine(sideA, control, warmupMs + measureMs);
                return;
            }
            if ("copy".equals(transportName))
            {
                CopyBandwidth.run(size, warmupMs, measureMs);
                return;
            }
            final Transport transport = Transport.parse(transportName);
            final boolean aSends = scenario.isReceiveDirection();
            final boolean measuring = scenario.isThroughput() ? sideA != aSends : !sideA;
            final WorkerSetup setup = new WorkerSetup(runDir, scenario, size, yielding,
                new Meter(control, measuring, warmupMs, measureMs));
            final TransportWorker worker = create(transport, setup);
            final Histogram probe = new Histogram(3_600_000_000L, 3);
            if (sideA)
            {
                worker.prepare(true);
                control.signalReady();
                control.pong();
            }
            else
            {
                control.awaitReady(60_000);
                control.ping(PROBE_MS, probe);
                worker.prepare(false);
            }
            final Histogram rtt = new Histogram(3_600_000_000L, 3);
            switch (scenario)
            {
                case FORWARD:
                case READ:
                case RX:
                case RX_READ:
                    if (sideA == aSends)
                    {
                        worker.send(aSends);
                    }
                    else
                    {
                        worker.receive(scenario == Scenario.READ || scenario == Scenario.RX_READ);
                    }
                    break;
                default:
                    if (sideA)
                    {
                        worker.echo(scenario == Scenario.RTT_BLOCK);
                    }
                    else
                    {
                        worker.ping(scenario == Scenario.RTT_BLOCK, rtt);
                    }
                    break;
            }
            final Meter meter = setup.meter;
            final StringBuilder line = new StringBuilder("RESULT side=").append(sideA ? "a" : "b");
            line.append(String.format(Locale.ROOT, " rate=%.1f messages=%d seconds=%.3f alloc=%.3f cpu=%.3f checksum=%d",
                meter.ratePerSecond(), meter.messages(), meter.seconds(), meter.allocatedPerMessage(), meter.cpuShare(),
                setup.checksum));
            if (!sideA)
            {
                line.append(String.format(Locale.ROOT, " probe_p50=%d", probe.getValueAtPercentile(50)));
            }
            if (rtt.getTotalCount() > 0)
            {
                line.append(String.format(Locale.ROOT, " p50=%d p99=%d p999=%d max=%d",
                    rtt.getValueAtPercentile(50), rtt.getValueAtPercentile(99), rtt.getValueAtPercentile(99.9), rtt.getMaxValue()));
            }
            line.append(worker.extra());
            control.signalDone(sideA);
            control.awaitOtherDone(sideA, 5_000);
            // the placement again, after both windows closed: the vCPUs move between near and far
            // cores minute to minute, and a run that moved is not compared (Placement.MOVED)
            if (sideA)
            {
                control.pongAfter(PROBE_ANSWER_TIMEOUT_MS);
            }
            else
            {
                final Histogram probeAfter = new Histogram(3_600_000_000L, 3);
                if (control.pingAfter(PROBE_MS, probeAfter, PROBE_ANSWER_TIMEOUT_MS) && probeAfter.getTotalCount() > 0)
                {
                    line.append(String.format(Locale.ROOT, " probe_after_p50=%d", probeAfter.getValueAtPercentile(50)));
                }
            }
            System.out.println(line);
            System.out.flush();
            worker.close();
        }
        System.exit(0);
    }

    private static TransportWorker create(final Transport transport, final WorkerSetup setup)
    {
        switch (transport)
        {
            case SPLITNET: return new SplitnetWorker(setup, false, RxMode.COPY);
            case SPLITNET_V2: return new SplitnetWorker(setup, true, RxMode.COPY);
            case SPLITNET_FLIP: return new SplitnetWorker(setup, false, RxMode.FLIP);
            case SPLITNET_LAZY: return new SplitnetWorker(setup, false, RxMode.LAZY);
            case AERON: return new AeronWorker(setup);
            case AGRONA: return new AgronaRingWorker(setup);
            default: return new UdsWorker(setup);
        }
    }

    /** The bare cache-line ping-pong as a measurement of its own: B pings, A answers. */
    private static void cacheLine(final boolean sideA, final Control control, final long durationMs)
    {
        if (sideA)
        {
            control.signalReady();
            control.pong();
            System.out.println("RESULT side=a rate=0 messages=0 seconds=0 alloc=-1 checksum=0");
        }
        else
        {
            control.awaitReady(60_000);
            final Histogram h = new Histogram(3_600_000_000L, 3);
            control.ping(durationMs, h);
            System.out.println(String.format(Locale.ROOT,
                "RESULT side=b rate=0 messages=%d seconds=0 alloc=-1 checksum=0 probe_p50=%d p50=%d p99=%d p999=%d max=%d",
                h.getTotalCount(), h.getValueAtPercentile(50), h.getValueAtPercentile(50), h.getValueAtPercentile(99),
                h.getValueAtPercentile(99.9), h.getMaxValue()));
        }
        System.out.flush();
        System.exit(0);
    }
}

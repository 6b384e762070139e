package dev.splitnet.cli;

import dev.splitnet.api.IdleMode;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.DeviceDirectory;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code splitnet demo}: a backend switch and two frontends, three JVMs. Each frontend sends half
 * its packets to the other (the switch copies them into the peer's receive buffers) and half off
 * the host (the switch sends them by zero-copy egress to a UDP socket on 127.0.0.1, payload never
 * mapped). Prints progress each second and one JSON line at the end.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Runs a backend switch and two frontends as three JVMs, with progress each second and a JSON summary.")
final class DemoCommand implements Callable<Integer>
{
    /** The backend counters that each name why a packet was dropped. */
    private static final List<DeviceCounter> DROP_REASONS = List.of(DeviceCounter.RX_DROPPED_NO_BUFFER,
        DeviceCounter.RX_DROPPED_QUEUE_FULL, DeviceCounter.RX_DROPPED_DRAIN_TIMEOUT, DeviceCounter.RX_DROPPED_STALLED,
        DeviceCounter.RX_DROPPED_DISCONNECT, DeviceCounter.TX_QUEUED_DROPPED_PRESSURE, DeviceCounter.HELD_DROPPED_BOUND,
        DeviceCounter.HELD_DROPPED_LIMIT);
    private static final Pattern NUMBER = Pattern.compile("\"([a-z_]+)\":(-?\\d+)");
    /** The longest run the demo takes: a day. */
    private static final double MAX_DURATION_SECONDS = 86_400;
    private static final long SECOND_NS = TimeUnit.SECONDS.toNanos(1);
    static final String LEGEND = "splitnet demo: each second, per frontend the packets it sent and received; wire: datagrams "
        + "the UDP sink got (zero-copy egress, payload never mapped); copied: packets the switch copied into the other frontend's "
        + "receive buffers, payload faults: first CPU reads of their fragments (one per fragment copied); zero-copy bytes: payload "
        + "written to the wire straight from the granted frames; dropped: packets not delivered, no RX buffer: for want of receive "
        + "buffers posted by the receiving frontend (the switch queues a packet for such a frontend in its sender's grants, "
        + "and drops it only past the queue's bound or timeouts); local (with --local-percent): packets to the backend itself, held by its "
        + "consumer --hold-ms in the sender's grants, copied late only past the backend's copy deadline";

    @Option(names = "--duration", paramLabel = "SECONDS", description = "How long the frontends send, more than 0 (default: ${DEFAULT-VALUE}).")
    double durationSeconds = 5;

    @Option(names = "--dir", paramLabel = "DIR", description = "Device directory, kept after the run (default: a new one next to the "
        + "default directory, removed after a clean run or a signal).")
    Path directory;

    @Option(names = "--min-size", paramLabel = "BYTES", description = "Smallest payload (default: ${DEFAULT-VALUE}).")
    int minSize = 64;

    @Option(names = "--max-size", paramLabel = "BYTES", description = "Largest payload, at most 65443 so a packet fits a datagram (default: ${DEFAULT-VALUE}).")
    int maxSize = 9000;

    @Option(names = "--wire-percent", paramLabel = "P", description = "Percent of packets sent off the host, 0 to 100 (default: ${DEFAULT-VALUE}).")
    int wirePercent = 50;

    @Option(names = "--local-percent", paramLabel = "P", description = "Percent of packets addressed to the backend itself, whose "
        + "local consumer holds each --hold-ms without copying it, then checks every byte (default: ${DEFAULT-VALUE}).")
    int localPercent;

    @Option(names = "--hold-ms", paramLabel = "MS", description = "How long the backend's local consumer holds each packet (default: ${DEFAULT-VALUE}).")
    long holdMs = 10;

    @Option(names = "--idle", paramLabel = "MODE", converter = IdleModeConverter.class,
        description = "Idle mode of all three processes: busy-spin, backoff, blocking (default: backoff).")
    IdleMode idle = IdleMode.BACKOFF;

    // totals by device and counter, each the largest value seen: a device whose file went away keeps its last values
    private final Map<String, long[]> lastSeen = new TreeMap<>();

    @Override
    public Integer call() throws Exception
    {
        validate();
        final Path dir = directory != null ? directory : newDirectory();
        final DemoCleanup cleanup = new DemoCleanup(directory == null ? dir : null);
        final Thread hook = new Thread(cleanup::run, "splitnet-demo-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        boolean keepLogs = false;
        try (WireSink wire = new WireSink())
        {
            DeviceDirectory.create(dir);
            final String idleName = idle.name().toLowerCase(Locale.ROOT).replace('_', '-');
            final Process backend = cleanup.add(ChildJvm.start(dir.resolve("backend.log"), "backend", "--dir", dir.toString(), "--mode",
                "switch", "--egress", "127.0.0.1:" + wire.port(), "--idle", idleName, "--hold-ms", String.valueOf(holdMs), "--quiet"));
            awaitSocket(dir, backend);
            final String duration = String.valueOf(durationSeconds);
            final String[] names = { "a", "b" };
            final List<Process> frontends = new ArrayList<>();
            final List<CompletableFuture<String>> summaries = new ArrayList<>();
            for (int i = 0; i < names.length; i++)
            {
                final Process frontend = cleanup.add(ChildJvm.start(dir.resolve("frontend-" + names[i] + ".log"), "frontend", "--dir",
                    dir.toString(), "--name", names[i], "--peer", names[1 - i], "--wire-percent", String.valueOf(wirePercent),
                    "--local-percent", String.valueOf(localPercent),
                    "--duration", duration, "--min-size", String.valueOf(minSize), "--max-size", String.valueOf(maxSize),
                    "--random-fragments", "--idle", idleName, "--quiet", "--replace"));
                frontends.add(frontend);
                summaries.add(CompletableFuture.supplyAsync(() -> lastLine(frontend)));
            }
            System.err.printf(Locale.ROOT, "splitnet demo: backend pid %d, frontends %d and %d, dir %s, wire udp 127.0.0.1:%d, %.1f s%n",
                backend.pid(), frontends.get(0).pid(), frontends.get(1).pid(), dir, wire.port(), durationSeconds);
            System.err.println(LEGEND);
            final long start = System.nanoTime();
            final long giveUp = start + (long)((durationSeconds + 60) * 1e9);
            long nextProgress = start + SECOND_NS;
            while (frontends.stream().anyMatch(Process::isAlive))
            {
                // wait for the next second (or for both frontends to end), whichever frontend ends first
                final long now = System.nanoTime();
                if (now - nextProgress < 0)
                {
                    Thread.sleep(Math.min(50, Math.max(1, TimeUnit.NANOSECONDS.toMillis(nextProgress - now))));
                    continue;
                }
                progress(dir, wire, (now - start) / 1e9);
                // on the whole seconds while on time; after a late line (a loaded machine) no sooner than 0.9 s after it
                final long onGrid = nextProgress + SECOND_NS;
                final long afterLate = now + SECOND_NS * 9 / 10;
                nextProgress = afterLate - onGrid > 0 ? afterLate : onGrid;
                if (now - giveUp > 0)
                {
                    throw new IllegalStateException("frontends did not finish within 60 s of the run's end; logs in " + dir);
                }
            }
            final List<String> lines = new ArrayList<>();
            for (final CompletableFuture<String> summary : summaries)
            {
                lines.add(summary.get(10, TimeUnit.SECONDS));
            }
            backend.destroy();
            backend.waitFor(10, TimeUnit.SECONDS);
            Thread.sleep(100); // datagrams already sent are in the sink's socket buffer
            final String json = summary(backend, frontends, lines, wire);
            explainDrops(json);
            System.out.println(json);
            final boolean clean = value(json, "integrity_errors") == 0 && frontends.stream().allMatch(p -> p.exitValue() == 0);
            if (!clean)
            {
                keepLogs = true;
                System.err.println("splitnet demo: a frontend failed or saw corrupt data; logs in " + dir);
            }
            return clean ? 0 : 1;
        }
        catch (final Exception | Error ex)
        {
            keepLogs = true; // its message points at the logs
            throw ex;
        }
        finally
        {
            if (keepLogs)
            {
                cleanup.keepDirectory();
            }
            cleanup.run();
            try
            {
                Runtime.getRuntime().removeShutdownHook(hook);
            }
            catch (final IllegalStateException shuttingDown)
            {
                // the hook is running: it cleans up too, once
            }
        }
    }

    /** Every option is checked before anything is started or created. */
    private void validate()
    {
        final picocli.CommandLine commandLine = new picocli.CommandLine(this);
        if (!(durationSeconds > 0 && durationSeconds <= MAX_DURATION_SECONDS))
        {
            throw new picocli.CommandLine.ParameterException(commandLine, "--duration=" + durationSeconds
                + ": must be more than 0 and at most " + (long)MAX_DURATION_SECONDS + " seconds");
        }
        if (maxSize > BackendMode.MAX_DATAGRAM - DemoFrame.HEADER_LENGTH || minSize < 0 || minSize > maxSize)
        {
            throw new picocli.CommandLine.ParameterException(commandLine, "--min-size=" + minSize + " --max-size=" + maxSize
                + ": must satisfy 0 <= min <= max <= " + (BackendMode.MAX_DATAGRAM - DemoFrame.HEADER_LENGTH));
        }
        if (wirePercent < 0 || wirePercent > 100)
        {
            throw new picocli.CommandLine.ParameterException(commandLine, "--wire-percent=" + wirePercent + ": must be 0 to 100");
        }
        if (localPercent < 0 || wirePercent + localPercent > 100 || holdMs < 0)
        {
            throw new picocli.CommandLine.ParameterException(commandLine, "--local-percent=" + localPercent + " --hold-ms=" + holdMs
                + ": the local share must be 0 to " + (100 - wirePercent) + " (with --wire-percent=" + wirePercent
                + ", together at most 100) and the hold >= 0");
        }
        if (directory != null)
        {
            final Path parent = directory.toAbsolutePath().getParent();
            if (parent != null && !Files.isDirectory(parent))
            {
                throw new picocli.CommandLine.ParameterException(commandLine, "--dir=" + directory + ": its parent " + parent
                    + " does not exist");
            }
        }
    }

    private static Path newDirectory() throws IOException
    {
        final Path parent = DeviceDirectory.defaultPath().getParent();
        return Files.createTempDirectory(parent, "splitnet-demo-");
    }

    private static void awaitSocket(final Path dir, final Process backend) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(dir.resolve(DeviceDirectory.SOCKET_NAME)))
        {
            if (!backend.isAlive() || System.nanoTime() - deadline > 0)
            {
                throw new IllegalStateException("the backend did not start; see " + dir.resolve("backend.log"));
            }
            Thread.sleep(20);
        }
    }

    private static String lastLine(final Process process)
    {
        String last = "";
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
        {
            String line;
            while ((line = reader.readLine()) != null)
            {
                last = line;
            }
        }
        catch (final IOException ex)
        {
            return "";
        }
        return last;
    }

    /** One progress line: totals that never go backwards, elapsed wall time. */
    private void progress(final Path dir, final WireSink wire, final double elapsedSeconds)
    {
        for (final DeviceSnapshot s : DeviceSnapshot.readAll(dir))
        {
            final long[] seen = lastSeen.computeIfAbsent(s.name(), name -> new long[DeviceCounter.COUNT]);
            for (final DeviceCounter c : DeviceCounter.values())
            {
                seen[c.ordinal()] = Math.max(seen[c.ordinal()], s.get(c));
            }
        }
        final StringBuilder sb = new StringBuilder(256);
        sb.append(String.format(Locale.ROOT, "[demo %4.1f s]", elapsedSeconds));
        long copied = 0;
        long faults = 0;
        long zeroCopyBytes = 0;
        long dropped = 0;
        long noBuffer = 0;
        long held = 0;
        long copiedLate = 0;
        for (final Map.Entry<String, long[]> e : lastSeen.entrySet())
        {
            final long[] c = e.getValue();
            sb.append(String.format(Locale.ROOT, " %s: sent %d, received %d |", e.getKey(),
                c[DeviceCounter.TX_PACKETS.ordinal()], c[DeviceCounter.RX_PACKETS.ordinal()]));
            copied += c[DeviceCounter.RX_DELIVERED.ordinal()];
            faults += c[DeviceCounter.PAYLOAD_FAULTS.ordinal()];
            zeroCopyBytes += c[DeviceCounter.ZERO_COPY_BYTES.ordinal()];
            dropped += c[DeviceCounter.TX_DROPPED.ordinal()];
            noBuffer += c[DeviceCounter.RX_DROPPED_NO_BUFFER.ordinal()] + c[DeviceCounter.RX_DROPPED_QUEUE_FULL.ordinal()]
                + c[DeviceCounter.RX_DROPPED_DRAIN_TIMEOUT.ordinal()] + c[DeviceCounter.RX_DROPPED_STALLED.ordinal()]
                + c[DeviceCounter.RX_DROPPED_DISCONNECT.ordinal()] + c[DeviceCounter.TX_QUEUED_DROPPED_PRESSURE.ordinal()];
            held += c[DeviceCounter.HELD_PACKETS.ordinal()];
            copiedLate += c[DeviceCounter.HELD_COPIED_DEADLINE.ordinal()] + c[DeviceCounter.HELD_COPIED_PRESSURE.ordinal()]
                + c[DeviceCounter.HELD_COPIED_DISCONNECT.ordinal()];
        }
        sb.append(String.format(Locale.ROOT, " wire: %d datagrams | copied %d, payload faults %d | zero-copy bytes %d | dropped %d "
            + "(no RX buffer %d)", wire.datagrams(), copied, faults, zeroCopyBytes, dropped, noBuffer));
        if (held > 0)
        {
            sb.append(String.format(Locale.ROOT, " | local: held %d without a copy, copied late %d", held, copiedLate));
        }
        System.err.println(sb);
    }

    /** Says why packets were dropped, if any were. */
    private static void explainDrops(final String json)
    {
        final long dropped = value(json, "tx_dropped");
        if (dropped > 0)
        {
            final long noBuffer = value(json, "dropped_no_rx_buffer");
            final long held = value(json, "dropped_held");
            System.err.printf(Locale.ROOT, "splitnet demo: %d packets DROPPED, %d of them for want of receive buffers posted by the "
                + "receiving frontend (the receiver's RX queue was full or timed out, or the packet could not wait: rx_dropped_*; a "
                + "sender keeps within the receiver's window to avoid it, see README 'Deliver and the window'), %d held by the local consumer "
                + "past the backend's copy memory (held_dropped_bound, held_dropped_limit), %d because the wire write failed%n",
                dropped, noBuffer, held, dropped - noBuffer - held);
        }
    }

    private static long value(final String json, final String key)
    {
        final Matcher m = NUMBER.matcher(json);
        while (m.find())
        {
            if (m.group(1).equals(key))
            {
                return Long.parseLong(m.group(2));
            }
        }
        return 0;
    }

    private static String summary(final Process backend, final List<Process> frontends, final List<String> lines, final WireSink wire)
    {
        long sent = 0;
        long received = 0;
        long integrity = wire.integrityErrors();
        long okay = 0;
        long dropped = 0;
        long error = 0;
        final long[] counters = new long[DeviceCounter.values().length];
        for (final String line : lines)
        {
            sent += value(line, "sent");
            received += value(line, "received");
            integrity += value(line, "integrity_errors");
            okay += value(line, "okay");
            dropped += value(line, "dropped");
            error += value(line, "error");
            for (final DeviceCounter c : DeviceCounter.values())
            {
                counters[c.ordinal()] += value(line, c.key());
            }
            if (line.isEmpty())
            {
                integrity++; // a frontend that printed no summary cannot vouch for its data
            }
        }
        final StringBuilder sb = new StringBuilder(1024);
        sb.append("{\"backend_pid\":").append(backend.pid())
            .append(",\"frontend_pids\":[").append(frontends.get(0).pid()).append(',').append(frontends.get(1).pid()).append(']')
            .append(",\"packets_sent\":").append(sent)
            .append(",\"packets_received\":").append(received + wire.datagrams())
            .append(",\"received_by_frontends\":").append(received)
            .append(",\"sent_to_wire\":").append(counters[DeviceCounter.EGRESS_PACKETS.ordinal()])
            .append(",\"received_on_wire\":").append(wire.datagrams())
            .append(",\"tx_okay\":").append(okay).append(",\"tx_dropped\":").append(dropped).append(",\"tx_error\":").append(error)
            .append(",\"dropped_no_rx_buffer\":").append(counters[DeviceCounter.RX_DROPPED_NO_BUFFER.ordinal()]
                + counters[DeviceCounter.RX_DROPPED_QUEUE_FULL.ordinal()] + counters[DeviceCounter.RX_DROPPED_DRAIN_TIMEOUT.ordinal()]
                + counters[DeviceCounter.RX_DROPPED_STALLED.ordinal()] + counters[DeviceCounter.RX_DROPPED_DISCONNECT.ordinal()]
                + counters[DeviceCounter.TX_QUEUED_DROPPED_PRESSURE.ordinal()])
            .append(",\"drop_reasons\":{");
        appendDropReasons(sb, counters);
        sb.append('}')
            .append(",\"rx_queued\":").append(counters[DeviceCounter.RX_QUEUED.ordinal()])
            .append(",\"sender_pauses\":").append(counters[DeviceCounter.TX_SENDER_PAUSES.ordinal()])
            .append(",\"sends_back_pressured\":").append(counters[DeviceCounter.TX_BACK_PRESSURED.ordinal()])
            .append(",\"held\":").append(counters[DeviceCounter.HELD_PACKETS.ordinal()])
            .append(",\"held_copied_late\":").append(counters[DeviceCounter.HELD_COPIED_DEADLINE.ordinal()]
                + counters[DeviceCounter.HELD_COPIED_PRESSURE.ordinal()] + counters[DeviceCounter.HELD_COPIED_DISCONNECT.ordinal()])
            .append(",\"dropped_held\":").append(counters[DeviceCounter.HELD_DROPPED_BOUND.ordinal()]
                + counters[DeviceCounter.HELD_DROPPED_LIMIT.ordinal()])
            .append(",\"integrity_errors\":").append(integrity)
            .append(",\"payload_faults\":").append(counters[DeviceCounter.PAYLOAD_FAULTS.ordinal()])
            .append(",\"grant_maps\":").append(counters[DeviceCounter.GRANT_MAPS.ordinal()])
            .append(",\"grant_pins\":").append(counters[DeviceCounter.GRANT_PINS.ordinal()])
            .append(",\"header_bytes_copied\":").append(counters[DeviceCounter.HEADER_BYTES_COPIED.ordinal()])
            .append(",\"payload_bytes_copied\":").append(counters[DeviceCounter.PAYLOAD_BYTES_COPIED.ordinal()])
            .append(",\"zero_copy_bytes\":").append(counters[DeviceCounter.ZERO_COPY_BYTES.ordinal()])
            .append(",\"doorbells_sent\":").append(counters[DeviceCounter.FRONTEND_DOORBELLS_SENT.ordinal()]
                + counters[DeviceCounter.BACKEND_DOORBELLS_SENT.ordinal()])
            .append('}');
        return sb.toString();
    }

    /** Every counter that names a reason a packet was dropped, by its key (zeros left out). */
    private static void appendDropReasons(final StringBuilder sb, final long[] counters)
    {
        boolean first = true;
        for (final DeviceCounter c : DROP_REASONS)
        {
            if (counters[c.ordinal()] != 0)
            {
                sb.append(first ? "" : ",").append('"').append(c.key()).append("\":").append(counters[c.ordinal()]);
                first = false;
            }
        }
    }
}

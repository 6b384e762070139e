package dev.splitnet.cli;

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
    private static final Pattern NUMBER = Pattern.compile("\"([a-z_]+)\":(-?\\d+)");

    @Option(names = "--duration", paramLabel = "SECONDS", description = "How long the frontends send (default: ${DEFAULT-VALUE}).")
    double durationSeconds = 5;

    @Option(names = "--dir", paramLabel = "DIR", description = "Device directory (default: a new one next to the default directory).")
    Path directory;

    @Option(names = "--min-size", paramLabel = "BYTES", description = "Smallest payload (default: ${DEFAULT-VALUE}).")
    int minSize = 64;

    @Option(names = "--max-size", paramLabel = "BYTES", description = "Largest payload, at most 65443 so a packet fits a datagram (default: ${DEFAULT-VALUE}).")
    int maxSize = 9000;

    @Option(names = "--wire-percent", paramLabel = "P", description = "Percent of packets sent off the host (default: ${DEFAULT-VALUE}).")
    int wirePercent = 50;

    @Option(names = "--idle", paramLabel = "MODE", description = "Idle mode of all three processes: busy-spin, backoff, blocking (default: ${DEFAULT-VALUE}).")
    String idle = "backoff";

    @Override
    public Integer call() throws Exception
    {
        if (maxSize > BackendMode.MAX_DATAGRAM - DemoFrame.HEADER_LENGTH || minSize < 0 || minSize > maxSize)
        {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--min-size/--max-size must satisfy 0 <= min <= max <= "
                + (BackendMode.MAX_DATAGRAM - DemoFrame.HEADER_LENGTH));
        }
        final Path dir = directory != null ? directory : newDirectory();
        DeviceDirectory.create(dir);
        final List<Process> processes = new ArrayList<>();
        try (WireSink wire = new WireSink())
        {
            final Process backend = ChildJvm.start(dir.resolve("backend.log"), "backend", "--dir", dir.toString(), "--mode", "switch",
                "--egress", "127.0.0.1:" + wire.port(), "--idle", idle, "--quiet");
            processes.add(backend);
            awaitSocket(dir, backend);
            final String duration = String.valueOf(durationSeconds);
            final String[] names = { "a", "b" };
            final List<Process> frontends = new ArrayList<>();
            final List<CompletableFuture<String>> summaries = new ArrayList<>();
            for (int i = 0; i < names.length; i++)
            {
                final Process frontend = ChildJvm.start(dir.resolve("frontend-" + names[i] + ".log"), "frontend", "--dir", dir.toString(),
                    "--name", names[i], "--peer", names[1 - i], "--wire-percent", String.valueOf(wirePercent), "--duration", duration,
                    "--min-size", String.valueOf(minSize), "--max-size", String.valueOf(maxSize), "--random-fragments", "--idle", idle,
                    "--quiet", "--replace");
                processes.add(frontend);
                frontends.add(frontend);
                summaries.add(CompletableFuture.supplyAsync(() -> lastLine(frontend)));
            }
            System.err.printf(Locale.ROOT, "splitnet demo: backend pid %d, frontends %d and %d, dir %s, wire udp 127.0.0.1:%d, %.1f s%n",
                backend.pid(), frontends.get(0).pid(), frontends.get(1).pid(), dir, wire.port(), durationSeconds);
            final long start = System.nanoTime();
            int second = 0;
            while (frontends.stream().anyMatch(Process::isAlive))
            {
                if (frontends.get(0).waitFor(1, TimeUnit.SECONDS) && !frontends.get(1).isAlive())
                {
                    break;
                }
                second++;
                progress(dir, wire, second);
                if (System.nanoTime() - start > (long)((durationSeconds + 60) * 1e9))
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
            System.out.println(json);
            final boolean clean = value(json, "integrity_errors") == 0 && frontends.stream().allMatch(p -> p.exitValue() == 0);
            if (!clean)
            {
                System.err.println("splitnet demo: a frontend failed or saw corrupt data; logs in " + dir);
            }
            else if (directory == null)
            {
                deleteDirectory(dir);
            }
            return clean ? 0 : 1;
        }
        finally
        {
            for (final Process p : processes)
            {
                p.destroyForcibly();
            }
        }
    }

    private static Path newDirectory() throws IOException
    {
        final Path parent = DeviceDirectory.defaultPath().getParent();
        return Files.createTempDirectory(parent, "splitnet-demo-");
    }

    private static void deleteDirectory(final Path dir) throws IOException
    {
        try (var files = Files.list(dir))
        {
            for (final Path file : files.toList())
            {
                Files.deleteIfExists(file);
            }
        }
        Files.deleteIfExists(dir);
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

    private static void progress(final Path dir, final WireSink wire, final int second)
    {
        final StringBuilder sb = new StringBuilder(256);
        sb.append(String.format(Locale.ROOT, "[demo %2ds]", second));
        long faults = 0;
        long pins = 0;
        for (final DeviceSnapshot s : DeviceSnapshot.readAll(dir))
        {
            sb.append(String.format(Locale.ROOT, " %s(dom %d): sent %d, received %d |", s.name(), s.domainId(),
                s.get(DeviceCounter.TX_PACKETS), s.get(DeviceCounter.RX_PACKETS)));
            faults += s.get(DeviceCounter.PAYLOAD_FAULTS);
            pins += s.get(DeviceCounter.GRANT_PINS);
        }
        sb.append(String.format(Locale.ROOT, " wire: %d datagrams | payload faults %d, zero-copy pins %d", wire.datagrams(), faults, pins));
        System.err.println(sb);
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
}

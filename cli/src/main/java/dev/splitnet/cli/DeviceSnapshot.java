package dev.splitnet.cli;

import dev.splitnet.api.XenbusState;
import dev.splitnet.mmap.ClaimFile;
import dev.splitnet.mmap.Device;
import dev.splitnet.mmap.DeviceFileException;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.CounterReadings;
import dev.splitnet.mmap.DeviceDirectory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** One reading of a device file's states and counters, taken read-only from outside the processes. */
public record DeviceSnapshot(String name, Path file, int domainId, XenbusState frontendState, XenbusState backendState,
    Map<DeviceCounter, Long> counters)
{
    /** Reads every device file in a directory; files that vanish or are half-written are skipped. */
    public static List<DeviceSnapshot> readAll(final Path directory)
    {
        final List<DeviceSnapshot> snapshots = new ArrayList<>();
        final List<Path> files;
        try (Stream<Path> list = Files.list(directory))
        {
            files = list.filter(p -> p.getFileName().toString().endsWith(DeviceDirectory.DEVICE_SUFFIX)).sorted().toList();
        }
        catch (final IOException ex)
        {
            throw new dev.splitnet.mmap.DeviceFileException("cannot list " + directory + ": " + ex.getMessage());
        }
        for (final Path file : files)
        {
            try
            {
                snapshots.add(read(file));
            }
            catch (final RuntimeException ex)
            {
                // a frontend deleting or still creating its file: not a device to show yet
            }
        }
        return snapshots;
    }

    /**
     * Reads one device file: its states and the frontend's counters from the file, and the
     * backend's counters of that frontend from the backend's own counters file beside it.
     */
    public static DeviceSnapshot read(final Path file)
    {
        try (Device device = Device.attach(file.toFile(), true))
        {
            final Map<DeviceCounter, Long> counters = new EnumMap<>(
                CounterReadings.read(device, file.getParent(), device.domainId()).asMap());
            return new DeviceSnapshot(device.deviceName(), file, device.domainId(), device.frontendState(), device.backendState(), counters);
        }
        catch (final DeviceFileException ex)
        {
            // sealed memory with no backend to show it: what the claim file says, and no counters
            final ClaimFile.Contents claim = ClaimFile.readFrom(file);
            if (claim == null)
            {
                throw ex;
            }
            final String fileName = file.getFileName().toString();
            // the claim's state is the frontend's last word; a claim nobody holds is a frontend that died
            final XenbusState frontendState = Device.isInUse(file) ? XenbusState.fromCode(claim.frontendState()) : XenbusState.CLOSED;
            return new DeviceSnapshot(fileName.substring(0, fileName.length() - DeviceDirectory.DEVICE_SUFFIX.length()), file, 0,
                frontendState, XenbusState.UNKNOWN, new EnumMap<>(DeviceCounter.class));
        }
    }

    public long get(final DeviceCounter counter)
    {
        return counters.getOrDefault(counter, 0L);
    }

    /** The sum of the counters that count errors. */
    public long errors()
    {
        long sum = 0;
        for (final Map.Entry<DeviceCounter, Long> e : counters.entrySet())
        {
            if (e.getKey().key().startsWith("error_"))
            {
                sum += e.getValue();
            }
        }
        return sum;
    }

    public String toJson()
    {
        final StringBuilder sb = new StringBuilder(1024);
        sb.append("{\"name\":\"").append(name).append("\",\"file\":\"").append(file).append("\",\"domain_id\":").append(domainId)
            .append(",\"frontend_state\":\"").append(frontendState).append("\",\"backend_state\":\"").append(backendState)
            .append("\",\"counters\":");
        appendCounters(sb, counters);
        return sb.append('}').toString();
    }

    /** Appends counters as a JSON object keyed by {@link DeviceCounter#key()}. */
    public static void appendCounters(final StringBuilder sb, final Map<DeviceCounter, Long> counters)
    {
        sb.append('{');
        boolean first = true;
        for (final Map.Entry<DeviceCounter, Long> e : counters.entrySet())
        {
            if (!first)
            {
                sb.append(',');
            }
            first = false;
            sb.append('"').append(e.getKey().key()).append("\":").append(e.getValue());
        }
        sb.append('}');
    }
}

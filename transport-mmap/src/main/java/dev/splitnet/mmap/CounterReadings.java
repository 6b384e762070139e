package dev.splitnet.mmap;

import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;

/**
 * One frontend's counters as a reader outside the data path sees them: the frontend-written ones
 * from its device file, the backend-written ones from the backend's own counters file
 * ({@link BackendCounters}), matched by domain id. For tools and tests; allocates.
 */
public final class CounterReadings
{
    private final Map<DeviceCounter, Long> values;

    private CounterReadings(final Map<DeviceCounter, Long> values)
    {
        this.values = values;
    }

    /**
     * Reads now: {@code device}'s own counters, and what the backend in {@code directory} counted
     * for {@code domainId} (nothing when no backend counts it).
     */
    public static CounterReadings read(final Device device, final Path directory, final int domainId)
    {
        final Map<DeviceCounter, Long> values = new EnumMap<>(DeviceCounter.class);
        DeviceCounters.read(device.countersMetadata(), device.countersValues(), (counter, value) ->
        {
            if (counter.writer() == DeviceCounter.Side.FRONTEND)
            {
                values.put(counter, value);
            }
        });
        final Map<DeviceCounter, Long> backend = domainId > 0 ? BackendCounters.read(directory).get(domainId) : null;
        if (backend != null)
        {
            values.putAll(backend);
        }
        return new CounterReadings(values);
    }

    /** The counter's value, 0 when it was not found. */
    public long get(final DeviceCounter counter)
    {
        return values.getOrDefault(counter, 0L);
    }

    /** Every counter found, in {@link DeviceCounter} order. */
    public Map<DeviceCounter, Long> asMap()
    {
        return values;
    }
}

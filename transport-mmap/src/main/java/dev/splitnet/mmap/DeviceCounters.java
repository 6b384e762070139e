package dev.splitnet.mmap;

import java.util.function.ObjLongConsumer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;

/**
 * The counters region of a device file, through Agrona's counters: the frontend allocates every
 * {@link DeviceCounter} when it creates the file, both sides then increment the ones they write,
 * and any process can read them with {@link #read}.
 */
public final class DeviceCounters
{
    private final AtomicCounter[] counters;

    private DeviceCounters(final AtomicBuffer values)
    {
        counters = new AtomicCounter[DeviceCounter.COUNT];
        for (final DeviceCounter c : DeviceCounter.values())
        {
            counters[c.ordinal()] = new AtomicCounter(values, c.ordinal());
        }
    }

    private DeviceCounters(final AtomicCounter[] byKind)
    {
        counters = byKind;
    }

    /** Counters allocated elsewhere (the backend's own file), by {@link DeviceCounter} ordinal; null where absent. */
    static DeviceCounters of(final AtomicCounter[] byKind)
    {
        return new DeviceCounters(byKind.clone());
    }

    /** Frontend: allocates all counters in a fresh file (ids in {@link DeviceCounter} order). */
    public static DeviceCounters allocate(final AtomicBuffer metadata, final AtomicBuffer values)
    {
        final CountersManager manager = new CountersManager(metadata, values);
        for (final DeviceCounter c : DeviceCounter.values())
        {
            final int id = manager.allocate(c.key() + ": " + c.label(), DeviceCounter.TYPE_ID);
            if (id != c.ordinal())
            {
                throw new IllegalStateException("counter " + c + " got id " + id);
            }
        }
        return new DeviceCounters(values);
    }

    /** Backend: attaches to the counters the frontend allocated. */
    public static DeviceCounters attach(final AtomicBuffer values)
    {
        return new DeviceCounters(values);
    }

    /** The counter for a kind; increments must come from its {@link DeviceCounter#writer()} only. */
    public AtomicCounter get(final DeviceCounter counter)
    {
        final AtomicCounter c = counters[counter.ordinal()];
        if (c == null)
        {
            throw new IllegalArgumentException("counter=" + counter.key() + " is not kept here (written by the "
                + counter.writer().name().toLowerCase(java.util.Locale.ROOT) + ")");
        }
        return c;
    }

    /** Reads every splitnet counter of a device, for tools: key and value, in id order. */
    public static void read(final AtomicBuffer metadata, final AtomicBuffer values, final ObjLongConsumer<DeviceCounter> consumer)
    {
        final CountersReader reader = new CountersReader(metadata, values);
        final DeviceCounter[] kinds = DeviceCounter.values();
        for (int id = 0; id < kinds.length && id <= reader.maxCounterId(); id++)
        {
            if (reader.getCounterState(id) == CountersReader.RECORD_ALLOCATED && reader.getCounterTypeId(id) == DeviceCounter.TYPE_ID)
            {
                consumer.accept(kinds[id], reader.getCounterValue(id));
            }
        }
    }
}

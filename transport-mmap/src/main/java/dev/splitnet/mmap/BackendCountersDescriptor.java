package dev.splitnet.mmap;

import org.agrona.concurrent.status.CountersReader;

/**
 * The layout of the backend's own counters file, {@code DIR/backend.counters}: the counters the
 * backend keeps about each frontend, in a file only the backend writes (as Aeron's driver keeps its
 * counters in its CnC file), so that the figures operators and tests trust cannot be written by
 * the frontend they judge.
 *
 * <pre>
 *   0                     4096                          valuesOffset
 *   +---------------------+-----------------------------+-------------------------+
 *   | header              | Agrona counters metadata    | Agrona counters values  |
 *   | magic, version, pid | (records of 512 B)          | (records of 128 B)      |
 *   | max counters        |                             |                         |
 *   +---------------------+-----------------------------+-------------------------+
 * </pre>
 *
 * <p>Per connected frontend the backend allocates one <em>registration</em> counter (type
 * {@link #REGISTRATION_TYPE_ID}, value the domain id, label the device name, key: domain id) and one
 * counter per backend-written {@link DeviceCounter} (type {@link DeviceCounter#TYPE_ID}, key: domain
 * id then the counter's id), and frees them when the frontend disconnects. The version word is
 * written last with release ordering: a reader that sees it sees the rest of the header.
 */
public final class BackendCountersDescriptor
{
    /** File name in the shared directory. */
    public static final String FILE_NAME = "backend.counters";
    /** "SNBC" little-endian. */
    public static final int MAGIC = 0x43424E53;
    public static final int VERSION = 1;
    /** Agrona counter type of a frontend's registration record. */
    public static final int REGISTRATION_TYPE_ID = 0x5352;

    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = 4;
    public static final int BACKEND_PID_OFFSET = 8;
    public static final int MAX_COUNTERS_OFFSET = 16;
    public static final int HEADER_LENGTH = DeviceLayout.PAGE_SIZE;
    public static final int METADATA_OFFSET = HEADER_LENGTH;

    /** Key of every record: the frontend's domain id first. */
    public static final int KEY_DOMAIN_ID_OFFSET = 0;
    /** Key of a per-kind record: the {@link DeviceCounter} ordinal after the domain id. */
    public static final int KEY_COUNTER_ID_OFFSET = 4;

    /** Counters the backend writes for one frontend, plus its registration record. */
    public static final int COUNTERS_PER_FRONTEND = backendKinds() + 1;

    private BackendCountersDescriptor()
    {
    }

    private static int backendKinds()
    {
        int n = 0;
        for (final DeviceCounter c : DeviceCounter.values())
        {
            n += c.writer() == DeviceCounter.Side.BACKEND ? 1 : 0;
        }
        return n;
    }

    /** Agrona needs a metadata record for every value record the (page-aligned) values region holds. */
    public static int metadataLength(final int maxCounters)
    {
        return valuesLength(maxCounters) / CountersReader.COUNTER_LENGTH * CountersReader.METADATA_LENGTH;
    }

    public static int valuesOffset(final int maxCounters)
    {
        return METADATA_OFFSET + metadataLength(maxCounters);
    }

    public static int valuesLength(final int maxCounters)
    {
        return (int)DeviceLayout.align((long)maxCounters * CountersReader.COUNTER_LENGTH);
    }

    public static long fileLength(final int maxCounters)
    {
        return (long)valuesOffset(maxCounters) + valuesLength(maxCounters);
    }
}

package dev.splitnet.mmap;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.EnumMap;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;

import static dev.splitnet.mmap.BackendCountersDescriptor.*;

/**
 * The backend's own counters file ({@link BackendCountersDescriptor}): the backend creates it at
 * launch and allocates each frontend's counters in it at connect, so the figures about a frontend
 * live where that frontend cannot write them. Tools read it with {@link #read}; frontends resolve a
 * peer's domain id through it ({@link #resolve}) rather than trusting the peer's own control page.
 * Allocation and freeing are not thread safe: one thread (the backend's conductor) does both.
 */
public final class BackendCounters implements AutoCloseable
{
    private final Path path;
    private final DeviceFile file;
    private final DeviceMapping mapping;
    private final UnsafeBuffer values;
    private final CountersManager manager;
    private final UnsafeBuffer key = new UnsafeBuffer(new byte[8]);
    // blocks of disconnected frontends, oldest first: kept readable until their space is needed
    private final java.util.ArrayDeque<Block> retired = new java.util.ArrayDeque<>();

    /** The counters of one frontend: its {@link DeviceCounters} view and the record ids to free. */
    public static final class Block
    {
        private final int domainId;
        private final DeviceCounters counters;
        // ids[0] is the registration record
        private final int[] ids;

        private Block(final int domainId, final DeviceCounters counters, final int[] ids)
        {
            this.domainId = domainId;
            this.counters = counters;
            this.ids = ids;
        }

        /** The frontend's counters; only backend-written kinds are present. */
        public DeviceCounters counters()
        {
            return counters;
        }
    }

    private BackendCounters(final Path path, final DeviceFile file, final DeviceMapping mapping, final int maxCounters)
    {
        this.path = path;
        this.file = file;
        this.mapping = mapping;
        final UnsafeBuffer whole = mapping.buffer();
        this.values = new UnsafeBuffer(whole, valuesOffset(maxCounters), valuesLength(maxCounters));
        final UnsafeBuffer metadata = new UnsafeBuffer(whole, METADATA_OFFSET, metadataLength(maxCounters));
        this.manager = new CountersManager(metadata, values);
    }

    /**
     * Backend: creates {@code DIR/backend.counters} for {@code maxFrontends} frontends, replacing one
     * a dead backend left (the caller holds the backend lock), with all its space reserved.
     *
     * @throws DeviceFileException saying what is wrong and what to do.
     */
    public static BackendCounters create(final Path directory, final int maxFrontends)
    {
        return create(directory, maxFrontends, false);
    }

    /**
     * As {@link #create(Path, int)}; {@code groupReadable} makes the file 0640, for frontends that
     * run as users of their own in the directory's group (they resolve peers through it).
     */
    public static BackendCounters create(final Path directory, final int maxFrontends, final boolean groupReadable)
    {
        final Path path = directory.resolve(FILE_NAME);
        final int maxCounters = maxFrontends * COUNTERS_PER_FRONTEND;
        final long length = fileLength(maxCounters);
        DeviceFile file = null;
        DeviceMapping mapping = null;
        try
        {
            Files.deleteIfExists(path);
            file = DeviceFile.createNew(path);
            if (groupReadable)
            {
                DeviceDirectory.setPermissions(path, "rw-r-----");
            }
            SpaceReservation.reserve(file, length, path);
            mapping = DeviceMapping.map(file, length, false);
            final UnsafeBuffer header = mapping.buffer();
            header.putInt(MAGIC_OFFSET, MAGIC);
            header.putLong(BACKEND_PID_OFFSET, ProcessHandle.current().pid());
            header.putInt(MAX_COUNTERS_OFFSET, maxCounters);
            final BackendCounters counters = new BackendCounters(path, file, mapping, maxCounters);
            // Release store, last: pairs with the acquire in read(); the header is complete once it is seen.
            header.putIntRelease(VERSION_OFFSET, VERSION);
            return counters;
        }
        catch (final IOException | RuntimeException ex)
        {
            if (mapping != null)
            {
                mapping.close();
            }
            if (file != null)
            {
                file.close();
            }
            try
            {
                Files.deleteIfExists(path);
            }
            catch (final IOException ignore)
            {
                // nothing usable was made
            }
            if (ex instanceof DeviceFileException)
            {
                throw (DeviceFileException)ex;
            }
            throw new DeviceFileException("cannot create the backend's counters file " + path + ": " + ex, ex);
        }
    }

    /**
     * Allocates a frontend's counters (zero) and its registration record. Counters a disconnected
     * frontend left are freed for the space, oldest first, and always those of the same domain id.
     *
     * @throws DeviceFileException when the file is full of live frontends' counters.
     */
    public Block allocate(final int domainId, final String name)
    {
        retired.removeIf(block ->
        {
            if (block.domainId == domainId)
            {
                freeCounters(block);
                return true;
            }
            return false;
        });
        while (true)
        {
            try
            {
                return tryAllocate(domainId, name);
            }
            catch (final IllegalStateException ex)
            {
                final Block oldest = retired.pollFirst();
                if (oldest == null)
                {
                    throw new DeviceFileException("the backend's counters file " + path + " is full: " + ex.getMessage());
                }
                freeCounters(oldest);
            }
        }
    }

    private Block tryAllocate(final int domainId, final String name)
    {
        final AtomicCounter[] byKind = new AtomicCounter[DeviceCounter.COUNT];
        final int[] ids = new int[COUNTERS_PER_FRONTEND];
        int n = 0;
        try
        {
            key.putInt(KEY_DOMAIN_ID_OFFSET, domainId);
            final byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
            ids[n] = manager.allocate(REGISTRATION_TYPE_ID, key, 0, Integer.BYTES, new UnsafeBuffer(nameBytes), 0, nameBytes.length);
            manager.setCounterValue(ids[n++], domainId);
            for (final DeviceCounter c : DeviceCounter.values())
            {
                if (c.writer() == DeviceCounter.Side.BACKEND)
                {
                    key.putInt(KEY_COUNTER_ID_OFFSET, c.ordinal());
                    final byte[] label = ("domain " + domainId + " (" + name + "): " + c.key()).getBytes(StandardCharsets.UTF_8);
                    ids[n] = manager.allocate(DeviceCounter.TYPE_ID, key, 0, 2 * Integer.BYTES, new UnsafeBuffer(label), 0, label.length);
                    byKind[c.ordinal()] = new AtomicCounter(values, ids[n++]);
                }
            }
            return new Block(domainId, DeviceCounters.of(byKind), ids);
        }
        catch (final IllegalStateException ex)
        {
            for (int i = 0; i < n; i++)
            {
                manager.free(ids[i]);
            }
            throw ex;
        }
    }

    /**
     * A frontend disconnected: its registration goes at once (it no longer resolves by name), its
     * counters stay readable with their last values until the space is needed.
     */
    public void retire(final Block block)
    {
        manager.free(block.ids[0]);
        retired.addLast(block);
    }

    private void freeCounters(final Block block)
    {
        for (int i = 1; i < block.ids.length; i++)
        {
            manager.free(block.ids[i]);
        }
    }

    /** Unmaps and closes the file (the backend deletes it when it stops). */
    @Override
    public void close()
    {
        mapping.close();
        file.close();
    }

    /** The file of a directory's backend. */
    public static Path pathIn(final Path directory)
    {
        return directory.resolve(FILE_NAME);
    }

    /**
     * Reads every frontend's backend counters: by domain id, each counter's value, for connected
     * frontends and for disconnected ones whose last values are still kept.
     *
     * @return empty when there is no backend counters file (no backend, or it is being made).
     */
    public static Map<Integer, Map<DeviceCounter, Long>> read(final Path directory)
    {
        final Map<Integer, Map<DeviceCounter, Long>> byDomain = new HashMap<>();
        scan(directory, (reader, id, state) ->
        {
            if (reader.getCounterTypeId(id) == DeviceCounter.TYPE_ID)
            {
                final int domainId = reader.metaDataBuffer().getInt(CountersReader.metaDataOffset(id) + CountersReader.KEY_OFFSET
                    + KEY_DOMAIN_ID_OFFSET);
                final int kind = reader.metaDataBuffer().getInt(CountersReader.metaDataOffset(id) + CountersReader.KEY_OFFSET
                    + KEY_COUNTER_ID_OFFSET);
                if (kind >= 0 && kind < DeviceCounter.COUNT)
                {
                    byDomain.computeIfAbsent(domainId, d -> new EnumMap<>(DeviceCounter.class))
                        .put(DeviceCounter.values()[kind], reader.getCounterValue(id));
                }
            }
        });
        return byDomain;
    }

    /** The domain id of the connected frontend named {@code name}, or 0 when none is connected. */
    public static int resolve(final Path directory, final String name)
    {
        final int[] found = new int[1];
        scan(directory, (reader, id, state) ->
        {
            if (state == CountersReader.RECORD_ALLOCATED && reader.getCounterTypeId(id) == REGISTRATION_TYPE_ID
                && name.equals(reader.getCounterLabel(id)))
            {
                found[0] = (int)reader.getCounterValue(id);
            }
        });
        return found[0];
    }

    @FunctionalInterface
    private interface RecordVisitor
    {
        void visit(CountersReader reader, int id, int state);
    }

    private static void scan(final Path directory, final RecordVisitor visitor)
    {
        final Path path = pathIn(directory);
        if (!Files.exists(path))
        {
            return;
        }
        // the backend's file belongs to the backend's user, who owns the directory (checkPrivateTo)
        final int backendUid;
        try
        {
            backendUid = (Integer)Files.getAttribute(directory, "unix:uid");
        }
        catch (final IOException | RuntimeException ex)
        {
            return;
        }
        try (DeviceFile file = DeviceFile.openExisting(path, true, backendUid))
        {
            final long length = file.size();
            if (length < HEADER_LENGTH)
            {
                return;
            }
            try (DeviceMapping mapping = DeviceMapping.map(file, length, true))
            {
                final UnsafeBuffer header = mapping.buffer();
                // Acquire pairs with the release store of the version in create().
                if (header.getIntAcquire(VERSION_OFFSET) != VERSION || header.getInt(MAGIC_OFFSET) != MAGIC)
                {
                    return;
                }
                final int maxCounters = header.getInt(MAX_COUNTERS_OFFSET);
                if (maxCounters <= 0 || fileLength(maxCounters) > length)
                {
                    return;
                }
                final CountersReader reader = new CountersReader(
                    new UnsafeBuffer(header, METADATA_OFFSET, metadataLength(maxCounters)),
                    new UnsafeBuffer(header, valuesOffset(maxCounters), valuesLength(maxCounters)));
                for (int id = 0; id <= reader.maxCounterId(); id++)
                {
                    final int state = reader.getCounterState(id);
                    if (state == CountersReader.RECORD_ALLOCATED)
                    {
                        visitor.visit(reader, id, state);
                    }
                    else if (state == CountersReader.RECORD_UNUSED)
                    {
                        break;
                    }
                }
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            // a backend starting or stopping: nothing to read now
        }
    }
}

package dev.splitnet.mmap;

import dev.splitnet.api.XenbusState;
import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.agrona.concurrent.UnsafeBuffer;

import static dev.splitnet.mmap.ControlDescriptor.*;

/**
 * A mapped device file and flyweights over each of its regions, as {@link DeviceLayout} places
 * them. The frontend {@link #create}s it and holds a lock on it while alive; the backend and the
 * tools {@link #attach} to it.
 */
public final class Device implements AutoCloseable
{
    private final Path path;
    private final DeviceMapping mapping;
    private final DeviceLayout layout;
    private final FileChannel lockChannel;
    private final UnsafeBuffer control;
    private final UnsafeBuffer txRing;
    private final UnsafeBuffer rxRing;
    private final UnsafeBuffer headerSlots;
    private final UnsafeBuffer grantTable;
    private final UnsafeBuffer p2m;
    private final UnsafeBuffer countersMetadata;
    private final UnsafeBuffer countersValues;
    private final UnsafeBuffer frames;

    private Device(final DeviceMapping mapping, final DeviceLayout layout, final FileChannel lockChannel, final Path path)
    {
        this.path = path;
        this.mapping = mapping;
        this.layout = layout;
        this.lockChannel = lockChannel;
        this.control = mapping.region(0, CONTROL_LENGTH);
        this.txRing = mapping.region(layout.txRingOffset(), layout.ringBytes());
        this.rxRing = mapping.region(layout.rxRingOffset(), layout.ringBytes());
        this.headerSlots = mapping.region(layout.headerSlotsOffset(), (long)layout.headerSlotCount() * layout.headerSlotSize());
        this.grantTable = mapping.region(layout.grantTableOffset(), (long)layout.grantEntries() * GrantEntryDescriptor.ENTRY_LENGTH);
        this.p2m = mapping.region(layout.p2mOffset(), (long)layout.frameCount() * Integer.BYTES);
        this.countersMetadata = mapping.region(layout.countersMetadataOffset(), layout.countersMetadataLength());
        this.countersValues = mapping.region(layout.countersValuesOffset(), layout.countersValuesLength());
        this.frames = mapping.region(layout.framesOffset(), (long)layout.frameCount() * DeviceLayout.PAGE_SIZE);
    }

    /**
     * Frontend: creates {@code file} (0600) with the given geometry, writes the layout, identity
     * P2M, counters and rings, then the version word last, with release ordering, as the ready
     * signal. An existing file whose owner still holds its lock is refused; one whose owner died
     * is replaced only when {@code replaceStale} is set.
     */
    public static Device create(final Path file, final String name, final DeviceGeometry geometry,
        final int initialRingIndex, final long featuresOffered, final boolean replaceStale)
    {
        final DeviceLayout layout = DeviceLayout.of(geometry);
        // Built under a temporary name, locked, initialised, then renamed into place: a NAME.dev
        // anyone can see is always complete and locked by its live owner, so a backend cleaning up
        // after a dead frontend can never delete a file a new frontend is still creating.
        final Path temporary = file.resolveSibling("." + file.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        FileChannel lockChannel = null;
        DeviceMapping mapping = null;
        try
        {
            if (Files.exists(file))
            {
                checkStale(file, replaceStale);
            }
            Files.deleteIfExists(temporary);
            Files.createFile(temporary, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            lockChannel = new RandomAccessFile(temporary.toFile(), "rw").getChannel();
            if (lockChannel.tryLock() == null)
            {
                throw new DeviceFileException(temporary + " is locked by another process; pick another --name");
            }
            lockChannel.truncate(0);
            try (RandomAccessFile raf = new RandomAccessFile(temporary.toFile(), "rw"))
            {
                raf.setLength(layout.fileLength());
            }
            mapping = DeviceMapping.mapNew(temporary.toFile(), layout.fileLength());
            final Device device = new Device(mapping, layout, lockChannel, file);
            device.initialise(name, initialRingIndex, featuresOffered);
            Files.deleteIfExists(file); // stale, checked above
            Files.move(temporary, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return device;
        }
        catch (final IOException ex)
        {
            closeQuietly(mapping);
            closeQuietly(lockChannel);
            deleteQuietly(temporary);
            final String reason = ex.getMessage() != null && ex.getMessage().contains("No space left")
                ? "the file system is full; free space or pass another --dir" : ex.toString();
            throw new DeviceFileException("cannot create device file " + file + ": " + reason, ex);
        }
        catch (final RuntimeException ex)
        {
            closeQuietly(mapping);
            closeQuietly(lockChannel);
            deleteQuietly(temporary);
            throw ex;
        }
    }

    private static void deleteQuietly(final Path path)
    {
        try
        {
            Files.deleteIfExists(path);
        }
        catch (final IOException ignore)
        {
            // best effort: a leftover temporary file is hidden and harmless
        }
    }

    private static void checkStale(final Path file, final boolean replaceStale) throws IOException
    {
        try (FileChannel channel = new RandomAccessFile(file.toFile(), "rw").getChannel())
        {
            final FileLock lock;
            try
            {
                lock = channel.tryLock();
            }
            catch (final OverlappingFileLockException ex)
            {
                throw new DeviceFileException("device file " + file + " is in use by this process; pick another --name");
            }
            if (lock == null)
            {
                throw new DeviceFileException("device file " + file + " is in use by a running frontend; pick another --name");
            }
            lock.release();
        }
        if (!replaceStale)
        {
            throw new DeviceFileException("stale device file " + file + " left by a frontend that is gone; delete it or pass --replace");
        }
    }

    private void initialise(final String name, final int initialRingIndex, final long featuresOffered)
    {
        control.setMemory(0, CONTROL_LENGTH, (byte)0);
        layout.writeTo(control, initialRingIndex);
        final byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        control.putInt(DEVICE_NAME_LENGTH_OFFSET, nameBytes.length);
        control.putBytes(DEVICE_NAME_OFFSET, nameBytes);
        control.putLong(FEATURES_OFFERED_OFFSET, featuresOffered);
        setFrontendState(XenbusState.INITIALISING);
        for (int frame = 0; frame < layout.frameCount(); frame++)
        {
            p2m.putInt(frame * Integer.BYTES, frame);
        }
        DeviceCounters.allocate(countersMetadata, countersValues);
        new FrontRing(txRing, layout.txRingEntries(), NetifDescriptor.TX_ENTRY_LENGTH).init(initialRingIndex);
        new FrontRing(rxRing, layout.rxRingEntries(), NetifDescriptor.RX_ENTRY_LENGTH).init(initialRingIndex);
        // Release store, last: pairs with the acquire in attach(); everything above is visible once
        // the version is (CncFileDescriptor.signalCncReady does the same).
        control.putIntRelease(LAYOUT_VERSION_OFFSET, LAYOUT_VERSION);
    }

    /** Backend or tool: maps an existing device file and validates its layout as untrusted input. */
    public static Device attach(final File file, final boolean readOnly)
    {
        DeviceMapping mapping = null;
        try
        {
            if (!file.isFile())
            {
                throw new DeviceFileException("device file " + file + " does not exist");
            }
            final long length = file.length();
            if (length < CONTROL_LENGTH)
            {
                throw new DeviceFileException(file + ": " + length + " bytes is too short for a device file");
            }
            mapping = readOnly ? DeviceMapping.mapReadOnly(file) : DeviceMapping.map(file);
            final UnsafeBuffer control = mapping.region(0, CONTROL_LENGTH);
            // Acquire pairs with the release store of the version in initialise().
            if (control.getIntAcquire(LAYOUT_VERSION_OFFSET) == 0)
            {
                throw new DeviceFileException(file + ": not ready (layout version not yet written)");
            }
            final DeviceLayout layout = DeviceLayout.readFrom(control, length, file.toString());
            return new Device(mapping, layout, null, file.toPath());
        }
        catch (final IOException ex)
        {
            closeQuietly(mapping);
            throw new DeviceFileException("cannot map device file " + file + ": " + ex, ex);
        }
        catch (final RuntimeException ex)
        {
            closeQuietly(mapping);
            throw ex;
        }
    }

    private static void closeQuietly(final AutoCloseable closeable)
    {
        if (closeable != null)
        {
            try
            {
                closeable.close();
            }
            catch (final Exception ignore)
            {
                // already failing with a better reason
            }
        }
    }

    /** The device file's path (its final name, also for the frontend that built it under another). */
    public Path path()
    {
        return path;
    }

    public DeviceLayout layout()
    {
        return layout;
    }

    public DeviceMapping mapping()
    {
        return mapping;
    }

    public UnsafeBuffer control()
    {
        return control;
    }

    public UnsafeBuffer txRing()
    {
        return txRing;
    }

    public UnsafeBuffer rxRing()
    {
        return rxRing;
    }

    public UnsafeBuffer headerSlots()
    {
        return headerSlots;
    }

    public UnsafeBuffer grantTableBuffer()
    {
        return grantTable;
    }

    public UnsafeBuffer p2m()
    {
        return p2m;
    }

    public UnsafeBuffer countersMetadata()
    {
        return countersMetadata;
    }

    public UnsafeBuffer countersValues()
    {
        return countersValues;
    }

    public UnsafeBuffer frames()
    {
        return frames;
    }

    public String deviceName()
    {
        final int length = Math.min(Math.max(control.getInt(DEVICE_NAME_LENGTH_OFFSET), 0), DEVICE_NAME_MAX_LENGTH);
        return control.getStringWithoutLengthUtf8(DEVICE_NAME_OFFSET, length);
    }

    public XenbusState frontendState()
    {
        return XenbusState.fromCode(control.getIntVolatile(FRONTEND_STATE_OFFSET));
    }

    public XenbusState backendState()
    {
        return XenbusState.fromCode(control.getIntVolatile(BACKEND_STATE_OFFSET));
    }

    /** Frontend only. Release store: readers of the state see what was written before it. */
    public void setFrontendState(final XenbusState state)
    {
        control.putIntRelease(FRONTEND_STATE_OFFSET, state.code());
    }

    /** Backend only. Release store: readers of the state see what was written before it. */
    public void setBackendState(final XenbusState state)
    {
        control.putIntRelease(BACKEND_STATE_OFFSET, state.code());
    }

    public int domainId()
    {
        return control.getIntVolatile(DOMAIN_ID_OFFSET);
    }

    public long featuresOffered()
    {
        return control.getLongVolatile(FEATURES_OFFERED_OFFSET);
    }

    public long featuresNegotiated()
    {
        return control.getLongVolatile(FEATURES_NEGOTIATED_OFFSET);
    }

    /** Backend only: records the connection's terms before it says Connected. */
    public void recordConnection(final int domainId, final long featuresNegotiated)
    {
        control.putInt(DOMAIN_ID_OFFSET, domainId);
        control.putLong(FEATURES_NEGOTIATED_OFFSET, featuresNegotiated);
    }

    public int initialRingIndex()
    {
        return control.getInt(INITIAL_RING_INDEX_OFFSET);
    }

    /** Whether this process holds the frontend's lock on the file. */
    public boolean isOwner()
    {
        return lockChannel != null;
    }

    /** Whether a running frontend holds the lock on {@code file}. */
    public static boolean isInUse(final Path file)
    {
        try (FileChannel channel = new RandomAccessFile(file.toFile(), "rw").getChannel())
        {
            final FileLock lock = channel.tryLock();
            if (lock == null)
            {
                return true;
            }
            lock.release();
            return false;
        }
        catch (final OverlappingFileLockException ex)
        {
            return true;
        }
        catch (final IOException ex)
        {
            return false;
        }
    }

    /** Unmaps, and for the owner releases the lock. */
    @Override
    public void close()
    {
        mapping.close();
        closeQuietly(lockChannel);
    }
}

package dev.splitnet.mmap;

import dev.splitnet.api.Remedy;
import dev.splitnet.api.XenbusState;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.agrona.concurrent.UnsafeBuffer;

import static dev.splitnet.mmap.ControlDescriptor.*;

/**
 * A mapped device file and flyweights over each of its regions, as {@link DeviceLayout} places
 * them. The frontend {@link #create}s it and holds a lock on it while alive; the backend and the
 * tools {@link #attach} to it. Either way the file is opened by name once ({@link DeviceFile}) and
 * everything else goes through that descriptor.
 */
public final class Device implements AutoCloseable
{
    private final Path path;
    private final DeviceMapping mapping;
    private final DeviceLayout layout;
    private final DeviceFile file;
    private final boolean owner;
    private final UnsafeBuffer control;
    private final UnsafeBuffer txRing;
    private final UnsafeBuffer rxRing;
    private final UnsafeBuffer headerSlots;
    private final UnsafeBuffer grantTable;
    private final UnsafeBuffer p2m;
    private final UnsafeBuffer countersMetadata;
    private final UnsafeBuffer countersValues;
    private final UnsafeBuffer frames;

    private Device(final DeviceMapping mapping, final DeviceLayout layout, final DeviceFile file, final boolean owner, final Path path)
    {
        this.path = path;
        this.mapping = mapping;
        this.layout = layout;
        this.file = file;
        this.owner = owner;
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
     * Frontend: creates {@code file} (0600) with the given geometry and all its space reserved,
     * writes the layout, identity P2M, counters and rings, then the version word last, with release
     * ordering, as the ready signal. The file is opened once; its descriptor holds the lock, reserves
     * the space and is what gets mapped. An existing file whose owner still holds its lock is
     * refused; one whose owner died is replaced only when {@code replaceStale} is set.
     *
     * @throws DeviceFileException when the file cannot be made, with nothing left behind.
     */
    public static Device create(final Path file, final String name, final DeviceGeometry geometry,
        final int initialRingIndex, final long featuresOffered, final boolean replaceStale)
    {
        final DeviceLayout layout = DeviceLayout.of(geometry);
        // Built under a temporary name, locked, initialised, then renamed into place: a NAME.dev
        // anyone can see is always complete and locked by its live owner, so a backend cleaning up
        // after a dead frontend can never delete a file a new frontend is still creating.
        final Path temporary = file.resolveSibling("." + file.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        DeviceFile deviceFile = null;
        DeviceMapping mapping = null;
        try
        {
            if (Files.exists(file, LinkOption.NOFOLLOW_LINKS))
            {
                checkStale(file, replaceStale);
            }
            Files.deleteIfExists(temporary); // left by a dead process that had our pid
            deviceFile = DeviceFile.createNew(temporary);
            if (!deviceFile.tryLock())
            {
                throw new DeviceFileException(temporary + " is locked by another process; choose another frontend name", Remedy.NAME);
            }
            SpaceReservation.reserve(deviceFile, layout.fileLength(), file);
            mapping = DeviceMapping.map(deviceFile, layout.fileLength(), false);
            final Device device = new Device(mapping, layout, deviceFile, true, file);
            device.initialise(name, initialRingIndex, featuresOffered);
            Files.deleteIfExists(file); // stale, checked above
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE);
            return device;
        }
        catch (final IOException ex)
        {
            abandon(mapping, deviceFile, temporary);
            throw new DeviceFileException("cannot create device file " + file + ": " + ex, ex);
        }
        catch (final RuntimeException ex)
        {
            abandon(mapping, deviceFile, temporary);
            throw ex;
        }
    }

    private static void abandon(final DeviceMapping mapping, final DeviceFile deviceFile, final Path temporary)
    {
        closeQuietly(mapping);
        // Deleted while still locked, so no other frontend takes the half-made file for its own.
        deleteQuietly(temporary);
        closeQuietly(deviceFile);
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

    private static void checkStale(final Path file, final boolean replaceStale)
    {
        if (DeviceFile.isLocked(file))
        {
            throw new DeviceFileException("device file " + file + " is in use by a running frontend; choose another frontend name", Remedy.NAME);
        }
        if (!replaceStale)
        {
            throw new DeviceFileException("stale device file " + file + " left by a frontend that is gone; delete it or replace it", Remedy.REPLACE_STALE);
        }
    }

    private void initialise(final String name, final int initialRingIndex, final long featuresOffered)
    {
        // Write every page once: reserved (fallocated) but unwritten pages count as holes, and a
        // device file with no hole lets the backend tell a frontend that truncated and regrew or
        // punched its file (which makes holes) from one that did not (see firstHole()).
        final UnsafeBuffer whole = mapping.buffer();
        for (long page = 0; page < layout.fileLength(); page += DeviceLayout.PAGE_SIZE)
        {
            whole.putByte((int)page, (byte)0);
        }
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

    /**
     * Backend or tool: opens an existing device file owned by this process's user, maps it and
     * validates its layout as untrusted input.
     */
    public static Device attach(final File file, final boolean readOnly)
    {
        return attach(file, readOnly, DeviceFile.processUid());
    }

    /**
     * Backend or tool: opens an existing device file once (a symbolic link is not followed, a FIFO
     * does not block), checks on that descriptor that it is a regular file owned by
     * {@code expectedOwnerUid}, maps it from the same descriptor and validates its layout as
     * untrusted input.
     */
    public static Device attach(final File file, final boolean readOnly, final int expectedOwnerUid)
    {
        DeviceFile deviceFile = null;
        DeviceMapping mapping = null;
        try
        {
            deviceFile = DeviceFile.openExisting(file.toPath(), readOnly, expectedOwnerUid);
            final long length = deviceFile.size();
            if (length < CONTROL_LENGTH)
            {
                throw new DeviceFileException(file + ": " + length + " bytes is too short for a device file");
            }
            mapping = DeviceMapping.map(deviceFile, length, readOnly);
            final UnsafeBuffer control = mapping.region(0, CONTROL_LENGTH);
            // Acquire pairs with the release store of the version in initialise().
            if (control.getIntAcquire(LAYOUT_VERSION_OFFSET) == 0)
            {
                throw new DeviceFileException(file + ": not ready (layout version not yet written)");
            }
            final DeviceLayout layout = DeviceLayout.readFrom(control, length, file.toString());
            return new Device(mapping, layout, deviceFile, false, file.toPath());
        }
        catch (final IOException ex)
        {
            closeQuietly(mapping);
            closeQuietly(deviceFile);
            throw new DeviceFileException("cannot map device file " + file + ": " + ex, ex);
        }
        catch (final RuntimeException ex)
        {
            closeQuietly(mapping);
            closeQuietly(deviceFile);
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

    /**
     * The offset of the first hole in the open file (lseek SEEK_HOLE on its descriptor), the file's
     * size when it has none, or -1 when the file system cannot tell. A frontend writes every page
     * of its file when it creates it, so a hole below {@code layout().fileLength()} means the file
     * was truncated (and perhaps regrown) or had a hole punched into it: pages the mapping may fault on.
     */
    public long firstHole()
    {
        return file.firstHole();
    }

    /** Whether this process holds the frontend's lock on the file. */
    public boolean isOwner()
    {
        return owner;
    }

    /**
     * Whether a running frontend may hold the lock on {@code file}: false only when the file is
     * missing or certainly unlocked. When it cannot tell (the file cannot be opened: out of
     * descriptors, no permission), it answers true, so nobody deletes a live frontend's file.
     */
    public static boolean isInUse(final Path file)
    {
        try
        {
            return DeviceFile.isLocked(file);
        }
        catch (final DeviceFileException ex)
        {
            return true;
        }
    }

    /** Unmaps, and closes the descriptor (for the owner that releases the lock). */
    @Override
    public void close()
    {
        mapping.close();
        file.close();
    }
}

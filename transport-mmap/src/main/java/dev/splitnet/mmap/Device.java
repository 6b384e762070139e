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
 * A mapped device and flyweights over each of its regions, as {@link DeviceLayout} places them.
 * The frontend {@link #create}s it and holds a lock on {@code DIR/NAME.dev} while alive; the
 * backend and the tools attach to it.
 *
 * <p>The device's memory is either <b>sealed</b> (the default for frontends): a memfd sealed
 * against shrinking and growing once initialised, which reaches the backend only as a descriptor
 * passed with the HELLO, while {@code NAME.dev} is a 32-byte {@link ClaimFile}; or <b>file-backed</b>:
 * {@code NAME.dev} is the memory, opened by name once ({@link DeviceFile}) with everything else
 * through that descriptor. Only sealed memory is safe from a frontend that truncates it under the
 * backend's mapping (a SIGBUS the backend can only recover from after the fact), so a backend
 * accepts file-backed devices only when told to.
 */
public final class Device implements AutoCloseable
{
    private final Path path;
    private final DeviceMapping mapping;
    private final DeviceLayout layout;
    private final DeviceFile file;
    private final DeviceFile claim;
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

    private Device(final DeviceMapping mapping, final DeviceLayout layout, final DeviceFile file, final DeviceFile claim,
        final boolean owner, final Path path)
    {
        this.path = path;
        this.mapping = mapping;
        this.layout = layout;
        this.file = file;
        this.claim = claim;
        this.owner = owner;
        this.control = mapping.region(0, CONTROL_LENGTH);
        this.txRing = mapping.region(layout.txRingOffset(), layout.ringBytes());
        this.rxRing = mapping.region(layout.rxRingOffset(), layout.ringBytes());
        this.headerSlots = mapping.region(layout.headerSlotsOffset(), (long)layout.headerSlotCount() * layout.headerSlotSize());
        this.grantTable = mapping.region(layout.grantTableOffset(), (long)layout.grantEntries() * GrantEntryDescriptor.ENTRY_LENGTH);
        this.p2m = mapping.region(layout.p2mOffset(), (long)layout.frameCount() * P2mDescriptor.ENTRY_LENGTH);
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
        return create(file, name, geometry, initialRingIndex, featuresOffered, replaceStale, false);
    }

    /**
     * Frontend: creates a device, its memory sealed ({@code sealedMemory}: a memfd, with
     * {@code file} a {@link ClaimFile} locked by this process) or file-backed (the memory is
     * {@code file}, as {@link #create(Path, String, DeviceGeometry, int, long, boolean)} makes it).
     * Sealed memory is reserved, initialised (every page written), then sealed against any change
     * of size before anyone else can see it.
     *
     * @throws DeviceFileException when the device cannot be made, with nothing left behind.
     */
    public static Device create(final Path file, final String name, final DeviceGeometry geometry,
        final int initialRingIndex, final long featuresOffered, final boolean replaceStale, final boolean sealedMemory)
    {
        final DeviceLayout layout = DeviceLayout.of(geometry);
        // Built under a temporary name, locked, initialised, then renamed into place: a NAME.dev
        // anyone can see is always complete and locked by its live owner, so a backend cleaning up
        // after a dead frontend can never delete a file a new frontend is still creating.
        final Path temporary = file.resolveSibling("." + file.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        DeviceFile named = null;
        DeviceFile memory = null;
        DeviceMapping mapping = null;
        try
        {
            if (Files.exists(file, LinkOption.NOFOLLOW_LINKS))
            {
                checkStale(file, replaceStale);
            }
            Files.deleteIfExists(temporary); // left by a dead process that had our pid
            named = DeviceFile.createNew(temporary);
            if (!named.tryLock())
            {
                throw new DeviceFileException(temporary + " is locked by another process; choose another frontend name", Remedy.NAME);
            }
            if (sealedMemory)
            {
                ClaimFile.write(named, XenbusState.INITIALISING.code(), ProcessHandle.current().pid(), layout.fileLength());
                memory = DeviceFile.createSealableMemory(file, name);
            }
            else
            {
                memory = named;
            }
            SpaceReservation.reserve(memory, layout.fileLength(), file);
            mapping = DeviceMapping.map(memory, layout.fileLength(), false);
            final Device device = new Device(mapping, layout, memory, sealedMemory ? named : null, true, file);
            device.initialise(name, initialRingIndex, featuresOffered);
            if (sealedMemory)
            {
                // sealed before the descriptor leaves this process: nobody ever sees it resizable
                memory.seal();
            }
            Files.deleteIfExists(file); // stale, checked above
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE);
            return device;
        }
        catch (final IOException ex)
        {
            abandon(mapping, memory, named, temporary);
            throw new DeviceFileException("cannot create device file " + file + ": " + ex, ex);
        }
        catch (final RuntimeException ex)
        {
            abandon(mapping, memory, named, temporary);
            throw ex;
        }
    }

    private static void abandon(final DeviceMapping mapping, final DeviceFile memory, final DeviceFile deviceFile, final Path temporary)
    {
        closeQuietly(mapping);
        if (memory != deviceFile)
        {
            closeQuietly(memory);
        }
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
        new P2mTable(p2m, layout.frameCount()).initIdentity();
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
     * untrusted input. A {@link ClaimFile} (a device whose memory is sealed) is looked at read-only
     * through the backend ({@link SealedMemoryInspection}); writing to sealed memory is the
     * frontend's and its backend's alone.
     */
    public static Device attach(final File file, final boolean readOnly, final int expectedOwnerUid)
    {
        DeviceFile deviceFile = null;
        DeviceMapping mapping = null;
        try
        {
            deviceFile = DeviceFile.openExisting(file.toPath(), readOnly, expectedOwnerUid);
            if (ClaimFile.read(deviceFile) != null)
            {
                deviceFile.close();
                if (!readOnly)
                {
                    throw new DeviceFileException(file + " is the claim of a device whose memory is sealed: its backend receives the "
                        + "memory with the frontend's HELLO, and tools see it read-only through the backend");
                }
                return attachSealedMemory(SealedMemoryInspection.readOnlyMemory(file.toPath()), file.toPath(), true, expectedOwnerUid);
            }
            final long length = deviceFile.size();
            if (length < CONTROL_LENGTH)
            {
                throw new DeviceFileException(file + ": " + length + " bytes is too short for a device file");
            }
            mapping = DeviceMapping.map(deviceFile, length, readOnly);
            return validated(mapping, deviceFile, null, file.toPath());
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

    /**
     * Backend (or a tool given a read-only descriptor by the backend): takes over {@code memoryFd},
     * the device memory a frontend sent with its HELLO, checks that it is sealed memory owned by
     * {@code expectedOwnerUid}, and, for the backend, that {@code claimPath} is that user's claim
     * file; then maps it and validates its layout as untrusted input. The descriptor is this
     * method's from the call on: closed with the device, or at once when anything is wrong.
     */
    public static Device attachSealedMemory(final int memoryFd, final Path claimPath, final boolean readOnly, final int expectedOwnerUid)
    {
        DeviceFile memory = null;
        DeviceMapping mapping = null;
        try
        {
            // a backend is sent memory sealed shrink|grow only; a tool is sent memory its backend sealed
            memory = DeviceFile.adoptMemory(memoryFd, claimPath, expectedOwnerUid, readOnly);
            final long length = memory.size();
            if (!readOnly)
            {
                checkClaim(claimPath, expectedOwnerUid, length);
            }
            if (length < CONTROL_LENGTH)
            {
                throw new DeviceFileException("the memory of " + claimPath + ": " + length + " bytes is too short for a device");
            }
            mapping = DeviceMapping.map(memory, length, readOnly);
            if (!readOnly)
            {
                // mapped writable first: after these seals no new writable mapping can be made
                memory.sealAfterMapping();
            }
            return validated(mapping, memory, null, claimPath);
        }
        catch (final IOException ex)
        {
            closeQuietly(mapping);
            closeQuietly(memory);
            throw new DeviceFileException("cannot map the memory of " + claimPath + ": " + ex, ex);
        }
        catch (final RuntimeException ex)
        {
            closeQuietly(mapping);
            // null: adoptMemory failed and closed the descriptor itself (closing the number again
            // could close a descriptor another thread has opened since under it)
            closeQuietly(memory);
            throw ex;
        }
    }

    /**
     * The claim at {@code claimPath} must be a claim of that user, held by a live frontend (its
     * lock), for memory of the size sent.
     */
    private static void checkClaim(final Path claimPath, final int expectedOwnerUid, final long memoryLength)
    {
        final ClaimFile.Contents contents;
        try (DeviceFile claimFile = DeviceFile.openExisting(claimPath, true, expectedOwnerUid))
        {
            contents = ClaimFile.read(claimFile);
        }
        if (contents == null)
        {
            throw new DeviceFileException(claimPath + " is not a claim file; a frontend that sends sealed memory claims its name "
                + "with a " + ClaimFile.LENGTH + "-byte claim file");
        }
        if (contents.memoryLength() != memoryLength)
        {
            throw new DeviceFileException("the claim " + claimPath + " is for " + contents.memoryLength() + " bytes of memory, but "
                + memoryLength + " were sent");
        }
        if (!DeviceFile.isLocked(claimPath))
        {
            throw new DeviceFileException("the claim " + claimPath + " is held by no process: it is stale, not the sender's");
        }
    }

    private static Device validated(final DeviceMapping mapping, final DeviceFile memory, final DeviceFile claim, final Path path)
    {
        final UnsafeBuffer control = mapping.region(0, CONTROL_LENGTH);
        // Acquire pairs with the release store of the version in initialise().
        if (control.getIntAcquire(LAYOUT_VERSION_OFFSET) == 0)
        {
            throw new DeviceFileException(path + ": not ready (layout version not yet written)");
        }
        final DeviceLayout layout = DeviceLayout.readFrom(control, mapping.length(), path.toString());
        return new Device(mapping, layout, memory, claim, false, path);
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

    /**
     * Frontend only. Release store: readers of the state see what was written before it. With
     * sealed memory the state is mirrored into the claim file, for tools that find no backend.
     */
    public void setFrontendState(final XenbusState state)
    {
        control.putIntRelease(FRONTEND_STATE_OFFSET, state.code());
        if (claim != null)
        {
            try
            {
                ClaimFile.writeFrontendState(claim, state.code());
            }
            catch (final DeviceFileException ignore)
            {
                // the mirror is advisory (tools only); the control page is the state
            }
        }
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

    /** Whether the device's memory is a sealed memfd (not the file at {@link #path()}). */
    public boolean isSealedMemory()
    {
        return file.isMemory();
    }

    /**
     * {@code /proc/self/fd/N} of the memory's descriptor in this process: a name for the open
     * memory (tests reopen it; a sealed one refuses any resize).
     */
    public String memoryHandle()
    {
        return file.procFile().getPath();
    }

    /** The memory's descriptor, for sending it with the HELLO. */
    int memoryFd()
    {
        return file.fd();
    }

    /**
     * Backend: a new read-only descriptor of the memory, for a tool that asked to look (the caller
     * sends and closes it).
     */
    public int openReadOnlyMemory()
    {
        return file.reopenReadOnly();
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

    /** Unmaps, and closes the descriptors (for the owner that releases the lock). */
    @Override
    public void close()
    {
        mapping.close();
        file.close();
        if (claim != null)
        {
            claim.close();
        }
    }
}

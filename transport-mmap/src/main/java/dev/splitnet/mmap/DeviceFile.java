package dev.splitnet.mmap;

import com.sun.jna.LastErrorException;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The one descriptor a process opens on a device file, by name, once. Everything after the open
 * goes through the descriptor: the checks (regular file, expected owner, one link), the
 * frontend's lock, the space reservation, and the mappings, which Chronicle Bytes makes from
 * {@link #procFile()} ({@code /proc/self/fd/N} names the open inode, not the directory entry, so a
 * frontend that swaps the name for a FIFO or a link to another frontend's file changes nothing).
 * <p>
 * The lock is an open file description lock ({@code F_OFD_SETLK}): it belongs to this descriptor's
 * open file, so closing any other descriptor of the file (Chronicle's, a probe's) cannot drop it,
 * as it does a POSIX {@code fcntl} lock; and it lives in the same lock space as POSIX locks, so a
 * {@code FileChannel.tryLock} in any process also sees the file in use.
 */
public final class DeviceFile implements AutoCloseable
{
    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;

    /**
     * The seals a frontend puts on its device memory once it is initialised: its size can never
     * change again, so no page the backend maps can go beyond the end of the file (no SIGBUS).
     * Writes stay allowed: the frontend keeps writing rings and frames.
     */
    static final int MEMORY_SEALS = LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW;
    /**
     * The seals the backend adds once it has mapped the memory: no new writable mapping, no
     * write(2) and no hole punched (shmem refuses FALLOC_FL_PUNCH_HOLE under future-write), and
     * nothing can be changed any more. The mappings made before (the frontend's, the backend's)
     * keep writing. The frontend cannot add these itself: the backend's writable mapping comes after.
     */
    static final int BACKEND_SEALS = LibC.F_SEAL_FUTURE_WRITE | LibC.F_SEAL_SEAL;

    private final Path path;
    private final int fd;
    private final File procFile;
    private final boolean memory;
    private boolean closed;

    private DeviceFile(final Path path, final int fd, final boolean memory)
    {
        this.path = path;
        this.fd = fd;
        this.procFile = new File("/proc/self/fd/" + fd);
        this.memory = memory;
    }

    private DeviceFile(final Path path, final int fd)
    {
        this(path, fd, false);
    }

    /**
     * Creates a frontend's device memory: a memfd (no name in any directory, mode 0600) that can be
     * sealed. {@code path} is the claim file's name, for messages.
     */
    static DeviceFile createSealableMemory(final Path path, final String deviceName)
    {
        try
        {
            return new DeviceFile(path, LibC.memfdCreate("splitnet:" + deviceName), true);
        }
        catch (final LastErrorException ex)
        {
            throw new DeviceFileException("cannot create sealed memory for device " + deviceName + ": memfd_create: "
                + LibC.strerror(ex.getErrorCode()) + " (errno " + ex.getErrorCode() + "); a kernel without memfd (before Linux 3.17) "
                + "needs file-backed device memory (FrontendContext.sealedMemory(false), splitnet frontend --file-memory)", ex);
        }
    }

    /** Wraps a descriptor of memory this process created or checked itself ({@link BackendFrames}). */
    static DeviceFile wrapMemory(final Path path, final int fd)
    {
        return new DeviceFile(path, fd, true);
    }

    /**
     * Backend or tool: takes over a descriptor of device memory received over the socket and checks
     * on it that it is sealed memory (a regular file with no name, owned by
     * {@code expectedOwnerUid}, its size sealed). {@code path} is the claim file's name, for
     * messages. The descriptor is this object's from now on, also when a check fails (it is closed).
     */
    static DeviceFile adoptMemory(final int fd, final Path path, final int expectedOwnerUid, final boolean sealedByBackend)
    {
        final DeviceFile file = new DeviceFile(path, fd, true);
        try
        {
            file.checkMemory(expectedOwnerUid, sealedByBackend ? MEMORY_SEALS | BACKEND_SEALS : MEMORY_SEALS);
            return file;
        }
        catch (final RuntimeException ex)
        {
            file.close();
            throw ex;
        }
    }

    /** Frontend: seals its initialised memory ({@link #MEMORY_SEALS}). */
    void seal()
    {
        try
        {
            LibC.addSeals(fd, MEMORY_SEALS);
        }
        catch (final LastErrorException ex)
        {
            throw new DeviceFileException("cannot seal the memory of " + path + ": " + LibC.strerror(ex.getErrorCode()), ex);
        }
    }

    /**
     * A new, read-only descriptor of the same open inode (through {@code /proc/self/fd/N}), for a
     * tool that may look but not write; the caller closes it.
     */
    synchronized int reopenReadOnly()
    {
        // synchronized with close(): once this descriptor is closed its number may name another file
        if (closed)
        {
            throw new DeviceFileException("the memory of " + path + " is closed");
        }
        try
        {
            return LibC.open(procFile.getPath(), LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
        }
        catch (final LastErrorException ex)
        {
            throw new DeviceFileException("cannot reopen the memory of " + path + " read-only: " + LibC.strerror(ex.getErrorCode()), ex);
        }
    }

    /** Whether this is device memory (a memfd) rather than a file with a name. */
    boolean isMemory()
    {
        return memory;
    }

    /** The effective uid of this process: the owner a backend expects unless told otherwise. */
    public static int processUid()
    {
        return LibC.geteuid();
    }

    /**
     * Creates {@code path} (0600, it must not exist, a symbolic link is not followed) and opens it
     * read-write.
     */
    static DeviceFile createNew(final Path path)
    {
        final int fd = open(path, LibC.O_RDWR | LibC.O_CREAT | LibC.O_EXCL, "cannot create device file ");
        return new DeviceFile(path, fd);
    }

    /**
     * Opens an existing device file without following a symbolic link and without blocking on a
     * FIFO, then checks through the descriptor that it is a regular file with one link, owned by
     * {@code expectedOwnerUid}.
     */
    static DeviceFile openExisting(final Path path, final boolean readOnly, final int expectedOwnerUid)
    {
        final int fd = open(path, readOnly ? LibC.O_RDONLY : LibC.O_RDWR, "cannot open device file ");
        final DeviceFile file = new DeviceFile(path, fd);
        try
        {
            file.check(expectedOwnerUid);
            return file;
        }
        catch (final RuntimeException ex)
        {
            file.close();
            throw ex;
        }
    }

    private static int open(final Path path, final int accessFlags, final String what)
    {
        // O_NONBLOCK: opening a FIFO must not wait for a writer (it has no effect on a regular file).
        final int flags = accessFlags | LibC.O_NOFOLLOW | LibC.O_NONBLOCK | LibC.O_CLOEXEC | LibC.O_NOCTTY;
        try
        {
            return LibC.open(path.toString(), flags, 0600);
        }
        catch (final LastErrorException ex)
        {
            throw new DeviceFileException(describeOpenError(path, ex.getErrorCode(), what), ex);
        }
    }

    private static String describeOpenError(final Path path, final int errno, final String what)
    {
        switch (errno)
        {
            case LibC.ENOENT:
                return "device file " + path + " does not exist";
            case LibC.ELOOP:
                return what + path + ": it is a symbolic link, not a device file; a frontend creates its device file itself";
            default:
                return what + path + ": " + LibC.strerror(errno) + " (errno " + errno + ")";
        }
    }

    private void check(final int expectedOwnerUid)
    {
        final Map<String, Object> attributes = attributes("mode,uid,nlink");
        final int mode = (Integer)attributes.get("mode");
        if ((mode & S_IFMT) != S_IFREG)
        {
            throw new DeviceFileException(path + " is " + describeType(mode) + ", not a regular file; a frontend's device file is a regular file it created");
        }
        final int uid = (Integer)attributes.get("uid");
        if (uid != expectedOwnerUid)
        {
            throw new DeviceFileException(path + " is owned by uid " + uid + ", expected uid " + expectedOwnerUid +
                "; run the frontend as the backend's user");
        }
        // A second name is a hard link to another frontend's file (or from it): refuse both.
        final int links = (Integer)attributes.get("nlink");
        if (links != 1)
        {
            throw new DeviceFileException(path + " has " + links + " hard links, expected 1; a frontend's device file has only its own name");
        }
    }

    /**
     * Checks that a received descriptor is a frontend's device memory as it must arrive. The order
     * matters against a hostile sender: F_GET_SEALS first, which fails at once for anything that is
     * not shmem (a socket, a pipe, a file on another file system, a FUSE file whose stat would wait
     * on its server) without calling into any file system; then the file system type (tmpfs, not
     * hugetlbfs, whose pages can be taken away); then mode, owner and links.
     */
    private void checkMemory(final int expectedOwnerUid, final int expectedSeals)
    {
        final String what = "the device memory sent for " + path;
        final int seals;
        try
        {
            seals = LibC.seals(fd);
        }
        catch (final LastErrorException ex)
        {
            throw new DeviceFileException(what + " cannot be sealed (" + LibC.strerror(ex.getErrorCode())
                + "): it is not a memfd (a socket, a pipe or a file); a frontend sends the sealed memfd of its device");
        }
        if (seals != expectedSeals)
        {
            throw new DeviceFileException(what + " has seals 0x" + Integer.toHexString(seals) + ", expected exactly 0x"
                + Integer.toHexString(expectedSeals) + (expectedSeals == MEMORY_SEALS
                    ? " (shrink and grow; the backend adds future-write and seal itself once it has mapped the memory, so memory "
                        + "already sealed further, by another backend or its sender, is refused)"
                    : " (shrink, grow, future-write and seal: memory its backend has mapped)"));
        }
        final long type;
        try
        {
            type = LibC.fileSystemType(fd);
        }
        catch (final LastErrorException ex)
        {
            throw new DeviceFileException("cannot tell the file system of " + what + ": " + LibC.strerror(ex.getErrorCode()));
        }
        if (type != LibC.TMPFS_MAGIC)
        {
            throw new DeviceFileException(what + " is on file system type 0x" + Long.toHexString(type)
                + ", not tmpfs (a hugetlbfs memfd can lose its pages and fault); a frontend sends a plain memfd");
        }
        final Map<String, Object> attributes = attributes("mode,uid,nlink");
        final int mode = (Integer)attributes.get("mode");
        if ((mode & S_IFMT) != S_IFREG)
        {
            throw new DeviceFileException(what + " is " + describeType(mode) + ", not a memory file; a frontend sends the memfd of its device");
        }
        final int uid = (Integer)attributes.get("uid");
        if (uid != expectedOwnerUid)
        {
            throw new DeviceFileException(what + " is owned by uid " + uid + ", expected uid " + expectedOwnerUid
                + " (the connecting process's)");
        }
        // A memfd has no name; a file with one could be truncated through it by anyone who can open it.
        final int links = (Integer)attributes.get("nlink");
        if (links != 0)
        {
            throw new DeviceFileException(what + " is a file with " + links + " name(s), not sealed memory; a frontend sends the memfd "
                + "of its device");
        }
    }

    /**
     * Backend, after mapping the memory: adds {@link #BACKEND_SEALS}, so that from now on nobody (the
     * frontend included) can punch a hole into it or map it writable again, and checks that the
     * memory carries every seal.
     */
    void sealAfterMapping()
    {
        try
        {
            LibC.addSeals(fd, BACKEND_SEALS);
        }
        catch (final LastErrorException ex)
        {
            throw new DeviceFileException("cannot seal the memory of " + path + " against new writers ("
                + LibC.strerror(ex.getErrorCode()) + "): its sender sealed it further meanwhile, or the kernel is older than Linux 5.1");
        }
        final int seals = LibC.seals(fd);
        if (seals != (MEMORY_SEALS | BACKEND_SEALS))
        {
            throw new DeviceFileException("the memory of " + path + " has seals 0x" + Integer.toHexString(seals) + " after sealing, expected 0x"
                + Integer.toHexString(MEMORY_SEALS | BACKEND_SEALS));
        }
    }

    private static String describeType(final int mode)
    {
        switch (mode & S_IFMT)
        {
            case 0010000:
                return "a FIFO";
            case 0020000:
                return "a character device";
            case 0040000:
                return "a directory";
            case 0060000:
                return "a block device";
            case 0140000:
                return "a socket";
            default:
                return "a file of type " + Integer.toOctalString(mode & S_IFMT);
        }
    }

    /** Unix attributes of the open file ({@code stat} through /proc/self/fd follows to the open inode: an fstat). */
    private Map<String, Object> attributes(final String names)
    {
        try
        {
            return Files.readAttributes(procFile.toPath(), "unix:" + names);
        }
        catch (final IOException | UnsupportedOperationException ex)
        {
            throw new DeviceFileException("cannot stat device file " + path + " through " + procFile + ": " + ex +
                "; device files need Linux with /proc mounted", ex);
        }
    }

    /**
     * Whether a running frontend holds the lock on {@code path}: true when it is locked, false when
     * it is not or the file does not exist.
     *
     * @throws DeviceFileException when it cannot tell (the file cannot be opened: out of
     *                             descriptors, permissions, a symbolic link).
     */
    static boolean isLocked(final Path path)
    {
        final int fd;
        try
        {
            fd = LibC.open(path.toString(), LibC.O_RDONLY | LibC.O_NOFOLLOW | LibC.O_NONBLOCK | LibC.O_CLOEXEC | LibC.O_NOCTTY, 0);
        }
        catch (final LastErrorException ex)
        {
            if (ex.getErrorCode() == LibC.ENOENT)
            {
                return false;
            }
            throw new DeviceFileException(describeOpenError(path, ex.getErrorCode(), "cannot tell whether a frontend uses "), ex);
        }
        try
        {
            // GETLK, not a try-lock and unlock: a probe never holds the lock, even for a moment.
            return LibC.isLockedByOther(fd);
        }
        catch (final LastErrorException ex)
        {
            throw new DeviceFileException("cannot tell whether a frontend uses " + path + ": " + LibC.strerror(ex.getErrorCode()), ex);
        }
        finally
        {
            // Closing this descriptor releases nothing: the owner's lock is on its own open file.
            LibC.closeQuietly(fd);
        }
    }

    /** Takes the frontend's lock; false when another open file holds it. */
    boolean tryLock()
    {
        try
        {
            return LibC.tryLockExclusive(fd);
        }
        catch (final LastErrorException ex)
        {
            throw new DeviceFileException("cannot lock device file " + path + ": " + LibC.strerror(ex.getErrorCode()), ex);
        }
    }

    /** The open file's size (fstat), not whatever the name refers to now. */
    long size()
    {
        return ((Number)attributes("size").get("size")).longValue();
    }

    /** The first hole at or after offset 0 (lseek SEEK_HOLE): the size when none; -1 when unknown. */
    long firstHole()
    {
        return LibC.firstHole(fd, 0);
    }

    /** The name the file was opened by, for messages and for renaming. */
    public Path path()
    {
        return path;
    }

    /** The raw descriptor, for the system calls {@link LibC} makes on it. */
    int fd()
    {
        return fd;
    }

    /** {@code /proc/self/fd/N}: a name for this descriptor's open inode, for opening it again by handle. */
    File procFile()
    {
        return procFile;
    }

    /** Closes the descriptor, which releases the lock if this process took it; idempotent. */
    @Override
    public synchronized void close()
    {
        if (!closed)
        {
            closed = true;
            LibC.closeQuietly(fd);
        }
    }
}

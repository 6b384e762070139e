package dev.splitnet.mmap;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * The few Linux system calls the JDK does not offer for a device file: {@code open} with
 * {@code O_NOFOLLOW | O_NONBLOCK} on a raw descriptor, open file description locks,
 * {@code posix_fallocate}, {@code memfd_create} and its seals, and {@code sendmsg}/{@code recvmsg}
 * for passing a descriptor over a Unix socket. Called through JNA, only when a device is created,
 * attached or probed, never per packet. Linux on 64-bit only, like the rest of the shared memory
 * format.
 */
final class LibC
{
    static final int O_RDONLY = 0;
    static final int O_RDWR = 2;
    static final int O_CREAT = 0100;
    static final int O_EXCL = 0200;
    static final int O_NOCTTY = 0400;
    static final int O_NONBLOCK = 04000;
    static final int O_CLOEXEC = 02000000;
    /** The one flag used here whose value differs between architectures (asm-generic vs x86). */
    static final int O_NOFOLLOW = "aarch64".equals(System.getProperty("os.arch")) ? 0100000 : 0400000;

    static final int ENOENT = 2;
    static final int EINTR = 4;
    static final int EAGAIN = 11;
    static final int EACCES = 13;
    static final int ENOSPC = 28;
    static final int ENOSYS = 38;
    static final int ELOOP = 40;
    static final int EOPNOTSUPP = 95;
    static final int ENOMEM = 12;
    static final int EPERM = 1;

    /** memfd_create flags (linux/memfd.h). */
    static final int MFD_CLOEXEC = 1;
    static final int MFD_ALLOW_SEALING = 2;
    /** fcntl commands and seal bits of memfd sealing (linux/fcntl.h), the same on every architecture. */
    static final int F_ADD_SEALS = 1033;
    static final int F_GET_SEALS = 1034;
    static final int F_SEAL_SEAL = 0x0001;
    static final int F_SEAL_SHRINK = 0x0002;
    static final int F_SEAL_GROW = 0x0004;
    static final int F_SEAL_WRITE = 0x0008;
    static final int F_SEAL_FUTURE_WRITE = 0x0010;
    static final int EINVAL = 22;
    /** statfs f_type of tmpfs/shmem, where memfds live (linux/magic.h); hugetlbfs is 0x958458f6. */
    static final long TMPFS_MAGIC = 0x01021994L;
    /** struct statfs on 64-bit Linux: f_type (long) first; 120 bytes in all. */
    private static final int STATFS_SIZE = 120;

    /** fcntl commands of open file description locks (Linux 3.15), the same on every architecture. */
    private static final int F_OFD_GETLK = 36;
    private static final int F_OFD_SETLK = 37;
    private static final short F_WRLCK = 1;
    private static final short F_UNLCK = 2;
    /** struct flock on 64-bit Linux: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid. */
    private static final int FLOCK_SIZE = 32;
    private static final int FLOCK_TYPE_OFFSET = 0;
    private static final int FLOCK_PID_OFFSET = 24;

    private interface Calls extends Library
    {
        int open(String path, int flags, int mode) throws LastErrorException;

        int close(int fd) throws LastErrorException;

        int fcntl(int fd, int cmd, Pointer lock) throws LastErrorException;

        int fcntl(int fd, int cmd, int arg) throws LastErrorException;

        int memfd_create(String name, int flags) throws LastErrorException;

        int fchmod(int fd, int mode) throws LastErrorException;

        int ftruncate(int fd, long length) throws LastErrorException;

        int fstatfs(int fd, Pointer statfs) throws LastErrorException;

        long sendmsg(int fd, Pointer msghdr, int flags) throws LastErrorException;

        long recvmsg(int fd, Pointer msghdr, int flags) throws LastErrorException;

        // returns the error number instead of setting errno
        int posix_fallocate(int fd, long offset, long length);

        int geteuid();

        int getsockopt(int fd, int level, int optname, Pointer optval, Pointer optlen) throws LastErrorException;

        int setsockopt(int fd, int level, int optname, Pointer optval, int optlen) throws LastErrorException;

        long lseek(int fd, long offset, int whence) throws LastErrorException;

        String strerror(int errno);
    }

    private static final class Holder
    {
        static final Calls CALLS = Native.load("c", Calls.class);
    }

    private LibC()
    {
    }

    private static Calls calls()
    {
        try
        {
            return Holder.CALLS;
        }
        catch (final LinkageError ex)
        {
            throw new DeviceFileException("cannot call the C library through JNA (" + ex.getMessage() +
                "); device files need Linux and JNA's native library (jna.tmpdir must be writable)", ex);
        }
    }

    private static final int SOL_SOCKET = 1;
    private static final int SO_PEERCRED = 17;
    /** struct ucred: pid_t pid, uid_t uid, gid_t gid. */
    private static final int UCRED_SIZE = 12;
    private static final int SEEK_HOLE = 4;
    private static final int ENXIO = 6;

    /**
     * The credentials of the process at the other end of a connected Unix socket, as the kernel
     * recorded them at connect (getsockopt SO_PEERCRED): {pid, uid, gid}, the pid as this
     * process's PID namespace sees it.
     */
    static int[] peerCredentials(final int socketFd)
    {
        final Memory ucred = new Memory(UCRED_SIZE);
        final Memory length = new Memory(Integer.BYTES);
        length.setInt(0, UCRED_SIZE);
        calls().getsockopt(socketFd, SOL_SOCKET, SO_PEERCRED, ucred, length);
        return new int[] {ucred.getInt(0), ucred.getInt(4), ucred.getInt(8)};
    }

    /** SO_PASSRIGHTS (Linux 6.16, asm-generic and x86): whether the socket accepts SCM_RIGHTS. */
    private static final int SO_PASSRIGHTS = 83;
    static final int ENOPROTOOPT = 92;

    /**
     * Stops a Unix socket from accepting descriptors (SO_PASSRIGHTS 0): a peer's sendmsg with
     * SCM_RIGHTS then fails with EPERM in the peer. Returns false where the kernel lacks the option.
     */
    static boolean refusePassedRights(final int socketFd)
    {
        final Memory off = new Memory(Integer.BYTES);
        off.setInt(0, 0);
        try
        {
            calls().setsockopt(socketFd, SOL_SOCKET, SO_PASSRIGHTS, off, Integer.BYTES);
            return true;
        }
        catch (final LastErrorException ex)
        {
            if (ex.getErrorCode() == ENOPROTOOPT)
            {
                return false;
            }
            throw ex;
        }
    }

    /**
     * The offset of the first hole at or after {@code offset} (lseek SEEK_HOLE): the file's size
     * when it has none. -1 when the file system cannot tell or the offset is past the end.
     */
    static long firstHole(final int fd, final long offset)
    {
        try
        {
            return calls().lseek(fd, offset, SEEK_HOLE);
        }
        catch (final LastErrorException ex)
        {
            // ENXIO: offset past the end of the file (it shrank); EINVAL: no SEEK_HOLE here
            return -1;
        }
    }

    /** open(2); returns the descriptor or throws with errno. */
    static int open(final String path, final int flags, final int mode)
    {
        return calls().open(path, flags, mode);
    }

    /** close(2), errors ignored: the descriptor is gone either way. */
    static void closeQuietly(final int fd)
    {
        try
        {
            calls().close(fd);
        }
        catch (final LastErrorException ignore)
        {
            // EINTR or EIO after the descriptor was released: nothing left to do
        }
    }

    /**
     * Takes a write lock on the whole file for the open file description of {@code fd}; returns
     * false when another open file description holds a conflicting lock.
     */
    static boolean tryLockExclusive(final int fd)
    {
        final Memory lock = flock(F_WRLCK);
        try
        {
            calls().fcntl(fd, F_OFD_SETLK, lock);
            return true;
        }
        catch (final LastErrorException ex)
        {
            if (ex.getErrorCode() == EAGAIN || ex.getErrorCode() == EACCES)
            {
                return false;
            }
            throw ex;
        }
    }

    /** Whether any process holds a lock on the file of {@code fd} that a write lock would conflict with. */
    static boolean isLockedByOther(final int fd)
    {
        final Memory lock = flock(F_WRLCK);
        calls().fcntl(fd, F_OFD_GETLK, lock);
        return lock.getShort(FLOCK_TYPE_OFFSET) != F_UNLCK;
    }

    private static Memory flock(final short type)
    {
        final Memory lock = new Memory(FLOCK_SIZE);
        lock.clear();
        lock.setShort(FLOCK_TYPE_OFFSET, type); // l_whence SEEK_SET, l_start 0, l_len 0: the whole file
        lock.setInt(FLOCK_PID_OFFSET, 0); // must be 0 for OFD locks
        return lock;
    }

    /** memfd_create(2): an anonymous shared-memory file, mode 0600, sealable; returns its descriptor. */
    static int memfdCreate(final String name)
    {
        final int fd = calls().memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        try
        {
            // a memfd starts 0777; it has no name in any directory, but /proc/PID/fd/N reopens it
            calls().fchmod(fd, 0600);
        }
        catch (final LastErrorException ex)
        {
            closeQuietly(fd);
            throw ex;
        }
        return fd;
    }

    /** Adds seals to a memfd (fcntl F_ADD_SEALS). */
    static void addSeals(final int fd, final int seals)
    {
        calls().fcntl(fd, F_ADD_SEALS, seals);
    }

    /** The seals of a file (fcntl F_GET_SEALS); throws EINVAL for a file that cannot be sealed. */
    static int seals(final int fd)
    {
        return calls().fcntl(fd, F_GET_SEALS, 0);
    }

    /** The type of the file system a descriptor's file is on (fstatfs f_type). */
    static long fileSystemType(final int fd)
    {
        final Memory statfs = new Memory(STATFS_SIZE);
        statfs.clear();
        calls().fstatfs(fd, statfs);
        return statfs.getLong(0);
    }

    /** ftruncate(2). */
    static void ftruncate(final int fd, final long length)
    {
        calls().ftruncate(fd, length);
    }

    /** sendmsg(2) with a prepared msghdr; returns the bytes sent. */
    static long sendmsg(final int fd, final Pointer msghdr, final int flags)
    {
        return calls().sendmsg(fd, msghdr, flags);
    }

    /** recvmsg(2) with a prepared msghdr; returns the bytes received, 0 at end of stream. */
    static long recvmsg(final int fd, final Pointer msghdr, final int flags)
    {
        return calls().recvmsg(fd, msghdr, flags);
    }

    /** posix_fallocate(3); returns 0 or the error number. */
    static int posixFallocate(final int fd, final long offset, final long length)
    {
        return calls().posix_fallocate(fd, offset, length);
    }

    /** This process's effective uid, the owner of the files it creates. */
    static int geteuid()
    {
        return calls().geteuid();
    }

    static String strerror(final int errno)
    {
        return calls().strerror(errno);
    }
}

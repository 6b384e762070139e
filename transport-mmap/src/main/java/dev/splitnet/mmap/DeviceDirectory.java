package dev.splitnet.mmap;

import dev.splitnet.api.Remedy;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The directory a backend and its frontends share: device files ({@code NAME.dev}) and the
 * backend's Unix socket. Created 0700; device files are created 0600.
 */
public final class DeviceDirectory
{
    /** File name of the backend's listening socket. */
    public static final String SOCKET_NAME = "backend.sock";
    /** File name of the lock a running backend holds. */
    public static final String BACKEND_LOCK_NAME = "backend.lock";
    /** Suffix of device files. */
    public static final String DEVICE_SUFFIX = ".dev";

    private final Path path;

    private DeviceDirectory(final Path path)
    {
        this.path = path;
    }

    /** {@code /dev/shm/splitnet} where /dev/shm exists, else {@code splitnet} under the temp dir. */
    public static Path defaultPath()
    {
        final Path shm = Paths.get("/dev/shm");
        if (Files.isDirectory(shm) && Files.isWritable(shm))
        {
            return shm.resolve("splitnet");
        }
        return Paths.get(System.getProperty("java.io.tmpdir"), "splitnet");
    }

    /** Creates the directory (0700) if it is missing, and checks it is a writable directory. */
    public static DeviceDirectory create(final Path path)
    {
        try
        {
            if (!Files.exists(path))
            {
                // only the last level is made: a missing parent is a mistyped --dir, not a tree to build
                final Path parent = path.toAbsolutePath().getParent();
                if (parent != null && !Files.isDirectory(parent))
                {
                    throw new DeviceFileException("cannot create directory " + path + ": its parent " + parent
                        + " does not exist; create it first or choose another directory", Remedy.DIRECTORY);
                }
                Files.createDirectory(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
        }
        catch (final java.nio.file.FileAlreadyExistsException ex)
        {
            // made by the other side a moment ago: fine, it is checked below
        }
        catch (final AccessDeniedException ex)
        {
            throw new DeviceFileException("cannot create directory " + path + ": permission denied; choose another directory", Remedy.DIRECTORY);
        }
        catch (final IOException ex)
        {
            throw new DeviceFileException("cannot create directory " + path + ": " + ex.getMessage() + "; choose another directory", Remedy.DIRECTORY, ex);
        }
        return open(path);
    }

    /**
     * Backend: checks that only this process's user can enter the directory, so no other user can
     * write a device file, unlink the socket or take a device's name in it: a real directory (not
     * a symbolic link), owned by {@code uid}, with no permission for group or others (0700).
     *
     * @throws DeviceFileException saying what is wrong and what to do.
     */
    public void checkPrivateTo(final int uid)
    {
        checkPrivateTo(uid, false);
    }

    /**
     * As {@link #checkPrivateTo(int)}; with {@code groupShared} (frontends running as users of their
     * own, in the directory's group) the group may enter and create files, but then the directory
     * must be sticky (01770, {@code chmod 1770}), so that no group member can unlink or replace a
     * file it does not own (another frontend's device file, the backend's socket). Others never.
     */
    public void checkPrivateTo(final int uid, final boolean groupShared)
    {
        final int owner;
        final int mode;
        try
        {
            if (Files.isSymbolicLink(path))
            {
                throw new DeviceFileException("directory " + path + " is a symbolic link; use the real directory", Remedy.DIRECTORY);
            }
            owner = (Integer)Files.getAttribute(path, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS);
            mode = (Integer)Files.getAttribute(path, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS);
        }
        catch (final IOException | UnsupportedOperationException ex)
        {
            throw new DeviceFileException("cannot read the owner and mode of directory " + path + ": " + ex
                + "; use a directory on a POSIX file system", Remedy.DIRECTORY, ex);
        }
        if (owner != uid)
        {
            throw new DeviceFileException("directory " + path + " is owned by uid " + owner + ", not by this backend's user (uid "
                + uid + "); the backend needs a directory of its own user", Remedy.DIRECTORY);
        }
        if (groupShared)
        {
            if ((mode & 07) != 0 || (mode & 070) != 0 && (mode & 01000) == 0)
            {
                throw new DeviceFileException(String.format(java.util.Locale.ROOT,
                    "directory %s has mode %04o: %s; run chmod 1770 %s (the frontends' group may enter, only owners may "
                        + "unlink), or choose another directory", path, mode & 07777,
                    (mode & 07) != 0 ? "other users may enter it" : "group members could unlink each other's files (not sticky)",
                    path), Remedy.DIRECTORY);
            }
        }
        else if ((mode & 077) != 0)
        {
            throw new DeviceFileException(String.format(java.util.Locale.ROOT,
                "directory %s has mode %04o: other users may enter it; run chmod 700 %s, or choose another directory",
                path, mode & 07777, path), Remedy.DIRECTORY);
        }
    }

    /** Opens an existing directory only to read it (tools such as stat): it may be read-only. */
    public static DeviceDirectory openForReading(final Path path)
    {
        if (!Files.exists(path))
        {
            throw new DeviceFileException("directory " + path + " does not exist; use the directory the backend uses", Remedy.DIRECTORY);
        }
        if (!Files.isDirectory(path))
        {
            throw new DeviceFileException(path + " is not a directory; use a directory", Remedy.DIRECTORY);
        }
        return new DeviceDirectory(path);
    }

    /** Opens an existing directory, checking it is a writable directory. */
    public static DeviceDirectory open(final Path path)
    {
        if (!Files.exists(path))
        {
            throw new DeviceFileException("directory " + path + " does not exist; start the backend first or use the backend's directory", Remedy.DIRECTORY);
        }
        if (!Files.isDirectory(path))
        {
            throw new DeviceFileException(path + " is not a directory; use a directory", Remedy.DIRECTORY);
        }
        if (!Files.isWritable(path))
        {
            throw new DeviceFileException("directory " + path + " is not writable; fix its permissions or choose another directory", Remedy.DIRECTORY);
        }
        return new DeviceDirectory(path);
    }

    /** Sets POSIX permissions where the file system has them. */
    public static void setPermissions(final Path file, final String perms) throws IOException
    {
        try
        {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(perms));
        }
        catch (final UnsupportedOperationException ignore)
        {
            // not a POSIX file system: nothing to set
        }
    }

    public Path path()
    {
        return path;
    }

    public Path socketPath()
    {
        return path.resolve(SOCKET_NAME);
    }

    public Path backendLockPath()
    {
        return path.resolve(BACKEND_LOCK_NAME);
    }

    /** The device file of a frontend named {@code name}. */
    public Path deviceFile(final String name)
    {
        ControlDescriptor.checkDeviceName(name);
        return path.resolve(name + DEVICE_SUFFIX);
    }
}

package dev.splitnet.mmap;

import dev.splitnet.api.Remedy;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reserves every block of a new device file when it is created. A sparse file that does not fit
 * its file system maps fine and then faults (SIGBUS, which the JVM reports as an
 * {@code InternalError}) at the first write to a page the file system cannot supply, long after
 * connect; reserved up front, it fails at create with one line saying what is missing.
 */
final class SpaceReservation
{
    private static final int ZERO_CHUNK = 64 * 1024;

    private SpaceReservation()
    {
    }

    /**
     * Makes {@code file} {@code length} bytes long with all of them allocated: posix_fallocate on
     * its descriptor, or, where the file system cannot, zeros written through a channel on the
     * same open file. {@code name} is the name the file will have, for messages.
     *
     * @throws DeviceFileException naming the bytes needed and free when they do not fit.
     */
    static void reserve(final DeviceFile file, final long length, final Path name)
    {
        final int error = LibC.posixFallocate(file.fd(), 0, length);
        if (error == 0)
        {
            return;
        }
        if (file.isMemory() && (error == LibC.ENOSPC || error == LibC.ENOMEM))
        {
            throw noMemory(name, length);
        }
        if (error == LibC.ENOSPC)
        {
            throw noSpace(name, length);
        }
        if (error != LibC.EOPNOTSUPP && error != LibC.ENOSYS && error != LibC.EINTR)
        {
            throw new DeviceFileException("cannot reserve " + length + " bytes for device file " + name + ": " +
                LibC.strerror(error) + " (errno " + error + ")");
        }
        writeZeros(file, length, name);
    }

    /** The fallback, on its own for the tests: glibc emulates posix_fallocate itself, musl does not. */
    static void writeZeros(final DeviceFile file, final long length, final Path name)
    {
        // Through /proc/self/fd/N, the open inode: the name may no longer be ours.
        try (FileChannel channel = FileChannel.open(file.procFile().toPath(), StandardOpenOption.WRITE))
        {
            final ByteBuffer zeros = ByteBuffer.allocateDirect(ZERO_CHUNK);
            long position = 0;
            while (position < length)
            {
                zeros.clear().limit((int)Math.min(ZERO_CHUNK, length - position));
                position += channel.write(zeros, position);
            }
            channel.force(false);
        }
        catch (final IOException ex)
        {
            if (String.valueOf(ex.getMessage()).contains("No space left"))
            {
                throw noSpace(name, length);
            }
            throw new DeviceFileException("cannot reserve " + length + " bytes for device file " + name + ": " + ex, ex);
        }
    }

    private static DeviceFileException noSpace(final Path name, final long length)
    {
        final Path parent = name.toAbsolutePath().getParent();
        final Path directory = parent != null ? parent : name.toAbsolutePath();
        final long mebibytes = (length + (1 << 20) - 1) >> 20;
        return new DeviceFileException("cannot create device file " + name + ": it needs " + length + " bytes and the file system of " +
            directory + " has " + usableSpace(directory) + " bytes free; use a directory on a larger file system, or in a container " +
            "give it more shared memory (docker run --shm-size=" + mebibytes + "m or more, one device per frontend)", Remedy.MORE_SPACE);
    }

    private static DeviceFileException noMemory(final Path name, final long length)
    {
        return new DeviceFileException("cannot create device " + name + ": its sealed memory needs " + length + " bytes and the "
            + "system (or this process's memory limit) cannot give them; free memory, raise the limit (docker run --memory), "
            + "or choose a smaller geometry");
    }

    private static String usableSpace(final Path directory)
    {
        try
        {
            return Long.toString(Files.getFileStore(directory).getUsableSpace());
        }
        catch (final IOException ex)
        {
            return "an unknown number of";
        }
    }
}

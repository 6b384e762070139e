package dev.splitnet.it.kill;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * What a process holds, read from /proc/PID: descriptors open on files of the device directory
 * or on sealed device memory, socket descriptors, and mappings of files in the directory (a
 * deleted one included) or of sealed device memory (memfds named "splitnet:NAME", which live in
 * no directory).
 */
record ProcView(int dirFds, int sockets, int dirMappings)
{
    /** How /proc shows sealed device memory, in fd links and in maps. */
    private static final String MEMFD_PREFIX = "/memfd:splitnet:";

    static ProcView of(final long pid, final Path dir)
    {
        final String prefix = dir.toAbsolutePath().toString() + "/";
        int dirFds = 0;
        int sockets = 0;
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd")))
        {
            for (final Path fd : (Iterable<Path>)fds::iterator)
            {
                final String target;
                try
                {
                    target = Files.readSymbolicLink(fd).toString();
                }
                catch (final IOException ex)
                {
                    continue; // closed while listing
                }
                if (target.startsWith(prefix) || target.startsWith(MEMFD_PREFIX))
                {
                    dirFds++;
                }
                else if (target.startsWith("socket:"))
                {
                    sockets++;
                }
            }
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot list /proc/" + pid + "/fd: " + ex);
        }
        int mappings = 0;
        for (final String line : maps(pid))
        {
            if (line.contains(prefix) || line.contains(MEMFD_PREFIX))
            {
                mappings++;
            }
        }
        return new ProcView(dirFds, sockets, mappings);
    }

    /**
     * The inode of the file the process holds open under {@code file}'s path (a frontend keeps its
     * device file open for its lock: the memory itself when file-backed, the claim when the memory
     * is sealed), -1 if it holds no file of that path, -2 if the one it holds was deleted.
     */
    static long heldInode(final long pid, final Path file)
    {
        final String path = file.toAbsolutePath().toString();
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd")))
        {
            for (final Path fd : (Iterable<Path>)fds::iterator)
            {
                final String target;
                try
                {
                    target = Files.readSymbolicLink(fd).toString();
                    if (target.equals(path))
                    {
                        return ((Number)Files.getAttribute(fd, "unix:ino")).longValue();
                    }
                }
                catch (final IOException ex)
                {
                    continue; // closed while listing
                }
                if (target.equals(path + " (deleted)"))
                {
                    return -2;
                }
            }
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot list /proc/" + pid + "/fd: " + ex);
        }
        return -1;
    }

    private static List<String> maps(final long pid)
    {
        try
        {
            return Files.readAllLines(Path.of("/proc", Long.toString(pid), "maps"));
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot read /proc/" + pid + "/maps: " + ex);
        }
    }
}

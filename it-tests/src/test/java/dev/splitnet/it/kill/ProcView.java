package dev.splitnet.it.kill;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * What a process holds, read from /proc/PID: descriptors open on files of the device directory,
 * socket descriptors, and mappings of files in the directory (a deleted one included).
 */
record ProcView(int dirFds, int sockets, int dirMappings)
{
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
                if (target.startsWith(prefix))
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
            if (line.contains(prefix))
            {
                mappings++;
            }
        }
        return new ProcView(dirFds, sockets, mappings);
    }

    /** The inode of a file as the process mapped it, or -1 if it maps no file of that path; "(deleted)" gives -2. */
    static long mappedInode(final long pid, final Path file)
    {
        final String path = file.toAbsolutePath().toString();
        for (final String line : maps(pid))
        {
            if (line.endsWith(path))
            {
                return Long.parseLong(line.trim().split("\\s+")[4]);
            }
            if (line.endsWith(path + " (deleted)"))
            {
                return -2;
            }
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

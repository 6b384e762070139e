package dev.splitnet.frontend;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The backend's process as the kernel sees it ({@code /proc/PID/stat}), for telling a backend that
 * cannot beat (stopped by SIGSTOP, a zombie, gone) from one that could but does not (starved of
 * CPU, or stuck in a handler). Read only while the heartbeat is late: it allocates.
 */
final class PeerProcess
{
    /** The process is stopped (SIGSTOP, a debugger), a zombie, or gone: it cannot beat. */
    static final char CANNOT_RUN = 'T';
    /** The process may run (running, runnable, sleeping, in I/O). */
    static final char MAY_RUN = 'R';
    /** No process to look at: another PID namespace (pid 0), or /proc unreadable. */
    static final char UNKNOWN = '?';

    private PeerProcess()
    {
    }

    /**
     * {@link #CANNOT_RUN}, {@link #MAY_RUN} or {@link #UNKNOWN} for {@code pid} (in this process's
     * PID namespace, as SO_PEERCRED gives it).
     */
    static char state(final long pid)
    {
        if (pid <= 0)
        {
            return UNKNOWN;
        }
        final String stat;
        try
        {
            stat = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "stat")), StandardCharsets.US_ASCII);
        }
        catch (final IOException ex)
        {
            // no such process any more
            return CANNOT_RUN;
        }
        // "pid (comm) S ...": comm may hold spaces and parentheses, the state follows the last ')'
        final int end = stat.lastIndexOf(')');
        if (end < 0 || end + 2 >= stat.length())
        {
            return UNKNOWN;
        }
        switch (stat.charAt(end + 2))
        {
            case 'T':
            case 't':
            case 'Z':
            case 'X':
            case 'x':
                return CANNOT_RUN;
            default:
                return MAY_RUN;
        }
    }
}

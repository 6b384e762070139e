package dev.splitnet.backend.leak;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What this process holds, as the kernel and the JVM say: open descriptors by kind
 * (/proc/self/fd, numbers blanked out), mappings of files under a directory (/proc/self/maps) and
 * live threads by name. Leak tests compare a baseline with the state after their cycles.
 */
public final class ProcessResources
{
    private ProcessResources()
    {
    }

    /** Open descriptors of this process, counted by what they point at (numbers blanked out). */
    public static Map<String, Integer> descriptors() throws IOException
    {
        final Map<String, Integer> kinds = new TreeMap<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd")))
        {
            fds.forEach(fd ->
            {
                try
                {
                    kinds.merge(Files.readSymbolicLink(fd).toString().replaceAll("[0-9]+", "N"), 1, Integer::sum);
                }
                catch (final IOException ignore)
                {
                    // the descriptor of the listing itself, gone already
                }
            });
        }
        return kinds;
    }

    /**
     * Lines of /proc/self/maps naming device memory: a device file under {@code dir} (a deleted one
     * shows as "NAME.dev (deleted)") or sealed memory of any device ("/memfd:splitnet:NAME (deleted)":
     * a memfd has no directory, so every device's counts, whichever directory it serves).
     */
    public static long deviceMappings(final Path dir) throws IOException
    {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps")))
        {
            return lines.filter(line -> line.contains(dir.toString()) && line.contains(".dev") || line.contains("/memfd:splitnet:")).count();
        }
    }

    /**
     * Live threads by name (numbers blanked out), leaving out the JDK's own pooled helpers whose
     * lifetime is not ours: the process reaper threads that Process start-up leaves idle for a minute.
     */
    public static Map<String, Integer> threads()
    {
        final Map<String, Integer> names = new TreeMap<>();
        for (final Thread t : Thread.getAllStackTraces().keySet())
        {
            if (t.isAlive() && !t.getName().startsWith("process reaper"))
            {
                names.merge(t.getName().replaceAll("[0-9]+", "N"), 1, Integer::sum);
            }
        }
        return names;
    }

    /**
     * Reads {@code reading} every 100 ms for up to 5 s until it equals {@code expected} (or, with
     * no expectation, until two readings agree); returns the last reading.
     */
    public static <T> T awaitQuiet(final T expected, final ThrowingSupplier<T> reading) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        T last = reading.get();
        while (System.nanoTime() - deadline < 0)
        {
            if (expected != null && last.equals(expected))
            {
                return last;
            }
            Thread.sleep(100);
            final T now = reading.get();
            if (expected == null && now.equals(last))
            {
                return now;
            }
            last = now;
        }
        return last;
    }

    /** A reading that may fail with an exception. */
    @FunctionalInterface
    public interface ThrowingSupplier<T>
    {
        T get() throws Exception;
    }
}

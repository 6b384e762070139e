package dev.splitnet.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What the demo leaves behind, removed once: at its end, or from a shutdown hook when SIGINT or
 * SIGTERM ends it early. Its three JVMs are killed, and the directory it made is deleted (one it
 * was given is the caller's, and one whose run failed is kept for its logs).
 */
final class DemoCleanup
{
    private final List<Process> processes = new CopyOnWriteArrayList<>();
    private final AtomicBoolean done = new AtomicBoolean();
    private volatile Path ownedDirectory;

    /** @param ownedDirectory the directory the demo made, or null when it was given one. */
    DemoCleanup(final Path ownedDirectory)
    {
        this.ownedDirectory = ownedDirectory;
    }

    Process add(final Process process)
    {
        processes.add(process);
        return process;
    }

    /** A failed run keeps its directory: its logs say what went wrong. */
    void keepDirectory()
    {
        ownedDirectory = null;
    }

    void run()
    {
        if (!done.compareAndSet(false, true))
        {
            return;
        }
        for (final Process p : processes)
        {
            p.destroyForcibly();
        }
        for (final Process p : processes)
        {
            try
            {
                p.waitFor(10, TimeUnit.SECONDS);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
        final Path dir = ownedDirectory;
        if (dir != null && Files.isDirectory(dir))
        {
            deleteDirectory(dir);
        }
    }

    private static void deleteDirectory(final Path dir)
    {
        try (var files = Files.list(dir))
        {
            for (final Path file : files.toList())
            {
                Files.deleteIfExists(file);
            }
            Files.deleteIfExists(dir);
        }
        catch (final IOException ex)
        {
            System.err.println("splitnet demo: could not remove " + dir + ": " + ex.getMessage());
        }
    }
}

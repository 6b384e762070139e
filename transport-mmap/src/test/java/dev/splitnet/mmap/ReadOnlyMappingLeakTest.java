package dev.splitnet.mmap;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/** A read-only look at a file (tools, CounterReadings) unmaps it again: nothing stays mapped after close. */
class ReadOnlyMappingLeakTest
{
    @TempDir
    Path dir;

    private long mappingsOf(final Path file) throws IOException
    {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps")))
        {
            return lines.filter(line -> line.endsWith(file.toString())).count();
        }
    }

    @Test
    void shouldUnmapReadOnlyMappingsOnClose() throws IOException
    {
        final Path file = dir.resolve("look.dev");
        try (Device device = Device.create(file, "look", DeviceGeometry.of(1, 128, 64, 32), 0, 0L, false))
        {
            final long before = mappingsOf(file);
            for (int i = 0; i < 50; i++)
            {
                Device.attach(file.toFile(), true).close();
            }
            assertEquals(before, mappingsOf(file), "read-only attaches left mappings behind");
        }
        try (BackendCounters counters = BackendCounters.create(dir, 4))
        {
            counters.allocate(1, "one");
            final Path countersFile = BackendCounters.pathIn(dir);
            final long before = mappingsOf(countersFile);
            for (int i = 0; i < 50; i++)
            {
                assertEquals(1, BackendCounters.resolve(dir, "one"));
            }
            assertEquals(before, mappingsOf(countersFile), "reading the backend's counters left mappings behind");
        }
    }
}

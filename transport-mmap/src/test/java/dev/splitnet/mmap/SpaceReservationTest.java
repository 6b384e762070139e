package dev.splitnet.mmap;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** A device file gets all its space when it is created, or fails then, saying so in one line. */
class SpaceReservationTest
{
    /** The frontend's default geometry: 5,337,088 bytes. */
    private static final DeviceGeometry DEFAULT_GEOMETRY = DeviceGeometry.of(1, 128, 1024, 256);

    @TempDir
    Path dir;

    @Test
    void shouldAllocateEveryBlockOfANewDeviceFile() throws Exception
    {
        try (Device device = Device.create(dir.resolve("full.dev"), "full", DEFAULT_GEOMETRY, 0, 0L, false))
        {
            final long length = device.layout().fileLength();
            // The JDK does not expose st_blocks; stat(1) does.
            final Process stat = new ProcessBuilder("stat", "-c", "%b %B", device.path().toString()).start();
            final String[] blocks = new String(stat.getInputStream().readAllBytes()).strip().split(" ");
            assertEquals(0, stat.waitFor());
            final long allocated = Long.parseLong(blocks[0]) * Long.parseLong(blocks[1]);
            assertTrue(allocated >= length, "not sparse: " + allocated + " bytes allocated for " + length);
        }
    }

    @Test
    void shouldReserveByWritingZerosWhereFallocateIsMissing() throws Exception
    {
        final Path name = dir.resolve("zeros.dev");
        try (DeviceFile file = DeviceFile.createNew(name))
        {
            SpaceReservation.writeZeros(file, 1_000_000, name);
            assertEquals(1_000_000, file.size());
        }
    }

    @Test
    void shouldFailCreateOnTooSmallAFileSystemWithOneLineAndLeaveNothing() throws Exception
    {
        assumeTrue(DeviceFile.processUid() == 0, "needs root to mount a small tmpfs");
        final Path mount = Files.createDirectory(dir.resolve("small"));
        final Process mounting = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", mount.toString())
            .redirectErrorStream(true).start();
        final String mountOutput = new String(mounting.getInputStream().readAllBytes());
        assumeTrue(mounting.waitFor() == 0, "cannot mount a tmpfs here: " + mountOutput);
        try
        {
            final long needed = DeviceLayout.of(DEFAULT_GEOMETRY).fileLength();
            final DeviceFileException ex = assertThrows(DeviceFileException.class,
                () -> Device.create(mount.resolve("big.dev"), "big", DEFAULT_GEOMETRY, 0, 0L, false).close());
            final String message = ex.getMessage();
            assertEquals(1, message.lines().count(), message);
            assertTrue(message.contains("needs " + needed + " bytes"), message);
            assertTrue(message.matches(".*has \\d+ bytes free.*"), message);
            assertTrue(message.contains("use a directory on a larger file system") && message.contains("--shm-size"), message);
            assertEquals(dev.splitnet.api.Remedy.MORE_SPACE, ex.remedy(), "the command line adds its --dir to this");
            assertTrue(message.contains(mount.resolve("big.dev") + ": "), "names the device file, not the temporary one: " + message);
            try (DeviceFile file = DeviceFile.createNew(mount.resolve("zeros.dev")))
            {
                final DeviceFileException zeros = assertThrows(DeviceFileException.class,
                    () -> SpaceReservation.writeZeros(file, needed, mount.resolve("zeros.dev")));
                assertTrue(zeros.getMessage().contains("needs " + needed + " bytes"), zeros.getMessage());
            }
            Files.delete(mount.resolve("zeros.dev"));
            try (var list = Files.list(mount))
            {
                assertEquals(List.of(), list.toList(), "no device or temporary file left behind");
            }
        }
        finally
        {
            // Lazy: detached at once even when a mapping not yet released (this test failing) keeps it busy.
            new ProcessBuilder("umount", "-l", mount.toString()).inheritIO().start().waitFor();
        }
    }
}

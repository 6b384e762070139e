package dev.splitnet.mmap;

import dev.splitnet.api.Remedy;
import dev.splitnet.api.SplitnetException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The library's errors name the setting to change (a {@link Remedy}) and no command-line option:
 * an application embedding it has no --dir; the command line adds its own.
 */
class LibraryMessagesTest
{
    private static final DeviceGeometry GEOMETRY = DeviceGeometry.of(1, 128, 64, 64);

    @TempDir
    Path dir;

    private static void assertRemedy(final Remedy remedy, final String saying, final Executable failing)
    {
        final SplitnetException ex = assertThrows(SplitnetException.class, failing);
        assertEquals(remedy, ex.remedy(), ex.getMessage());
        assertTrue(ex.getMessage().contains(saying), ex.getMessage());
        assertFalse(ex.getMessage().matches(".*(^|\\s|\\()--[a-z].*"), "no command-line option in a library message: " + ex.getMessage());
    }

    @Test
    void shouldNameTheDirectoryNotAnOption() throws Exception
    {
        assertRemedy(Remedy.DIRECTORY, "create it first or choose another directory",
            () -> DeviceDirectory.create(dir.resolve("missing/child")));
        assertRemedy(Remedy.DIRECTORY, "start the backend first or use the backend's directory",
            () -> DeviceDirectory.open(dir.resolve("nowhere")));
        final Path file = Files.createFile(dir.resolve("plain"));
        assertRemedy(Remedy.DIRECTORY, "is not a directory; use a directory", () -> DeviceDirectory.open(file));
        final Path open = Files.createDirectory(dir.resolve("open"));
        Files.setPosixFilePermissions(open, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        assertRemedy(Remedy.DIRECTORY, "run chmod 700 " + open + ", or choose another directory",
            () -> DeviceDirectory.open(open).checkPrivateTo(DeviceFile.processUid()));
    }

    @Test
    void shouldNameTheFrontendNameForALiveDeviceAndReplacingForAStaleOne() throws Exception
    {
        final Path device = dir.resolve("x.dev");
        try (Device live = Device.create(device, "x", GEOMETRY, 0, 0L, false))
        {
            assertRemedy(Remedy.NAME, "is in use by a running frontend; choose another frontend name",
                () -> Device.create(device, "x", GEOMETRY, 0, 0L, true).close());
        }
        Files.write(dir.resolve("ghost.dev"), new byte[8192]);
        assertRemedy(Remedy.REPLACE_STALE, "left by a frontend that is gone; delete it or replace it",
            () -> Device.create(dir.resolve("ghost.dev"), "ghost", GEOMETRY, 0, 0L, false).close());
    }
}

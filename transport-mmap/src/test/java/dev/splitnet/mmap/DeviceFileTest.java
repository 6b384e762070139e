package dev.splitnet.mmap;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A device file is opened by name once: what a frontend puts under the name afterwards (or
 * before) cannot make the backend block, map another file, or lose the frontend's lock.
 */
class DeviceFileTest
{
    private static final DeviceGeometry GEOMETRY = DeviceGeometry.of(1, 128, 64, 32);

    @TempDir
    Path dir;

    private Device create(final String name)
    {
        return Device.create(dir.resolve(name + DeviceDirectory.DEVICE_SUFFIX), name, GEOMETRY, 0, 0L, false);
    }

    private static DeviceFileException assertAttachRefused(final Path file, final boolean readOnly, final String expected)
    {
        final DeviceFileException ex = assertThrows(DeviceFileException.class, () -> Device.attach(file.toFile(), readOnly).close());
        assertTrue(ex.getMessage().contains(file.toString()) && ex.getMessage().contains(expected),
            () -> "message should name " + file + " and say '" + expected + "': " + ex.getMessage());
        return ex;
    }

    @Test
    void shouldAttachToADeviceFileItsFrontendCreated()
    {
        try (Device front = create("a"); Device back = Device.attach(dir.resolve("a.dev").toFile(), false))
        {
            assertTrue(front.isOwner());
            assertFalse(back.isOwner());
            assertEquals("a", back.deviceName());
            assertEquals(front.layout().fileLength(), back.mapping().length());
        }
    }

    @Test
    void shouldRefuseASymbolicLinkToAnotherFrontendsFile() throws IOException
    {
        try (Device other = create("other"))
        {
            final Path link = Files.createSymbolicLink(dir.resolve("thief.dev"), other.path());
            assertAttachRefused(link, false, "symbolic link");
            assertAttachRefused(link, true, "symbolic link");
        }
    }

    @Test
    void shouldRefuseAHardLinkToAnotherFrontendsFile() throws IOException
    {
        try (Device other = create("other"))
        {
            final Path link = Files.createLink(dir.resolve("thief.dev"), other.path());
            assertAttachRefused(link, false, "2 hard links");
        }
    }

    @Test
    @Timeout(value = 20, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void shouldRefuseAFifoWithoutBlocking() throws Exception
    {
        final Path fifo = dir.resolve("fifo.dev");
        final Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertEquals(0, mkfifo.waitFor());
        // Read-write and read-only: open(2) of a FIFO for reading alone would wait for a writer.
        assertAttachRefused(fifo, false, "is a FIFO, not a regular file");
        assertAttachRefused(fifo, true, "is a FIFO, not a regular file");
    }

    @Test
    void shouldRefuseADirectory() throws IOException
    {
        final Path directory = Files.createDirectory(dir.resolve("d.dev"));
        assertThrows(DeviceFileException.class, () -> Device.attach(directory.toFile(), true).close());
    }

    @Test
    void shouldSayAMissingFileDoesNotExist()
    {
        assertAttachRefused(dir.resolve("missing.dev"), false, "does not exist");
    }

    @Test
    void shouldRefuseAFileOwnedByAnotherUserUnlessThatOwnerIsExpected() throws IOException
    {
        assumeTrue(DeviceFile.processUid() == 0, "needs root to give a file to another uid");
        try (Device front = create("foreign"))
        {
            Files.setAttribute(front.path(), "unix:uid", 12345);
            assertAttachRefused(front.path(), false, "owned by uid 12345, expected uid 0");
            try (Device back = Device.attach(front.path().toFile(), false, 12345))
            {
                assertEquals("foreign", back.deviceName());
            }
        }
    }

    @Test
    void shouldHoldTheFrontendsLockSeenFromAnotherProcessUntilClosed() throws Exception
    {
        final Path file;
        try (Device front = create("locked"))
        {
            file = front.path();
            assertTrue(Files.readString(Paths.get("/proc/locks")).contains(":" + Files.getAttribute(file, "unix:ino") + " "),
                "the kernel lists a lock on the device file's inode");
            assertEquals(List.of("true"), probeFromAnotherJvm(file), "a live frontend's file is in use");
            assertTrue(Device.isInUse(file), "and in use seen from this process too");
        }
        assertEquals(List.of("false"), probeFromAnotherJvm(file), "closed, the file is stale");
        assertFalse(Device.isInUse(file));
    }

    @Test
    void shouldCallALockedFileInUseAndAnUnlockedOneStale()
    {
        try (Device front = create("live"))
        {
            final DeviceFileException ex = assertThrows(DeviceFileException.class,
                () -> Device.create(front.path(), "live", GEOMETRY, 0, 0L, true));
            assertTrue(ex.getMessage().contains("in use by a running frontend"), ex.getMessage());
        }
        final DeviceFileException ex = assertThrows(DeviceFileException.class, () -> create("live"));
        assertTrue(ex.getMessage().contains("stale device file"), ex.getMessage());
        try (Device replaced = Device.create(dir.resolve("live.dev"), "live", GEOMETRY, 0, 0L, true))
        {
            assertTrue(Device.isInUse(replaced.path()));
        }
    }

    @Test
    void shouldAnswerInUseWhenItCannotOpenTheFile() throws IOException
    {
        final Path notADirectory = Files.createFile(dir.resolve("plain"));
        assertTrue(Device.isInUse(notADirectory.resolve("x.dev")), "cannot tell, so in use: nobody may delete it");
        assertFalse(Device.isInUse(dir.resolve("missing.dev")), "a missing file is not in use");
    }

    @Test
    void shouldLeaveOnlyTheDeviceFileAfterCreate() throws IOException
    {
        try (Device front = create("tidy"))
        {
            try (var list = Files.list(dir))
            {
                assertEquals(List.of(front.path()), list.toList());
            }
            assertEquals(front.layout().fileLength(), Files.size(front.path()));
            assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(front.path())));
        }
    }

    private static List<String> probeFromAnotherJvm(final Path file) throws Exception
    {
        final List<String> command = new ArrayList<>();
        command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(LockProbe.class.getName());
        command.add(file.toString());
        final Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        final String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "probe JVM did not finish");
        assertEquals(0, process.exitValue(), out);
        return out.lines().toList();
    }

    @Test
    void shouldHaveNoHoleUntilTruncatedAndRegrown() throws IOException
    {
        try (Device device = create("holes"); Device seen = Device.attach(device.path().toFile(), true))
        {
            final long length = device.layout().fileLength();
            assertEquals(length, seen.firstHole(), "every page of a new device file is written");
            try (java.io.RandomAccessFile file = new java.io.RandomAccessFile(device.path().toFile(), "rw"))
            {
                file.setLength(0);
                file.setLength(length);
            }
            final long hole = seen.firstHole();
            assertTrue(hole >= 0 && hole < length, "a truncated and regrown file has a hole, first at " + hole);
        }
    }
}

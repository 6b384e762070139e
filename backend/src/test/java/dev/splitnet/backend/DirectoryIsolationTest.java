package dev.splitnet.backend;

import dev.splitnet.api.IdleMode;
import dev.splitnet.api.SplitnetException;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import dev.splitnet.api.Features;
import dev.splitnet.api.XenbusState;
import dev.splitnet.mmap.Device;
import dev.splitnet.mmap.DeviceDirectory;
import dev.splitnet.mmap.DeviceGeometry;
import dev.splitnet.mmap.Handshake;
import dev.splitnet.mmap.DeviceFile;
import dev.splitnet.mmap.DeviceFileException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What the backend enforces about who may share its directory: a directory only its user can
 * enter, device files owned by the user that connected (as the kernel reports it through
 * SO_PEERCRED, not as the HELLO says), and, when asked, a distinct user per frontend.
 */
class DirectoryIsolationTest
{
    private static final int OTHER_UID = 12345;

    @TempDir
    Path parent;

    private static boolean isRoot()
    {
        return DeviceFile.processUid() == 0;
    }

    private static void chown(final Path path, final int uid) throws Exception
    {
        final Process chown = new ProcessBuilder("chown", Integer.toString(uid), path.toString()).inheritIO().start();
        assertEquals(0, chown.waitFor());
    }

    @Test
    void shouldRefuseADirectoryOtherUsersMayEnter() throws Exception
    {
        final Path dir = Files.createDirectory(parent.resolve("open"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        final DeviceFileException ex = assertThrows(DeviceFileException.class,
            () -> NetBack.launch(new BackendContext().directory(dir)).close());
        assertEquals("directory " + dir + " has mode 0755: other users may enter it; run chmod 700 " + dir
            + ", or choose another directory", ex.getMessage());
        assertEquals(dev.splitnet.api.Remedy.DIRECTORY, ex.remedy(), "the command line adds its --dir to this");
        assertFalse(Files.exists(dir.resolve(DeviceDirectory.SOCKET_NAME)), "nothing left listening");
    }

    @Test
    void shouldRefuseADirectoryOfAnotherUser() throws Exception
    {
        assumeTrue(isRoot(), "needs root to give the directory away");
        final Path dir = Files.createDirectory(parent.resolve("theirs"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        chown(dir, OTHER_UID);
        final DeviceFileException ex = assertThrows(DeviceFileException.class,
            () -> NetBack.launch(new BackendContext().directory(dir)).close());
        assertTrue(ex.getMessage().contains("is owned by uid " + OTHER_UID + ", not by this backend's user (uid 0)"), ex.getMessage());
    }

    @Test
    void shouldRefuseTheBackendLockWhenItIsASymbolicLink() throws Exception
    {
        final Path dir = Files.createDirectory(parent.resolve("lock"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        final Path elsewhere = Files.createFile(parent.resolve("someone-elses-file"));
        Files.createSymbolicLink(dir.resolve(DeviceDirectory.BACKEND_LOCK_NAME), elsewhere);
        final SplitnetException ex = assertThrows(SplitnetException.class,
            () -> NetBack.launch(new BackendContext().directory(dir)).close());
        assertTrue(ex.getMessage().contains("backend cannot listen in " + dir), ex.getMessage());
    }

    @Test
    void shouldRefuseADeviceFileNotOwnedByTheUserThatConnected() throws Exception
    {
        assumeTrue(isRoot(), "needs root to give the device file away");
        final Path dir = parent.resolve("owner");
        try (NetBackRunner runner = new NetBackRunner(NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BACKOFF)
            .allowFileMemory(true)), new BackoffIdleStrategy(), Throwable::printStackTrace))
        {
            // a complete device file, then given to another user: the process that says HELLO for it is not its owner
            final Path file = dir.resolve("given" + DeviceDirectory.DEVICE_SUFFIX);
            try (Device device = Device.create(file, "given", DeviceGeometry.of(1, 128, 64, 32), 0, Features.DEFAULT, false))
            {
                device.setFrontendState(XenbusState.INITIALISED);
                chown(file, OTHER_UID);
                final Handshake.Welcome welcome = RawHello.hello(dir, "given");
                assertEquals(Handshake.STATUS_REFUSED, welcome.status());
                assertTrue(welcome.reason().contains("is owned by uid " + OTHER_UID + ", expected uid 0"), welcome.reason());
            }
            assertTrue(runner.isRunning());
        }
    }

    @Test
    void shouldRefuseASecondFrontendOfTheSameUserWhenEachMustBeItsOwn()
    {
        final Path dir = parent.resolve("distinct");
        try (NetBackRunner runner = new NetBackRunner(NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BACKOFF)
            .distinctFrontendUids(true)), new BackoffIdleStrategy(), Throwable::printStackTrace);
            NetFront first = NetFront.connect(new FrontendContext().directory(dir).name("first")))
        {
            final SplitnetException ex = assertThrows(SplitnetException.class,
                () -> NetFront.connect(new FrontendContext().directory(dir).name("second")).close());
            assertTrue(ex.getMessage().contains("uid " + DeviceFile.processUid() + " already runs frontend first; this backend "
                + "requires each frontend to run as its own user"), ex.getMessage());
            assertTrue(first.isConnected());
        }
    }

    @Test
    void shouldLetTheFrontendsGroupInOnlyIntoAStickyDirectoryWhenEachFrontendIsItsOwnUser() throws Exception
    {
        final Path dir = Files.createDirectory(parent.resolve("shared"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwx---"));
        final DeviceFileException notSticky = assertThrows(DeviceFileException.class,
            () -> NetBack.launch(new BackendContext().directory(dir).distinctFrontendUids(true)).close());
        assertTrue(notSticky.getMessage().contains("has mode 0770: group members could unlink each other's files (not sticky); "
            + "run chmod 1770 " + dir), notSticky.getMessage());
        assertThrows(DeviceFileException.class, () -> NetBack.launch(new BackendContext().directory(dir)).close(),
            "without --distinct-uids the group may not enter at all");
        final Process chmod = new ProcessBuilder("chmod", "1770", dir.toString()).inheritIO().start();
        assertEquals(0, chmod.waitFor());
        try (NetBack backend = NetBack.launch(new BackendContext().directory(dir).distinctFrontendUids(true)))
        {
            assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(DeviceDirectory.SOCKET_NAME))),
                "the frontends' group may connect");
        }
    }
}

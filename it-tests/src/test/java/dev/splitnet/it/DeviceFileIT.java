package dev.splitnet.it;

import dev.splitnet.mmap.Device;
import dev.splitnet.mmap.DeviceFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** A real frontend JVM's device file: locked while it lives, and refused in one line where it does not fit. */
class DeviceFileIT
{
    /** The default geometry's file length (docs/PROTOCOL.md 2.2). */
    static final long DEFAULT_FILE_LENGTH = 5_361_664L;

    @TempDir
    Path dir;

    @Test
    void shouldSeeAWaitingFrontendsFileInUseFromAnotherProcess() throws Exception
    {
        final Path file = dir.resolve("waiting.dev");
        try (SplitnetProcess frontend = SplitnetProcess.start("file-lock-frontend", "frontend", "--dir", dir.toString(),
            "--name", "waiting", "--connect-timeout", "60000", "--count", "1"))
        {
            final long deadline = System.nanoTime() + 30_000_000_000L;
            while (!Files.exists(file) && frontend.isAlive() && System.nanoTime() < deadline)
            {
                Thread.sleep(20);
            }
            assertTrue(Files.exists(file) && frontend.isAlive(), frontend.stderr());
            // The frontend waits for a backend that never comes, holding its lock all the while.
            assertTrue(Device.isInUse(file), "a live frontend's file is in use");
            frontend.kill();
            assertFalse(Device.isInUse(file), "a killed frontend's file is stale");
        }
    }

    @Test
    void shouldRefuseAFrontendWhoseFileDoesNotFitWithOneLineAndLeaveNothing() throws Exception
    {
        assumeTrue(DeviceFile.processUid() == 0, "needs root to mount a small tmpfs");
        final Path small = Files.createDirectory(dir.resolve("small"));
        final Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", small.toString())
            .redirectErrorStream(true).start();
        final String mountOutput = new String(mount.getInputStream().readAllBytes());
        assumeTrue(mount.waitFor() == 0, "cannot mount a tmpfs here: " + mountOutput);
        // file-backed memory must fit the file system: one line naming the bytes, nothing left behind
        try (SplitnetProcess frontend = SplitnetProcess.start("file-no-space", "frontend", "--dir", small.toString(),
            "--name", "big", "--connect-timeout", "300", "--count", "1", "--file-memory"))
        {
            assertEquals(1, frontend.waitFor(60), frontend.stderr());
            final String err = frontend.stderr().strip();
            assertEquals(1, err.lines().count(), err);
            assertTrue(err.contains("needs " + DEFAULT_FILE_LENGTH + " bytes") && err.contains("bytes free") && err.contains("--dir"), err);
            assertTrue(err.contains(small.resolve("big.dev") + ": "), "names the device file: " + err);
            try (var list = Files.list(small))
            {
                assertEquals(List.of(), list.toList(), "no device or temporary file left behind");
            }
        }
        // sealed memory (the default) is not in the file system: only its 32-byte claim is, so the
        // same frontend fits the 3 MB tmpfs and fails only for want of a backend, again leaving nothing
        try (SplitnetProcess frontend = SplitnetProcess.start("sealed-fits", "frontend", "--dir", small.toString(),
            "--name", "big", "--connect-timeout", "300", "--count", "1"))
        {
            assertEquals(1, frontend.waitFor(60), frontend.stderr());
            final String err = frontend.stderr().strip();
            assertTrue(err.contains("no backend is listening"), err);
            assertFalse(err.contains("bytes free"), err);
            try (var list = Files.list(small))
            {
                assertEquals(List.of(), list.toList(), "no claim or temporary file left behind");
            }
        }
        finally
        {
            // Lazy: detached at once even when a mapping not yet released (this test failing) keeps it busy.
            new ProcessBuilder("umount", "-l", small.toString()).inheritIO().start().waitFor();
        }
    }
}

package dev.splitnet.backend;

import com.sun.jna.Library;
import com.sun.jna.Native;
import dev.splitnet.api.IdleMode;
import dev.splitnet.api.SplitnetException;
import dev.splitnet.api.XenbusState;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import dev.splitnet.mmap.ClaimFile;
import dev.splitnet.mmap.DescriptorPassing;
import dev.splitnet.mmap.Device;
import dev.splitnet.mmap.DeviceDirectory;
import dev.splitnet.mmap.DeviceFileException;
import dev.splitnet.mmap.Handshake;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Sealed device memory end to end: a frontend's memory is a sealed memfd sent with its HELLO, the
 * file in the directory is a claim, the backend refuses file-backed devices unless allowed and
 * every descriptor that is not sealed memory (and closes each one it refuses), and tools look
 * through the backend, read-only.
 */
class SealedMemoryTest
{
    private static final AtomicInteger MEMFD_NAMES = new AtomicInteger();

    /** The few calls a test needs to forge descriptors a frontend would never send. */
    private interface CLib extends Library
    {
        CLib C = Native.load("c", CLib.class);

        int memfd_create(String name, int flags);

        int fcntl(int fd, int cmd, int arg);

        int open(String path, int flags, int mode);

        int close(int fd);
    }

    private static final int MFD_CLOEXEC = 1;
    private static final int MFD_ALLOW_SEALING = 2;
    private static final int F_ADD_SEALS = 1033;
    private static final int F_SEAL_SEAL = 1;
    private static final int O_RDWR = 2;

    @TempDir
    Path parent;
    private Path dir;
    private NetBack backend;
    private NetBackRunner runner;

    @BeforeEach
    void startBackend()
    {
        dir = parent.resolve("sealed");
        backend = NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BACKOFF));
        runner = new NetBackRunner(backend, new BackoffIdleStrategy(), Throwable::printStackTrace);
    }

    @AfterEach
    void stopBackend()
    {
        runner.close();
    }

    @Test
    void aFrontendsMemoryIsSealedAndItsFileIsAClaim() throws Exception
    {
        try (NetFront front = NetFront.connect(new FrontendContext().directory(dir).name("sealed")))
        {
            assertTrue(front.device().isSealedMemory());
            final Path claim = dir.resolve("sealed" + DeviceDirectory.DEVICE_SUFFIX);
            assertEquals(ClaimFile.LENGTH, Files.size(claim));
            final ClaimFile.Contents contents = ClaimFile.readFrom(claim);
            assertEquals(XenbusState.CONNECTED.code(), contents.frontendState());
            assertEquals(ProcessHandle.current().pid(), contents.pid());
            assertEquals(front.device().layout().fileLength(), contents.memoryLength());
            assertTrue(Device.isInUse(claim), "the claim carries the frontend's lock");
        }
        assertFalse(Files.exists(dir.resolve("sealed" + DeviceDirectory.DEVICE_SUFFIX)), "closing removes the claim");
    }

    @Test
    void aBackendRefusesFileBackedMemoryUnlessAllowed()
    {
        final SplitnetException refused = assertThrows(SplitnetException.class,
            () -> NetFront.connect(new FrontendContext().directory(dir).name("filed").sealedMemory(false)).close());
        assertTrue(refused.getMessage().contains("sent no sealed memory with its HELLO"), refused.getMessage());
        assertTrue(refused.getMessage().contains("--allow-file-memory"), refused.getMessage());
        assertFalse(Files.exists(dir.resolve("filed" + DeviceDirectory.DEVICE_SUFFIX)), "nothing left behind");
    }

    @Test
    void aBackendRefusesEveryDescriptorThatIsNotSealedMemoryAndClosesIt() throws Exception
    {
        // a regular file with a name: anyone who can open it could truncate it
        final Path plain = parent.resolve("plain.bin");
        Files.write(plain, new byte[8192]);
        assertRefusedAndClosed("plain", CLib.C.open(plain.toString(), O_RDWR, 0), "is a file with 1 name(s), not sealed memory");
        // a memfd nobody sealed
        assertRefusedAndClosed("unsealed", memfd(), "has seals 0x0");
        // a memfd sealed against sealing only: it can still shrink
        final int sealSealOnly = memfd();
        assertEquals(0, CLib.C.fcntl(sealSealOnly, F_ADD_SEALS, F_SEAL_SEAL));
        assertRefusedAndClosed("sealonly", sealSealOnly, "has seals 0x1");
        // a socket
        try (SocketChannel socket = SocketChannel.open(StandardProtocolFamily.UNIX))
        {
            final Handshake.Welcome welcome = RawHello.hello(dir, "socket", DescriptorPassing.socketFd(socket));
            assertEquals(Handshake.STATUS_REFUSED, welcome.status());
            assertTrue(welcome.reason().contains("is a socket, not a memory file"), welcome.reason());
        }
        // two descriptors: refused before either is looked at, both closed
        final int first = memfd();
        final int second = memfd();
        final Handshake.Welcome two = RawHello.hello(dir, "two", first, second);
        assertEquals(Handshake.STATUS_REFUSED, two.status());
        assertTrue(two.reason().contains("more than one descriptor"), two.reason());
        awaitOnlyOurs(first);
        awaitOnlyOurs(second);
        CLib.C.close(first);
        CLib.C.close(second);
    }

    private void assertRefusedAndClosed(final String name, final int fd, final String reason) throws Exception
    {
        assertTrue(fd >= 0, "test setup: could not open a descriptor");
        try
        {
            final Handshake.Welcome welcome = RawHello.hello(dir, name, fd);
            assertEquals(Handshake.STATUS_REFUSED, welcome.status());
            assertTrue(welcome.reason().contains(reason), welcome.reason());
            awaitOnlyOurs(fd);
        }
        finally
        {
            CLib.C.close(fd);
        }
    }

    private static int memfd()
    {
        return CLib.C.memfd_create("splitnet-test-" + MEMFD_NAMES.incrementAndGet(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
    }

    /**
     * Waits until the only descriptor in this process (the backend runs here too) open on the file
     * of {@code fd} is {@code fd} itself: the backend closed its received copy.
     */
    private static void awaitOnlyOurs(final int fd) throws Exception
    {
        final String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        long open;
        do
        {
            open = descriptorsOn(target);
            if (open == 1)
            {
                return;
            }
            Thread.sleep(5);
        }
        while (System.nanoTime() - deadline < 0);
        fail(open + " descriptors in this process are open on " + target + ": the backend kept what it refused");
    }

    private static long descriptorsOn(final String target) throws IOException
    {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd")))
        {
            return fds.filter(p ->
            {
                try
                {
                    return Files.readSymbolicLink(p).toString().equals(target);
                }
                catch (final IOException gone)
                {
                    return false; // closed while listing (the listing's own descriptor, for one)
                }
            }).count();
        }
    }

    @Test
    void aToolLooksThroughTheBackendReadOnly() throws Exception
    {
        try (NetFront front = NetFront.connect(new FrontendContext().directory(dir).name("looked")))
        {
            final Path claim = dir.resolve("looked" + DeviceDirectory.DEVICE_SUFFIX);
            final long adopted = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (backend.connectedCount() != 1 && System.nanoTime() - adopted < 0)
            {
                Thread.sleep(1); // the data agent takes the connected vif over at its next duty cycle
            }
            try (Device seen = Device.attach(claim.toFile(), true))
            {
                assertTrue(seen.isSealedMemory());
                assertEquals("looked", seen.deviceName());
                assertEquals(XenbusState.CONNECTED, seen.frontendState());
                assertEquals(XenbusState.CONNECTED, seen.backendState());
                assertEquals(front.domainId(), seen.domainId());
                // the descriptor the backend sent is read-only: O_ACCMODE of its flags is O_RDONLY
                final String fdinfo = Files.readString(Path.of(seen.memoryHandle().replace("/fd/", "/fdinfo/")));
                final String flags = fdinfo.lines().filter(l -> l.startsWith("flags:")).findFirst().orElseThrow();
                assertEquals(0, Integer.parseInt(flags.substring("flags:".length()).trim(), 8) & 3, fdinfo);
            }
            final DeviceFileException writable = assertThrows(DeviceFileException.class, () -> Device.attach(claim.toFile(), false).close());
            assertTrue(writable.getMessage().contains("claim of a device whose memory is sealed"), writable.getMessage());
            assertEquals(1, backend.connectedCount(), "a look changes nothing for the frontend");
            assertTrue(front.isConnected());
        }
    }

    @Test
    void withoutABackendAToolIsToldWhyItCannotLook() throws Exception
    {
        try (NetFront front = NetFront.connect(new FrontendContext().directory(dir).name("alone")))
        {
            runner.close();
            final Path claim = dir.resolve("alone" + DeviceDirectory.DEVICE_SUFFIX);
            final DeviceFileException ex = assertThrows(DeviceFileException.class, () -> Device.attach(claim.toFile(), true).close());
            assertTrue(ex.getMessage().contains("keeps its memory sealed and no backend is listening"), ex.getMessage());
            assertNotNull(ClaimFile.readFrom(claim), "the claim itself still reads");
        }
    }
}

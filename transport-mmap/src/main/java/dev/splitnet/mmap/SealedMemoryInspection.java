package dev.splitnet.mmap;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A tool's way to a device whose memory is sealed: the memory has no name in the file system, so
 * the tool asks the backend that holds it (INSPECT on {@code DIR/backend.sock}) and is sent a
 * read-only descriptor of it. The backend answers only processes of root, its own user or the
 * device's owner (as the kernel reports them), so a look is no wider than reading a file-backed
 * device file was.
 */
public final class SealedMemoryInspection
{
    /** How long a tool waits for the backend's answer. */
    static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(2);

    private SealedMemoryInspection()
    {
    }

    /**
     * A read-only descriptor of the sealed memory of the device whose claim file is {@code claimPath},
     * from the backend serving its directory; the caller closes it.
     *
     * @throws DeviceFileException when no backend listens, the device is not connected to it, or the
     *                             backend refuses; the message says which.
     */
    public static int readOnlyMemory(final Path claimPath)
    {
        final Path directory = claimPath.toAbsolutePath().getParent();
        final String fileName = claimPath.getFileName().toString();
        final String name = fileName.endsWith(DeviceDirectory.DEVICE_SUFFIX)
            ? fileName.substring(0, fileName.length() - DeviceDirectory.DEVICE_SUFFIX.length())
            : fileName;
        final Path socket = directory.resolve(DeviceDirectory.SOCKET_NAME);
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX))
        {
            try
            {
                channel.connect(UnixDomainSocketAddress.of(socket));
            }
            catch (final IOException ex)
            {
                throw new DeviceFileException("device " + name + " keeps its memory sealed and no backend is listening on " + socket
                    + " to show it (" + ex.getMessage() + ")");
            }
            final long deadline = System.nanoTime() + TIMEOUT_NS;
            Handshake.writeFully(channel, Handshake.encode(new Handshake.Inspect(name)), deadline);
            return awaitAnswer(channel, name, deadline);
        }
        catch (final IOException ex)
        {
            throw new DeviceFileException("cannot ask the backend on " + socket + " for device " + name + ": " + ex, ex);
        }
    }

    private static int awaitAnswer(final SocketChannel channel, final String name, final long deadline)
    {
        final ByteBuffer in = ByteBuffer.allocate(Handshake.MAX_MESSAGE_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        try (DescriptorPassing.Receiver receiver = new DescriptorPassing.Receiver(channel))
        {
            while (true)
            {
                if (receiver.receive(in) < 0)
                {
                    throw new DeviceFileException("the backend closed the connection without showing device " + name);
                }
                in.flip();
                final int length = Handshake.completeLength(in, Handshake.INSPECTED_MAGIC);
                if (length > 0)
                {
                    final Handshake.Inspected answer = Handshake.decodeInspected(in);
                    if (answer.status() != Handshake.STATUS_OK)
                    {
                        throw new DeviceFileException("the backend would not show device " + name + ": " + answer.reason());
                    }
                    final int fd = receiver.takeDescriptor();
                    if (fd < 0)
                    {
                        throw new DeviceFileException("the backend answered for device " + name + " without its memory");
                    }
                    return fd;
                }
                in.compact();
                if (System.nanoTime() - deadline > 0)
                {
                    throw new DeviceFileException("the backend did not show device " + name + " within "
                        + TimeUnit.NANOSECONDS.toMillis(TIMEOUT_NS) + " ms");
                }
                sleepBriefly();
            }
        }
    }

    private static void sleepBriefly()
    {
        try
        {
            Thread.sleep(1);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new DeviceFileException("interrupted while waiting for the backend");
        }
    }
}

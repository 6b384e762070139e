package dev.splitnet.backend;

import dev.splitnet.api.Features;
import dev.splitnet.mmap.ControlDescriptor;
import dev.splitnet.mmap.DescriptorPassing;
import dev.splitnet.mmap.DeviceDirectory;
import dev.splitnet.mmap.Handshake;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.fail;

/** A frontend's HELLO said over a raw socket, for tests that must name a device file a NetFront would not make. */
final class RawHello
{
    private RawHello()
    {
    }

    /** Says HELLO for {@code name} to the backend in {@code dir} and reads its answer. */
    static Handshake.Welcome hello(final Path dir, final String name) throws IOException
    {
        return hello(dir, name, new int[0]);
    }

    /** Says HELLO for {@code name} with {@code descriptors} attached (SCM_RIGHTS) and reads the answer. */
    static Handshake.Welcome hello(final Path dir, final String name, final int... descriptors) throws IOException
    {
        try (SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve(DeviceDirectory.SOCKET_NAME))))
        {
            DescriptorPassing.send(channel, Handshake.encode(new Handshake.Hello(ControlDescriptor.LAYOUT_VERSION,
                ProcessHandle.current().pid(), Features.DEFAULT, name)), descriptors, System.nanoTime() + 5_000_000_000L);
            final ByteBuffer in = ByteBuffer.allocate(Handshake.MAX_MESSAGE_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
            while (true)
            {
                if (channel.read(in) < 0)
                {
                    fail("backend closed the connection without a WELCOME");
                }
                in.flip();
                if (Handshake.completeLength(in, Handshake.WELCOME_MAGIC) > 0)
                {
                    return Handshake.decodeWelcome(in);
                }
                in.compact();
            }
        }
    }
}

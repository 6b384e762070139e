package dev.splitnet.mmap;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/** SCM_RIGHTS over a real Unix socket pair: a descriptor arrives with its message, and a socket told to refuse them does. */
class DescriptorPassingTest
{
    @TempDir
    Path dir;

    @Test
    void aDescriptorArrivesWithItsMessageAndARefusingSocketTakesNone() throws Exception
    {
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX))
        {
            server.bind(UnixDomainSocketAddress.of(dir.resolve("s.sock")));
            try (SocketChannel sender = SocketChannel.open(server.getLocalAddress()); SocketChannel receiving = server.accept())
            {
                final int memory = LibC.memfdCreate("splitnet-test-passing");
                try
                {
                    DescriptorPassing.send(sender, ByteBuffer.wrap(new byte[] {1, 2, 3}), memory, deadline());
                    final ByteBuffer in = ByteBuffer.allocate(16);
                    try (DescriptorPassing.Receiver receiver = new DescriptorPassing.Receiver(receiving))
                    {
                        while (in.position() < 3)
                        {
                            assertTrue(receiver.receive(in) >= 0);
                        }
                        assertEquals(1, receiver.descriptorCount(), "the descriptor came with the bytes");
                        final int received = receiver.takeDescriptor();
                        assertNotEquals(memory, received, "a new descriptor of the same file");
                        DescriptorPassing.close(received);
                    }
                    if (DescriptorPassing.refuseDescriptors(receiving))
                    {
                        final Handshake.HandshakeException refused = assertThrows(Handshake.HandshakeException.class,
                            () -> DescriptorPassing.send(sender, ByteBuffer.wrap(new byte[] {4}), memory, deadline()));
                        assertTrue(refused.getMessage().contains("Operation not permitted"), refused.getMessage());
                        // bytes alone still pass
                        DescriptorPassing.send(sender, ByteBuffer.wrap(new byte[] {5}), -1, deadline());
                    }
                    else
                    {
                        System.out.println("SO_PASSRIGHTS is not available on this kernel (before Linux 6.16): refusal not tested");
                    }
                }
                finally
                {
                    LibC.closeQuietly(memory);
                }
            }
        }
    }

    private static long deadline()
    {
        return System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    }
}

package dev.splitnet.cli;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.atomic.AtomicLong;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The demo's wire: a UDP socket on 127.0.0.1 that receives what the backend sends off the host
 * and checks every byte of every datagram against the checksum in its header.
 */
final class WireSink implements AutoCloseable
{
    private final DatagramChannel channel;
    private final Thread thread;
    private final AtomicLong datagrams = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong integrityErrors = new AtomicLong();

    WireSink() throws IOException
    {
        channel = DatagramChannel.open();
        // UDP has no flow control: a larger receive buffer loses fewer datagrams when this thread
        // falls behind (the kernel caps it at net.core.rmem_max).
        channel.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 8 << 20);
        channel.bind(new InetSocketAddress("127.0.0.1", 0));
        thread = new Thread(this::run, "wire-sink");
        thread.setDaemon(true);
        thread.start();
    }

    int port() throws IOException
    {
        return ((InetSocketAddress)channel.getLocalAddress()).getPort();
    }

    private void run()
    {
        final ByteBuffer buffer = ByteBuffer.allocateDirect(65536).order(ByteOrder.LITTLE_ENDIAN);
        final UnsafeBuffer view = new UnsafeBuffer(buffer);
        final StreamChecksum checksum = new StreamChecksum();
        try
        {
            while (true)
            {
                buffer.clear();
                channel.receive(buffer);
                final int length = buffer.position();
                datagrams.incrementAndGet();
                bytes.addAndGet(length);
                if (length < DemoFrame.HEADER_LENGTH
                    || view.getInt(DemoFrame.PAYLOAD_LENGTH_OFFSET) != length - DemoFrame.HEADER_LENGTH
                    || checksum.reset().update(view, DemoFrame.HEADER_LENGTH, length - DemoFrame.HEADER_LENGTH).value()
                    != view.getLong(DemoFrame.CHECKSUM_OFFSET))
                {
                    integrityErrors.incrementAndGet();
                }
            }
        }
        catch (final ClosedChannelException ex)
        {
            // closed by the demo: done
        }
        catch (final IOException ex)
        {
            System.err.println("splitnet demo: wire sink failed: " + ex);
        }
    }

    long datagrams()
    {
        return datagrams.get();
    }

    long bytes()
    {
        return bytes.get();
    }

    long integrityErrors()
    {
        return integrityErrors.get();
    }

    @Override
    public void close() throws IOException
    {
        channel.close();
    }
}

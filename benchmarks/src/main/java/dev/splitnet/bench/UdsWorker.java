package dev.splitnet.bench;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import org.HdrHistogram.Histogram;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Unix domain stream sockets (java.nio SocketChannel, direct buffers): one {@code write} per
 * message from a buffer that already holds the payload; the receiver reads up to 256 KiB at a
 * time and counts whole messages. Throughput runs block in the kernel; round trips spin on
 * non-blocking reads (rtt-spin) or block in {@code read} (rtt-block).
 */
final class UdsWorker extends TransportWorker
{
    private static final int READ_BUFFER = 256 * 1024;

    private ServerSocketChannel server;
    private SocketChannel channel;
    private final ByteBuffer out;
    private final ByteBuffer in = ByteBuffer.allocateDirect(READ_BUFFER);
    private final UnsafeBuffer inView = new UnsafeBuffer(in);

    UdsWorker(final WorkerSetup setup)
    {
        super(setup);
        out = ByteBuffer.allocateDirect(size);
        for (int i = 0; i < size; i++)
        {
            out.put(i, (byte)i);
        }
    }

    @Override
    void prepare(final boolean sideA) throws IOException
    {
        final UnixDomainSocketAddress address = UnixDomainSocketAddress.of(setup.runDir.resolve("uds.sock"));
        if (sideA)
        {
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(address);
        }
        else
        {
            channel = SocketChannel.open(address);
        }
    }

    private void accept() throws IOException
    {
        if (channel == null)
        {
            channel = server.accept();
        }
    }

    @Override
    void send(final boolean copy) throws IOException
    {
        accept();
        try
        {
            while (true)
            {
                out.clear();
                while (out.hasRemaining())
                {
                    channel.write(out);
                }
                meter.count++;
                if ((meter.count & WorkerSetup.POLL_MASK) == 0 && meter.poll())
                {
                    return;
                }
            }
        }
        catch (final IOException ex)
        {
            // the receiver finished its window and went away: close our window on its stop flag
            while (!meter.poll())
            {
                Thread.yield();
            }
        }
    }

    @Override
    void receive(final boolean read) throws IOException
    {
        accept();
        long bytes = 0;
        while (true)
        {
            in.clear();
            final int n = channel.read(in);
            if (n < 0)
            {
                return;
            }
            if (read)
            {
                setup.checksum += WorkerSetup.sum(inView, 0, n);
            }
            bytes += n;
            meter.count = bytes / size;
            if (meter.poll())
            {
                return;
            }
        }
    }

    private boolean readFully(final ByteBuffer buffer, final boolean spin) throws IOException
    {
        buffer.clear().limit(WorkerSetup.HEADER_LENGTH);
        while (buffer.hasRemaining())
        {
            if (channel.read(buffer) < 0)
            {
                return false;
            }
            if (spin)
            {
                Thread.onSpinWait();
            }
        }
        return true;
    }

    private void writeMessage() throws IOException
    {
        out.clear().limit(WorkerSetup.HEADER_LENGTH);
        while (out.hasRemaining())
        {
            channel.write(out);
        }
    }

    @Override
    void echo(final boolean block) throws IOException
    {
        accept();
        channel.configureBlocking(block);
        try
        {
            while (readFully(in, !block))
            {
                writeMessage();
                meter.count++;
                if ((meter.count & 63) == 0 && meter.poll())
                {
                    return;
                }
            }
        }
        catch (final IOException ex)
        {
            // the pinging side finished and closed
        }
        meter.poll();
    }

    @Override
    void ping(final boolean block, final Histogram histogram) throws IOException
    {
        channel.configureBlocking(block);
        while (true)
        {
            final long start = System.nanoTime();
            writeMessage();
            if (!readFully(in, !block))
            {
                return;
            }
            final long rtt = System.nanoTime() - start;
            if (meter.inWindow())
            {
                histogram.recordValue(rtt);
            }
            meter.count++;
            if ((meter.count & 63) == 0 && meter.poll())
            {
                return;
            }
        }
    }

    @Override
    public void close()
    {
        CloseHelper.quietCloseAll(channel, server);
    }
}

package dev.splitnet.frontend;

import dev.splitnet.api.GrantConstants;
import dev.splitnet.api.XenbusState;
import dev.splitnet.mmap.ControlDescriptor;
import dev.splitnet.mmap.BackRing;
import dev.splitnet.mmap.DescriptorPassing;
import dev.splitnet.mmap.Device;
import dev.splitnet.mmap.DeviceFile;
import dev.splitnet.mmap.DeviceDirectory;
import dev.splitnet.mmap.DeviceLayout;
import dev.splitnet.mmap.Handshake;
import dev.splitnet.mmap.NetifDescriptor;
import dev.splitnet.mmap.SharedRingDescriptor;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.UnsafeBuffer;

import static dev.splitnet.mmap.NetifDescriptor.*;

/**
 * A backend written in the test, as a broken or malicious one could be: it binds the directory's
 * socket, answers the HELLO as {@link Handshake} says, maps the frontend's file and then writes the
 * rings itself, one response at a time, whatever the test tells it. No validation anywhere.
 */
final class HostileBackend implements AutoCloseable
{
    private final ServerSocketChannel server;
    private final DeviceDirectory directory;
    private final CompletableFuture<Void> handshake;
    private volatile SocketChannel channel;
    private Device device;
    private BackRing tx;
    private BackRing rx;

    private HostileBackend(final DeviceDirectory directory, final ServerSocketChannel server, final long features)
    {
        this.directory = directory;
        this.server = server;
        this.handshake = CompletableFuture.runAsync(() -> answerHello(features));
    }

    /** Listens in {@code dir} and, on its own thread, answers the first HELLO with {@code features}. */
    static HostileBackend listen(final Path dir, final long features) throws IOException
    {
        final DeviceDirectory directory = DeviceDirectory.create(dir);
        final ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(directory.socketPath()));
        return new HostileBackend(directory, server, features);
    }

    private void answerHello(final long features)
    {
        try
        {
            final SocketChannel accepted = server.accept();
            final ByteBuffer in = ByteBuffer.allocate(Handshake.MAX_MESSAGE_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
            // recvmsg, as the real backend reads it: the sealed memory comes with the HELLO
            final DescriptorPassing.Receiver receiver = new DescriptorPassing.Receiver(accepted);
            while (true)
            {
                final int read = receiver.receive(in);
                if (read < 0)
                {
                    throw new IOException("frontend closed before its HELLO");
                }
                in.flip();
                if (Handshake.completeLength(in, Handshake.HELLO_MAGIC) > 0)
                {
                    break;
                }
                in.compact();
                if (read == 0)
                {
                    Thread.onSpinWait(); // the Receiver never blocks
                }
            }
            final Handshake.Hello hello = Handshake.decodeHello(in);
            final Path file = directory.deviceFile(hello.deviceName());
            device = receiver.descriptorCount() == 1
                ? Device.attachSealedMemory(receiver.takeDescriptor(), file, false, DeviceFile.processUid())
                : Device.attach(file.toFile(), false);
            receiver.close();
            final DeviceLayout layout = device.layout();
            tx = new BackRing(device.txRing(), layout.txRingEntries(), NetifDescriptor.TX_ENTRY_LENGTH);
            rx = new BackRing(device.rxRing(), layout.rxRingEntries(), NetifDescriptor.RX_ENTRY_LENGTH);
            tx.attach();
            rx.attach();
            device.recordConnection(1, features);
            Handshake.writeFully(accepted, Handshake.encode(new Handshake.Welcome(Handshake.STATUS_OK, 1, features,
                ProcessHandle.current().pid(), "")), System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
            device.setBackendState(XenbusState.CONNECTED);
            channel = accepted;
        }
        catch (final IOException ex)
        {
            throw new RuntimeException(ex);
        }
    }

    /** Waits for the handshake the frontend's connect made. */
    HostileBackend connected() throws Exception
    {
        handshake.get(10, TimeUnit.SECONDS);
        return this;
    }

    Device device()
    {
        return device;
    }

    /** Consumes the TX requests published so far; returns their ids in ring order. */
    int[] takeTxRequestIds()
    {
        final int n = tx.availableRequests();
        final int[] ids = new int[n];
        for (int i = 0; i < n; i++)
        {
            ids[i] = tx.buffer().getShort(tx.requestOffset(i) + TX_REQ_ID_OFFSET) & 0xFFFF;
        }
        tx.consumeRequests(n);
        return ids;
    }

    /** Writes one TX response (not yet pushed). */
    void txResponse(final int id, final int status)
    {
        final int offset = tx.nextResponseOffset();
        tx.buffer().putShort(offset + TX_RSP_ID_OFFSET, (short)id);
        tx.buffer().putShort(offset + TX_RSP_STATUS_OFFSET, (short)status);
        tx.produceResponse();
    }

    void pushTx()
    {
        tx.pushResponsesAndCheckNotify();
    }

    /** Writes the TX ring's rsp_prod directly, as far ahead as it likes. */
    void setTxResponseProducer(final int value)
    {
        device.txRing().putIntVolatile(SharedRingDescriptor.RSP_PROD_OFFSET, value);
    }

    int txResponseProducer()
    {
        return device.txRing().getIntVolatile(SharedRingDescriptor.RSP_PROD_OFFSET);
    }

    /** The RX ring's req_prod as the frontend published it. */
    int rxRequestProducer()
    {
        return device.rxRing().getIntVolatile(SharedRingDescriptor.REQ_PROD_OFFSET);
    }

    /** Consumes the RX requests posted so far; each is {@code id << 32 | frame}. */
    long[] takeRxRequests()
    {
        final int n = rx.availableRequests();
        final long[] requests = new long[n];
        for (int i = 0; i < n; i++)
        {
            final int offset = rx.requestOffset(i);
            final int id = rx.buffer().getShort(offset + RX_REQ_ID_OFFSET) & 0xFFFF;
            final int gref = rx.buffer().getInt(offset + RX_REQ_GREF_OFFSET) & ~GrantConstants.GREF_PERMANENT;
            requests[i] = (long)id << 32 | gref;
        }
        rx.consumeRequests(n);
        return requests;
    }

    /** The frame (gref f is frame f) as the backend sees it. */
    UnsafeBuffer frame(final int frame)
    {
        return new UnsafeBuffer(device.frames(), frame * DeviceLayout.PAGE_SIZE, DeviceLayout.PAGE_SIZE);
    }

    /** Writes one RX response (not yet pushed). */
    void rxResponse(final int id, final int offset, final int flags, final int status)
    {
        final int at = rx.nextResponseOffset();
        rx.buffer().putShort(at + RX_RSP_ID_OFFSET, (short)id);
        rx.buffer().putShort(at + RX_RSP_OFFSET_OFFSET, (short)offset);
        rx.buffer().putShort(at + RX_RSP_FLAGS_OFFSET, (short)flags);
        rx.buffer().putShort(at + RX_RSP_STATUS_OFFSET, (short)status);
        rx.produceResponse();
    }

    void pushRx()
    {
        rx.pushResponsesAndCheckNotify();
    }

    /** Advances the heartbeat word as an honest backend's housekeeping does. */
    void beat()
    {
        ControlDescriptor.beat(device.control());
    }

    /** Rings the doorbell as fast as the socket takes it until {@code millis} pass or the frontend hangs up. */
    long flood(final long millis) throws IOException
    {
        final ByteBuffer bytes = ByteBuffer.allocateDirect(64 * 1024);
        channel.configureBlocking(false);
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        long written = 0;
        while (System.nanoTime() - deadline < 0)
        {
            bytes.clear();
            try
            {
                written += channel.write(bytes);
            }
            catch (final IOException ex)
            {
                break;
            }
        }
        return written;
    }

    /** Writes the backend's state, then closes the doorbell socket. */
    void hangUp(final XenbusState state) throws IOException
    {
        device.setBackendState(state);
        channel.close();
    }

    /** Truncates a file-backed frontend's device file (sealed memory cannot be truncated: EPERM). */
    void truncateFile(final long length) throws IOException
    {
        try (RandomAccessFile file = new RandomAccessFile(device.isSealedMemory() ? device.memoryHandle() : device.path().toString(), "rw"))
        {
            file.setLength(length);
        }
    }

    @Override
    public void close() throws IOException
    {
        handshake.cancel(true);
        server.close();
        if (channel != null)
        {
            channel.close();
        }
        if (device != null)
        {
            device.close();
        }
    }
}

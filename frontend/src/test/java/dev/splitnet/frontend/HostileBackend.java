package dev.splitnet.frontend;

import dev.splitnet.api.Features;
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
import dev.splitnet.mmap.NetifV2Entries;
import dev.splitnet.mmap.RingFormat;
import dev.splitnet.mmap.RingV2Consumer;
import dev.splitnet.mmap.RingV2Descriptor;
import dev.splitnet.mmap.RingV2Producer;
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
import java.util.Arrays;
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
    // with ring v2: the raw ends, driven entry by entry
    private final boolean ringV2;
    private volatile int probesRefused;
    private RingV2Consumer txRequests;
    private RingV2Producer txResponses;
    private RingV2Consumer rxRequests;
    private RingV2Producer rxResponses;

    private HostileBackend(final DeviceDirectory directory, final ServerSocketChannel server, final long features,
        final boolean refuseProbe)
    {
        this.directory = directory;
        this.server = server;
        this.ringV2 = (features & Features.RING_V2) != 0;
        this.handshake = CompletableFuture.runAsync(() -> answerHello(features, refuseProbe));
    }

    /** PROBEs refused (by a backend made with {@link #listenAsBackendBeforeRingV2}). */
    int probesRefused()
    {
        return probesRefused;
    }

    /** Listens in {@code dir} and, on its own thread, answers the first HELLO with {@code features}. */
    static HostileBackend listen(final Path dir, final long features) throws IOException
    {
        final DeviceDirectory directory = DeviceDirectory.create(dir);
        final ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(directory.socketPath()));
        return new HostileBackend(directory, server, features, false);
    }

    /**
     * As {@link #listen}, but answering a PROBE as a backend that predates it does: a refusing
     * WELCOME ("unexpected handshake magic"), the connection closed; the HELLO on a new one.
     */
    static HostileBackend listenAsBackendBeforeRingV2(final Path dir, final long features) throws IOException
    {
        final DeviceDirectory directory = DeviceDirectory.create(dir);
        final ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(directory.socketPath()));
        return new HostileBackend(directory, server, features, true);
    }

    private void answerHello(final long features, final boolean refuseProbe)
    {
        try
        {
            SocketChannel accepted = server.accept();
            final ByteBuffer in = ByteBuffer.allocate(Handshake.MAX_MESSAGE_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
            // recvmsg, as the real backend reads it: the sealed memory comes with the HELLO
            DescriptorPassing.Receiver receiver = new DescriptorPassing.Receiver(accepted);
            while (true)
            {
                final int read = receiver.receive(in);
                if (read < 0)
                {
                    throw new IOException("frontend closed before its HELLO");
                }
                in.flip();
                final int length = Handshake.completeLength(in, Handshake.HELLO_MAGIC, Handshake.PROBE_MAGIC);
                if (length > 0 && Handshake.magic(in) == Handshake.PROBE_MAGIC && refuseProbe)
                {
                    Handshake.writeFully(accepted, Handshake.encode(new Handshake.Welcome(Handshake.STATUS_REFUSED, 0, 0,
                        ProcessHandle.current().pid(), "unexpected handshake magic 0x" + Integer.toHexString(Handshake.PROBE_MAGIC))),
                        System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
                    receiver.close();
                    accepted.close();
                    probesRefused++;
                    accepted = server.accept();
                    receiver = new DescriptorPassing.Receiver(accepted);
                    in.clear();
                    continue;
                }
                if (length > 0 && Handshake.magic(in) == Handshake.PROBE_MAGIC)
                {
                    // advertises exactly the features it will accept
                    Handshake.writeFully(accepted, Handshake.encode(new Handshake.Advertise(features)),
                        System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
                    in.position(in.position() + length);
                    in.compact();
                    continue;
                }
                if (length > 0)
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
            if (ringV2)
            {
                attachRingV2(layout);
            }
            else
            {
                tx = new BackRing(device.txRing(), layout.txRingEntries(), NetifDescriptor.TX_ENTRY_LENGTH);
                rx = new BackRing(device.rxRing(), layout.rxRingEntries(), NetifDescriptor.RX_ENTRY_LENGTH);
                tx.attach();
                rx.attach();
            }
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

    private void attachRingV2(final DeviceLayout layout)
    {
        final int txSize = RingFormat.V2.entries(layout.ringBytes(), true);
        final int rxSize = RingFormat.V2.entries(layout.ringBytes(), false);
        final int start = device.initialRingIndex();
        txRequests = new RingV2Consumer(device.txRing(), txSize, RingV2Descriptor.ENTRIES_OFFSET, RingV2Descriptor.TX_REQUEST_LENGTH,
            NetifV2Entries.TX_REQUEST_WORD_OFFSET, RingV2Descriptor.REQ_CONS_OFFSET, RingV2Descriptor.REQ_EVENT_OFFSET);
        txResponses = new RingV2Producer(device.txRing(), txSize, RingV2Descriptor.responsesOffset(txSize, RingV2Descriptor.TX_REQUEST_LENGTH),
            RingV2Descriptor.RESPONSE_LENGTH, 0, RingV2Descriptor.RSP_CONS_OFFSET, RingV2Descriptor.RSP_EVENT_OFFSET);
        rxRequests = new RingV2Consumer(device.rxRing(), rxSize, RingV2Descriptor.ENTRIES_OFFSET, RingV2Descriptor.RX_REQUEST_LENGTH, 0,
            RingV2Descriptor.REQ_CONS_OFFSET, RingV2Descriptor.REQ_EVENT_OFFSET);
        rxResponses = new RingV2Producer(device.rxRing(), rxSize, RingV2Descriptor.responsesOffset(rxSize, RingV2Descriptor.RX_REQUEST_LENGTH),
            RingV2Descriptor.RESPONSE_LENGTH, 0, RingV2Descriptor.RSP_CONS_OFFSET, RingV2Descriptor.RSP_EVENT_OFFSET);
        txRequests.attachAt(start);
        txResponses.attachAt(start);
        rxRequests.attachAt(start);
        rxResponses.attachAt(start);
    }

    /** Ring v2: a TX response answering ids {@code id .. id + run - 1} (not yet pushed). */
    void txResponseRun(final int id, final int status, final int run)
    {
        txResponses.commit(txResponses.claim(), NetifV2Entries.TxResponse.word(id, status, run));
    }

    /**
     * Ring v2: writes the next TX response slot's whole word, tag included, as the test gives it
     * (a flipped ownership tag, a lap ahead), and publishes it with a release store.
     */
    void rawTxResponseWord(final long word)
    {
        final int at = txResponses.claim();
        device.txRing().putLongRelease(at, word);
    }

    /** Ring v2: the tag the next TX response should carry. */
    int nextTxResponseTag()
    {
        final int size = txResponses.size();
        return RingV2Descriptor.tag(txResponses.producer(), Integer.numberOfTrailingZeros(size));
    }

    /** Ring v2: writes the TX request ring's {@code req_cons} (the backend's line) directly. */
    void setTxRequestConsumer(final int value)
    {
        device.txRing().putIntVolatile(RingV2Descriptor.REQ_CONS_OFFSET, value);
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
        if (ringV2)
        {
            final int[] ids = new int[txResponses.size()];
            int n = 0;
            for (long fields; (fields = txRequests.poll()) >= 0; n++)
            {
                ids[n] = NetifV2Entries.TxRequest.id(fields);
                txRequests.consume();
            }
            txRequests.publish();
            return Arrays.copyOf(ids, n);
        }
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
        if (ringV2)
        {
            txResponseRun(id, status, 1);
            return;
        }
        final int offset = tx.nextResponseOffset();
        tx.buffer().putShort(offset + TX_RSP_ID_OFFSET, (short)id);
        tx.buffer().putShort(offset + TX_RSP_STATUS_OFFSET, (short)status);
        tx.produceResponse();
    }

    void pushTx()
    {
        if (ringV2)
        {
            txResponses.pushAndCheckNotify();
            return;
        }
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
        if (ringV2)
        {
            final long[] requests = new long[rxResponses.size()];
            int n = 0;
            for (long fields; (fields = rxRequests.poll()) >= 0; n++)
            {
                requests[n] = (long)NetifV2Entries.RxRequest.id(fields) << 32 | NetifV2Entries.RxRequest.gref(fields) & ~GrantConstants.GREF_PERMANENT;
                rxRequests.consume();
            }
            rxRequests.publish();
            return Arrays.copyOf(requests, n);
        }
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
        if (ringV2)
        {
            rxResponses.commit(rxResponses.claim(), NetifV2Entries.RxResponse.word(id, offset, flags, status));
            return;
        }
        final int at = rx.nextResponseOffset();
        rx.buffer().putShort(at + RX_RSP_ID_OFFSET, (short)id);
        rx.buffer().putShort(at + RX_RSP_OFFSET_OFFSET, (short)offset);
        rx.buffer().putShort(at + RX_RSP_FLAGS_OFFSET, (short)flags);
        rx.buffer().putShort(at + RX_RSP_STATUS_OFFSET, (short)status);
        rx.produceResponse();
    }

    void pushRx()
    {
        if (ringV2)
        {
            rxResponses.pushAndCheckNotify();
            return;
        }
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

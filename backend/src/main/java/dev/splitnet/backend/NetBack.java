package dev.splitnet.backend;

import dev.splitnet.api.Backend;
import dev.splitnet.api.Features;
import dev.splitnet.api.Packet;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.SplitnetException;
import dev.splitnet.api.XenbusState;
import dev.splitnet.mmap.ControlDescriptor;
import dev.splitnet.mmap.Device;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.DeviceCounters;
import dev.splitnet.mmap.DeviceDirectory;
import dev.splitnet.mmap.DeviceFileException;
import dev.splitnet.mmap.Doorbell;
import dev.splitnet.mmap.Handshake;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.agrona.DirectBuffer;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.concurrent.Agent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * netback: listens on the directory's Unix socket, connects frontends (handshake, domain ids,
 * features), and in each duty cycle takes packets off every frontend's TX ring in turn. An Agrona
 * {@link Agent}: run it with an {@code AgentRunner} and the idle strategy of its context, or call
 * {@link #doWork()} from your own loop. Single threaded: handlers and {@link #deliver} run on the
 * duty-cycle thread.
 */
public final class NetBack implements Backend, Agent
{
    private static final Logger LOG = LoggerFactory.getLogger(NetBack.class);
    /** How often the duty cycle accepts connections and checks peers: bounds how late a death is seen. */
    private static final long HOUSEKEEPING_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final long HANDSHAKE_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(5);
    private static final int LAST_DOMAIN_ID = 0x7FEF;
    private static final String SHUTDOWN = "backend shutting down";
    /** How long after a truncating frontend's disconnect a late-delivered fault is still its own. */
    private static final long LATE_FAULT_WINDOW_NS = TimeUnit.SECONDS.toNanos(1);

    private final BackendContext context;
    private final DeviceDirectory directory;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final ServerSocketChannel server;
    private final Selector selector;
    private final Int2ObjectHashMap<Vif> byDomain = new Int2ObjectHashMap<>();
    private Vif[] vifs = new Vif[0];
    private final List<PendingConnection> pending = new ArrayList<>();
    private int nextDomainId = 1;
    private int cycles;
    private long nextHousekeepingNs;
    // when a frontend whose file was truncated was last disconnected (0: never)
    private long lastTruncatedDisconnectNs;
    private boolean closed;
    private boolean acceptReady;
    private final java.util.function.Consumer<SelectionKey> onReadyKey = key ->
    {
        if ((key.readyOps() & SelectionKey.OP_ACCEPT) != 0)
        {
            acceptReady = true;
        }
    };

    private NetBack(final BackendContext context, final DeviceDirectory directory, final FileChannel lockChannel,
        final FileLock lock, final ServerSocketChannel server, final Selector selector)
    {
        this.context = context;
        this.directory = directory;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.server = server;
        this.selector = selector;
    }

    /**
     * Creates the directory if needed, takes the backend lock and listens.
     *
     * @throws SplitnetException when another backend runs in the directory, or it cannot be used.
     */
    public static NetBack launch(final BackendContext context)
    {
        context.conclude();
        final DeviceDirectory directory = DeviceDirectory.create(context.directory());
        FileChannel lockChannel = null;
        ServerSocketChannel server = null;
        try
        {
            final Path lockPath = directory.backendLockPath();
            lockChannel = new RandomAccessFile(lockPath.toFile(), "rw").getChannel();
            final FileLock lock = lockChannel.tryLock();
            if (lock == null)
            {
                throw new SplitnetException("another backend is running in " + directory.path()
                    + " (it holds " + lockPath + "); stop it or pass another --dir");
            }
            DeviceDirectory.setPermissions(lockPath, "rw-------");
            // The lock proves no live backend owns the socket file: a leftover one is stale.
            Files.deleteIfExists(directory.socketPath());
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(directory.socketPath()));
            DeviceDirectory.setPermissions(directory.socketPath(), "rw-------");
            server.configureBlocking(false);
            final Selector selector = Selector.open();
            server.register(selector, SelectionKey.OP_ACCEPT);
            LOG.info("backend listening on {} (pid {}, idle {})", directory.socketPath(), ProcessHandle.current().pid(), context.idleMode());
            return new NetBack(context, directory, lockChannel, lock, server, selector);
        }
        catch (final IOException ex)
        {
            closeQuietly(server);
            closeQuietly(lockChannel);
            throw new SplitnetException("backend cannot listen in " + directory.path() + ": " + ex.getMessage()
                + "; check the directory is writable or pass another --dir", ex);
        }
        catch (final RuntimeException ex)
        {
            closeQuietly(server);
            closeQuietly(lockChannel);
            throw ex;
        }
    }

    public DeviceDirectory directory()
    {
        return directory;
    }

    @Override
    public String roleName()
    {
        return "netback";
    }

    @Override
    public int doWork()
    {
        int work = 0;
        final Vif[] current = vifs;
        for (final Vif vif : current)
        {
            final int handled = vif.processTx(context.handler(), context.txBudget());
            if (handled < 0)
            {
                disconnect(vif, vif.fatalReason());
            }
            else
            {
                work += handled;
            }
        }
        // RX deliveries made in this cycle (a switch delivers into other frontends while handling
        // one's TX) are published once per frontend per cycle, not once per packet
        for (final Vif vif : current)
        {
            vif.pushRx();
        }
        // Housekeeping (accepting frontends, draining doorbells, noticing dead peers) runs on a
        // clock, not per cycle: a syscall per cycle would cost more than the packets. accept() is
        // called only when the listening socket is ready: the JDK's accept() allocates even when
        // nobody is waiting.
        if ((++cycles & 63) == 0)
        {
            final long now = System.nanoTime();
            if (now - nextHousekeepingNs >= 0)
            {
                nextHousekeepingNs = now + HOUSEKEEPING_INTERVAL_NS;
                acceptReady = false;
                try
                {
                    // The action form of selectNow builds no selected-key set: allocation-free.
                    selector.selectNow(onReadyKey);
                }
                catch (final IOException ex)
                {
                    acceptReady = true;
                }
                if (acceptReady || !pending.isEmpty())
                {
                    work += acceptConnections();
                }
                checkPeers();
            }
        }
        return work;
    }

    /**
     * Drains doorbells and notices frontends that closed or died. A flooding doorbell stops waking
     * the blocking idle step until a drain finds it quiet again (its rings are still polled every
     * cycle: doorbells only wake), so a frontend ringing without pause costs one bounded drain per
     * housekeeping tick or wake-up and cannot keep the backend from sleeping or from serving others.
     */
    private void checkPeers()
    {
        for (final Vif vif : vifs)
        {
            final Doorbell doorbell = vif.doorbell();
            if (doorbell.drain() < 0)
            {
                disconnect(vif, null);
                continue;
            }
            final SelectionKey key = doorbell.channel().keyFor(selector);
            final int interest = doorbell.isFlooding() ? 0 : SelectionKey.OP_READ;
            if (key != null && key.isValid() && key.interestOps() != interest)
            {
                key.interestOps(interest);
            }
        }
    }

    /**
     * The blocking idle step: arm every TX ring's req_event, re-check, then block on the sockets.
     * Used by the doorbell idle strategy.
     */
    public void awaitWork(final long timeoutMillis)
    {
        for (final Vif vif : vifs)
        {
            // nothing delivered may wait in the ring unpublished while the backend sleeps
            vif.pushRx();
            if (vif.finalCheckForRequests())
            {
                return;
            }
        }
        if (!pending.isEmpty())
        {
            acceptConnections();
            return;
        }
        try
        {
            // The action form of select: no selected-key set, so waking up allocates nothing.
            acceptReady = false;
            selector.select(onReadyKey, timeoutMillis);
        }
        catch (final IOException ex)
        {
            throw new SplitnetException("backend: waiting on doorbells failed: " + ex, ex);
        }
        // accept() allocates (a FileDescriptor) even when nobody is waiting: only when the
        // listening socket is ready, never merely because the wait timed out
        if (acceptReady)
        {
            acceptConnections();
        }
        checkPeers();
    }

    private int acceptConnections()
    {
        int work = 0;
        try
        {
            SocketChannel channel;
            while ((channel = server.accept()) != null)
            {
                channel.configureBlocking(false);
                pending.add(new PendingConnection(channel, System.nanoTime() + HANDSHAKE_TIMEOUT_NS));
                work++;
            }
        }
        catch (final IOException ex)
        {
            LOG.warn("backend: accept failed: {}", ex.toString());
        }
        for (int i = pending.size() - 1; i >= 0; i--)
        {
            final PendingConnection connection = pending.get(i);
            if (connection.advance())
            {
                pending.remove(i);
                work++;
            }
        }
        return work;
    }

    /** A socket between accept and WELCOME; its HELLO may arrive in pieces. */
    private final class PendingConnection
    {
        private final SocketChannel channel;
        private final long deadline;
        private final ByteBuffer in = ByteBuffer.allocate(Handshake.MAX_MESSAGE_LENGTH).order(ByteOrder.LITTLE_ENDIAN);

        PendingConnection(final SocketChannel channel, final long deadline)
        {
            this.channel = channel;
            this.deadline = deadline;
        }

        /** Returns true when done with this connection, one way or the other. */
        boolean advance()
        {
            try
            {
                if (channel.read(in) < 0)
                {
                    closeQuietly(channel);
                    return true;
                }
                in.flip();
                final int length = Handshake.completeLength(in, Handshake.HELLO_MAGIC);
                in.compact();
                if (length == 0)
                {
                    if (System.nanoTime() - deadline > 0)
                    {
                        LOG.warn("backend: a client connected but sent no HELLO within 5 s; closed");
                        closeQuietly(channel);
                        return true;
                    }
                    return false;
                }
                in.flip();
                connect(channel, Handshake.decodeHello(in));
            }
            catch (final IOException | RuntimeException ex)
            {
                LOG.warn("backend: handshake failed: {}", ex.getMessage());
                refuse(channel, ex.getMessage());
            }
            return true;
        }
    }

    private void connect(final SocketChannel channel, final Handshake.Hello hello) throws IOException
    {
        if (ControlDescriptor.major(hello.version()) != ControlDescriptor.major(ControlDescriptor.LAYOUT_VERSION))
        {
            refuse(channel, "layout version " + ControlDescriptor.major(hello.version()) + ".x is not supported (backend speaks "
                + ControlDescriptor.major(ControlDescriptor.LAYOUT_VERSION) + ".x)");
            return;
        }
        if (vifs.length >= context.maxFrontends())
        {
            refuse(channel, "backend already serves its maximum of " + context.maxFrontends() + " frontends");
            return;
        }
        final Path file;
        try
        {
            file = directory.deviceFile(hello.deviceName());
        }
        catch (final IllegalArgumentException ex)
        {
            refuse(channel, ex.getMessage());
            return;
        }
        for (final Vif vif : vifs)
        {
            if (vif.name().equals(hello.deviceName()))
            {
                refuse(channel, "device " + hello.deviceName() + " is already connected as domain " + vif.domainId());
                return;
            }
        }
        final Device device;
        try
        {
            device = Device.attach(file.toFile(), false);
        }
        catch (final DeviceFileException ex)
        {
            refuse(channel, ex.getMessage());
            return;
        }
        Vif vif = null;
        try
        {
            device.setBackendState(XenbusState.INIT_WAIT);
            if (device.frontendState() != XenbusState.INITIALISED)
            {
                throw new SplitnetException("frontend state is " + device.frontendState() + ", expected INITIALISED");
            }
            final int domainId = allocateDomainId();
            final long features = Features.consistent(hello.featuresOffered() & context.acceptedFeatures() & Features.SUPPORTED);
            device.recordConnection(domainId, features);
            final DeviceCounters counters = DeviceCounters.attach(device.countersValues());
            final Doorbell doorbell = new Doorbell(channel, counters.get(DeviceCounter.BACKEND_DOORBELLS_SENT),
                counters.get(DeviceCounter.BACKEND_DOORBELLS_RECEIVED), counters.get(DeviceCounter.BACKEND_DOORBELL_FLOODS));
            vif = new Vif(domainId, device, doorbell, features);
            Handshake.writeFully(channel, Handshake.encode(new Handshake.Welcome(Handshake.STATUS_OK, domainId, features,
                ProcessHandle.current().pid(), "")), System.nanoTime() + HANDSHAKE_TIMEOUT_NS);
            channel.register(selector, SelectionKey.OP_READ);
            device.setBackendState(XenbusState.CONNECTED);
            add(vif);
            LOG.info("domain {} connected: device {}, pid {}, features [{}]", domainId, hello.deviceName(), hello.pid(),
                Features.describe(features));
        }
        catch (final IOException | RuntimeException ex)
        {
            if (vif != null)
            {
                vif.close();
            }
            else
            {
                device.setBackendState(XenbusState.CLOSED);
                device.close();
            }
            refuse(channel, ex.getMessage());
        }
    }

    private int allocateDomainId()
    {
        for (int tries = 0; tries < LAST_DOMAIN_ID; tries++)
        {
            final int candidate = nextDomainId;
            nextDomainId = nextDomainId == LAST_DOMAIN_ID ? 1 : nextDomainId + 1;
            if (!byDomain.containsKey(candidate))
            {
                return candidate;
            }
        }
        throw new SplitnetException("no free domain id");
    }

    private static void refuse(final SocketChannel channel, final String reason)
    {
        try
        {
            Handshake.writeFully(channel, Handshake.encode(new Handshake.Welcome(Handshake.STATUS_REFUSED, 0, 0,
                ProcessHandle.current().pid(), String.valueOf(reason))), System.nanoTime() + TimeUnit.SECONDS.toNanos(1));
        }
        catch (final IOException | RuntimeException ignore)
        {
            // the client is gone; nothing to tell it
        }
        closeQuietly(channel);
    }

    private void add(final Vif vif)
    {
        byDomain.put(vif.domainId(), vif);
        final Vif[] next = java.util.Arrays.copyOf(vifs, vifs.length + 1);
        next[vifs.length] = vif;
        vifs = next;
    }

    private void disconnect(final Vif vif, final String reason)
    {
        if (byDomain.remove(vif.domainId()) == null)
        {
            return;
        }
        final Vif[] next = new Vif[vifs.length - 1];
        int n = 0;
        for (final Vif v : vifs)
        {
            if (v != vif)
            {
                next[n++] = v;
            }
        }
        vifs = next;
        final Path file = vif.device().path();
        if (vif.isTruncated())
        {
            lastTruncatedDisconnectNs = System.nanoTime() | 1;
        }
        vif.close();
        if (reason == SHUTDOWN)
        {
            LOG.info("domain {} ({}) disconnected: backend shutting down", vif.domainId(), vif.name());
        }
        else if (reason != null)
        {
            LOG.error("domain {} ({}) disconnected: {}", vif.domainId(), vif.name(), reason);
        }
        else
        {
            LOG.info("domain {} ({}) disconnected: its frontend closed the connection", vif.domainId(), vif.name());
        }
        // A frontend that died leaves its file behind; one that still holds its lock cleans up itself.
        if (Files.exists(file) && !Device.isInUse(file))
        {
            try
            {
                Files.deleteIfExists(file);
            }
            catch (final IOException ignore)
            {
                // reported as stale at the next start
            }
        }
    }

    /**
     * Called after an access to shared memory failed (the JVM reports a fault on a mapping as an
     * {@link InternalError}, sometimes only at the next safepoint): a frontend truncated its
     * device file under the mapping. Disconnects every frontend whose file is shorter than its
     * layout; a fault that surfaces after such a frontend was already disconnected (the JVM may
     * deliver it late) is put down to that frontend if it went within {@link #LATE_FAULT_WINDOW_NS}.
     *
     * @return whether the fault was attributed (the error is then explained and handled); when it
     *         was not, the caller must {@link #abandonAll} the frontends: the backend can no longer
     *         tell which memory is good.
     */
    public boolean recoverFromMemoryFault(final Throwable fault)
    {
        boolean found = false;
        for (final Vif vif : vifs)
        {
            if (vif.isTruncated())
            {
                found = true;
                disconnect(vif, "device file truncated under the mapping (" + fault.getClass().getSimpleName()
                    + "); the frontend broke the protocol");
            }
        }
        if (found)
        {
            for (final Vif vif : vifs)
            {
                vif.answerInterruptedPacket();
            }
            return true;
        }
        if (lastTruncatedDisconnectNs != 0 && System.nanoTime() - lastTruncatedDisconnectNs < LATE_FAULT_WINDOW_NS)
        {
            LOG.warn("backend: a memory fault ({}) surfaced after the frontend that truncated its file was disconnected; "
                + "put down to it", fault.getMessage());
            for (final Vif vif : vifs)
            {
                vif.answerInterruptedPacket();
            }
            return true;
        }
        return false;
    }

    /**
     * After a fault nobody can be blamed for: stops serving and makes that visible to every peer.
     * Each frontend's doorbell socket is closed (its frontend sees end-of-stream at once) and its
     * mapping released, without touching its shared memory again (that memory may be what faults);
     * the listening socket is closed so that no frontend connects to a backend that cannot serve.
     */
    public void abandonAll(final String reason)
    {
        LOG.error("backend: {}; disconnecting all {} frontends and refusing new ones", reason, vifs.length);
        for (final Vif vif : vifs)
        {
            LOG.error("domain {} ({}) disconnected: {}", vif.domainId(), vif.name(), reason);
            vif.abandon();
        }
        vifs = new Vif[0];
        byDomain.clear();
        for (final PendingConnection connection : pending)
        {
            closeQuietly(connection.channel);
        }
        pending.clear();
        closeQuietly(server);
    }

    @Override
    public boolean isConnected(final int domainId)
    {
        return byDomain.containsKey(domainId);
    }

    @Override
    public int connectedCount()
    {
        return vifs.length;
    }

    /** Domain ids of the connected frontends, for tools (allocates). */
    public int[] connectedDomains()
    {
        final int[] ids = new int[vifs.length];
        for (int i = 0; i < ids.length; i++)
        {
            ids[i] = vifs[i].domainId();
        }
        return ids;
    }

    @Override
    public PacketStatus deliver(final int domainId, final Packet packet)
    {
        final Vif vif = byDomain.get(domainId);
        return vif == null ? PacketStatus.ERROR : vif.deliver(packet);
    }

    @Override
    public PacketStatus deliver(final int domainId, final DirectBuffer buffer, final int offset, final int length)
    {
        final Vif vif = byDomain.get(domainId);
        return vif == null ? PacketStatus.ERROR : vif.deliver(buffer, offset, length);
    }

    @Override
    public void onClose()
    {
        close();
    }

    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        for (final Vif vif : vifs)
        {
            disconnect(vif, SHUTDOWN);
        }
        for (final PendingConnection connection : pending)
        {
            closeQuietly(connection.channel);
        }
        closeQuietly(selector);
        closeQuietly(server);
        try
        {
            Files.deleteIfExists(directory.socketPath());
        }
        catch (final IOException ignore)
        {
            // the next backend replaces a stale socket
        }
        try
        {
            lock.release();
        }
        catch (final IOException ignore)
        {
            // closing the channel releases it too
        }
        closeQuietly(lockChannel);
    }

    private static void closeQuietly(final AutoCloseable c)
    {
        if (c != null)
        {
            try
            {
                c.close();
            }
            catch (final Exception ignore)
            {
                // nothing more to release
            }
        }
    }
}

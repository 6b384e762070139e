package dev.splitnet.backend;

import dev.splitnet.api.Features;
import dev.splitnet.api.XenbusState;
import dev.splitnet.mmap.BackendCounters;
import dev.splitnet.mmap.BackendFrames;
import dev.splitnet.mmap.NetifLimits;
import dev.splitnet.mmap.P2mTable;
import dev.splitnet.mmap.ControlDescriptor;
import dev.splitnet.mmap.Device;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.DescriptorPassing;
import dev.splitnet.mmap.DeviceCounters;
import dev.splitnet.mmap.DeviceDirectory;
import dev.splitnet.mmap.DeviceFile;
import dev.splitnet.mmap.DeviceFileException;
import dev.splitnet.mmap.Doorbell;
import dev.splitnet.mmap.Handshake;
import dev.splitnet.mmap.RingFormat;
import dev.splitnet.mmap.PeerCredentials;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.agrona.collections.IntHashSet;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * netback's control plane, on a thread of its own (as Aeron's DriverConductor beside its Sender
 * and Receiver): accepts connections, reads HELLOs, attaches, validates and maps device files,
 * builds each {@link Vif} and hands it to the data agent ({@link NetBack}), and later closes the
 * vifs the data agent retires (unmapping, deleting a dead frontend's file). Whatever a connecting
 * frontend does, the data agent's duty cycle never waits for it.
 *
 * <p>Bounded against a handshake flood: at most {@link #MAX_PENDING} connections wait for their
 * HELLO (a newcomer evicts the oldest, so idle connections cannot lock honest frontends out), at
 * most {@link #MAX_ACCEPTS_PER_TICK} are accepted per tick, and each waits at most
 * {@link #HANDSHAKE_TIMEOUT_NS}.
 */
final class Conductor implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(Conductor.class);
    /** Connections waiting for their HELLO at most. */
    static final int MAX_PENDING = 64;
    /** Connections accepted per tick at most. */
    static final int MAX_ACCEPTS_PER_TICK = 16;
    private static final long TICK_MS = 10;
    private static final long HANDSHAKE_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(5);
    private static final int LAST_DOMAIN_ID = 0x7FEF;

    private final BackendContext context;
    private final DeviceDirectory directory;
    private final ServerSocketChannel server;
    private final Selector selector;
    private final Selector dataSelector;
    // conductor -> data agent: connected vifs; data agent -> conductor: vifs to close
    private final OneToOneConcurrentArrayQueue<Vif> connected;
    private final ManyToOneConcurrentArrayQueue<Vif> retired;
    private final ArrayDeque<PendingConnection> pending = new ArrayDeque<>();
    // owned by the conductor thread: ids and names of every vif not yet closed
    private final IntHashSet domainIds = new IntHashSet();
    private final Map<String, Integer> names = new HashMap<>();
    private final Map<Integer, Integer> uidByDomain = new HashMap<>();
    private final Map<Integer, String> nameByUid = new HashMap<>();
    private final Map<Integer, BackendCounters.Block> countersByDomain = new HashMap<>();
    // the device of each registered vif, for INSPECT (opened under the names lock; see close(Vif))
    private final Map<Integer, Device> deviceByDomain = new HashMap<>();
    private final BackendCounters backendCounters;
    private final Thread thread;
    private volatile boolean running = true;
    private int nextDomainId = 1;
    // given to each vif: late copies of held packets (used on the duty thread only)
    private final CopyMemory copyMemory;
    private final HoldLimits holdLimits;
    private boolean acceptFailureLogged;
    private long evicted;
    private long lastEvictionReportNs;

    Conductor(final BackendContext context, final DeviceDirectory directory, final ServerSocketChannel server,
        final Selector dataSelector, final BackendCounters backendCounters, final CopyMemory copyMemory) throws IOException
    {
        this.copyMemory = copyMemory;
        this.holdLimits = context.holdLimits();
        this.context = context;
        this.backendCounters = backendCounters;
        this.directory = directory;
        this.server = server;
        this.dataSelector = dataSelector;
        this.selector = Selector.open();
        server.register(selector, SelectionKey.OP_ACCEPT);
        this.connected = new OneToOneConcurrentArrayQueue<>(context.maxFrontends());
        this.retired = new ManyToOneConcurrentArrayQueue<>(context.maxFrontends());
        this.thread = new Thread(this::run, "netback-conductor");
        thread.setDaemon(true);
    }

    /** Connections waiting for their HELLO now (read racily, for tests and tools). */
    int pendingCount()
    {
        return pending.size();
    }

    void start()
    {
        thread.start();
    }

    /** Data agent: the oldest vif connected and not yet taken, or null; it stays queued. */
    Vif peekConnected()
    {
        return connected.peek();
    }

    /** Data agent: takes the vif {@link #peekConnected()} gave. */
    Vif pollConnected()
    {
        return connected.poll();
    }

    /**
     * Data agent: hands a disconnected vif over to be closed. The data agent no longer touches it
     * (the queue's ordered offer pairs with the conductor's poll, so the conductor sees the vif
     * as the data agent left it).
     */
    void retire(final Vif vif)
    {
        if (!running || !retired.offer(vif))
        {
            close(vif);
            return;
        }
        // close it now rather than at the next tick: its id, name and counters are then free
        selector.wakeup();
    }

    private void run()
    {
        while (running)
        {
            try
            {
                selector.select(TICK_MS);
                selector.selectedKeys().clear();
                closeRetired();
                accept();
                advancePending();
                reportEvictions();
            }
            catch (final Throwable t)
            {
                // the control plane must outlive anything one frontend can do to it
                LOG.error("backend conductor: {}", t.toString());
            }
        }
    }

    private void closeRetired()
    {
        Vif vif;
        while ((vif = retired.poll()) != null)
        {
            close(vif);
        }
    }

    /** Unmaps a retired vif, frees its id and name, and deletes its file if its owner is gone. */
    private void close(final Vif vif)
    {
        final Path file = vif.device().path();
        synchronized (names)
        {
            // first, so no INSPECT reopens the memory of a device being closed
            deviceByDomain.remove(vif.domainId(), vif.device());
        }
        try
        {
            vif.close();
        }
        catch (final Throwable t)
        {
            LOG.warn("domain {}: closing failed: {}", vif.domainId(), t.toString());
        }
        synchronized (names)
        {
            domainIds.remove(vif.domainId());
            names.remove(vif.name(), vif.domainId());
            final Integer uid = uidByDomain.remove(vif.domainId());
            if (uid != null)
            {
                nameByUid.remove(uid, vif.name());
            }
            final BackendCounters.Block block = countersByDomain.remove(vif.domainId());
            if (block != null)
            {
                // its last values stay readable (splitnet stat, tests) until the space is needed
                backendCounters.retire(block);
            }
        }
        // A frontend that died leaves its file behind; one that still holds its lock cleans up
        // itself. isInUse answers "in use" when it cannot tell, so a live file is never deleted.
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

    private void accept()
    {
        for (int accepted = 0; accepted < MAX_ACCEPTS_PER_TICK; accepted++)
        {
            final SocketChannel channel;
            try
            {
                channel = server.accept();
                acceptFailureLogged = false;
            }
            catch (final IOException ex)
            {
                // e.g. out of file descriptors: the connection stays in the backlog; say so once
                if (!acceptFailureLogged)
                {
                    acceptFailureLogged = true;
                    LOG.warn("backend: accept failed: {}", ex.toString());
                }
                return;
            }
            if (channel == null)
            {
                return;
            }
            if (pending.size() == MAX_PENDING)
            {
                pending.pollFirst().close();
                evicted++;
            }
            try
            {
                channel.configureBlocking(false);
                channel.register(selector, SelectionKey.OP_READ);
                pending.addLast(new PendingConnection(channel, System.nanoTime() + HANDSHAKE_TIMEOUT_NS));
            }
            catch (final IOException | RuntimeException ex)
            {
                closeQuietly(channel);
            }
        }
    }

    /** Says how many connections were evicted, at most once a second. */
    private void reportEvictions()
    {
        final long now = System.nanoTime();
        if (evicted > 0 && now - lastEvictionReportNs > TimeUnit.SECONDS.toNanos(1))
        {
            LOG.warn("backend: {} connections closed without a HELLO because {} others were waiting for theirs "
                + "(a handshake flood?)", evicted, MAX_PENDING);
            evicted = 0;
            lastEvictionReportNs = now;
        }
    }

    private void advancePending()
    {
        final Iterator<PendingConnection> it = pending.iterator();
        while (it.hasNext())
        {
            if (it.next().advance())
            {
                it.remove();
            }
        }
    }

    /**
     * A socket between accept and its answer: a frontend's HELLO (with the descriptor of its sealed
     * memory) or a tool's INSPECT, which may arrive in pieces. Read with recvmsg, so a descriptor
     * that comes with the message is received, never silently dropped; every descriptor not taken
     * over by a device is closed when the connection is done.
     */
    private final class PendingConnection
    {
        private final SocketChannel channel;
        private final long deadline;
        private final ByteBuffer in = ByteBuffer.allocate(Handshake.MAX_MESSAGE_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        private final DescriptorPassing.Receiver receiver;
        private boolean probed;

        PendingConnection(final SocketChannel channel, final long deadline)
        {
            this.channel = channel;
            this.deadline = deadline;
            this.receiver = new DescriptorPassing.Receiver(channel);
        }

        /** Returns true when done with this connection, one way or the other. */
        boolean advance()
        {
            boolean inspecting = false;
            try
            {
                if (receiver.receive(in) < 0)
                {
                    close();
                    return true;
                }
                in.flip();
                int length = Handshake.completeLength(in, Handshake.HELLO_MAGIC, Handshake.INSPECT_MAGIC, Handshake.PROBE_MAGIC);
                if (length > 0 && Handshake.magic(in) == Handshake.PROBE_MAGIC)
                {
                    advertise();
                    in.position(in.position() + length);
                    length = Handshake.completeLength(in, Handshake.HELLO_MAGIC, Handshake.INSPECT_MAGIC, Handshake.PROBE_MAGIC);
                    if (length > 0 && Handshake.magic(in) == Handshake.PROBE_MAGIC)
                    {
                        advertise(); // a second PROBE: refused, with the reason
                    }
                }
                in.compact();
                if (length == 0)
                {
                    if (System.nanoTime() - deadline > 0)
                    {
                        LOG.warn("backend: a client connected but sent no HELLO within 5 s; closed");
                        close();
                        return true;
                    }
                    // not done: descriptors that came with the first bytes stay with the receiver
                    return false;
                }
                in.flip();
                // the answer is written with a deadline from here on
                channel.keyFor(selector).cancel();
                inspecting = Handshake.magic(in) == Handshake.INSPECT_MAGIC;
                if (inspecting)
                {
                    inspect(channel, Handshake.decodeInspect(in));
                }
                else
                {
                    connect(channel, Handshake.decodeHello(in), receiver);
                }
            }
            catch (final IOException | RuntimeException ex)
            {
                LOG.warn("backend: handshake failed: {}", ex.getMessage());
                if (inspecting)
                {
                    refuseInspection(channel, ex.getMessage());
                }
                else
                {
                    refuse(channel, ex.getMessage());
                }
            }
            // done with the connection: whatever descriptors it brought and no device took are closed
            receiver.close();
            return true;
        }

        /**
         * Answers a frontend's PROBE with the features this backend negotiates (once per
         * connection), so it lays its rings out in their format before its HELLO.
         */
        private void advertise() throws IOException
        {
            if (probed)
            {
                throw new Handshake.HandshakeException("a second PROBE on one connection; send the HELLO after the ADVERTISE");
            }
            probed = true;
            Handshake.writeFully(channel, Handshake.encode(new Handshake.Advertise(Features.consistent(acceptedFeatures()
                & Features.SUPPORTED))), System.nanoTime() + HANDSHAKE_TIMEOUT_NS);
        }

        /** Closes the connection and every descriptor it brought. */
        void close()
        {
            receiver.close();
            closeQuietly(channel);
        }
    }

    /**
     * Answers a tool's INSPECT: a read-only descriptor of a connected device's sealed memory, for
     * root, this backend's user or the device's owner only (as the kernel reports the caller).
     */
    private void inspect(final SocketChannel channel, final Handshake.Inspect request) throws IOException
    {
        final PeerCredentials peer = PeerCredentials.of(channel);
        int memory = -1;
        String refusal = null;
        synchronized (names)
        {
            final Integer domainId = names.get(request.deviceName());
            final Device device = domainId == null ? null : deviceByDomain.get(domainId);
            final Integer owner = domainId == null ? null : uidByDomain.get(domainId);
            if (device == null)
            {
                refusal = "device " + request.deviceName() + " is not connected to this backend";
            }
            else if (!device.isSealedMemory())
            {
                refusal = "device " + request.deviceName() + " is file-backed: its file is its memory";
            }
            else if (peer.uid() != 0 && peer.uid() != DeviceFile.processUid() && (owner == null || peer.uid() != owner))
            {
                refusal = "uid " + peer.uid() + " may not look at device " + request.deviceName() + " (owned by uid " + owner + ")";
            }
            else
            {
                // opened under the lock: close(Vif) removes the device from the map before closing it
                memory = device.openReadOnlyMemory();
            }
        }
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        try
        {
            if (memory < 0)
            {
                Handshake.writeFully(channel, Handshake.encode(new Handshake.Inspected(Handshake.STATUS_REFUSED, refusal)), deadline);
            }
            else
            {
                DescriptorPassing.send(channel, Handshake.encode(new Handshake.Inspected(Handshake.STATUS_OK, "")), memory, deadline);
            }
        }
        finally
        {
            if (memory >= 0)
            {
                DescriptorPassing.close(memory); // the tool has its own now
            }
            closeQuietly(channel);
        }
    }

    /**
     * Connects a frontend. {@code received} holds what descriptors came with its HELLO: at most one,
     * its sealed device memory, taken over by the device when attached (the caller closes any left).
     */
    private void connect(final SocketChannel channel, final Handshake.Hello hello, final DescriptorPassing.Receiver received)
        throws IOException
    {
        // the HELLO is the last message that may carry a descriptor: the doorbell bytes after it take none
        DescriptorPassing.refuseDescriptors(channel);
        if (received.descriptorCount() > 1 || received.overflowed())
        {
            refuse(channel, "the HELLO of device " + hello.deviceName() + " came with more than one descriptor; "
                + "a frontend sends at most one, its sealed device memory");
            return;
        }
        if (received.descriptorCount() == 0 && !context.allowFileMemory())
        {
            refuse(channel, "device " + hello.deviceName() + " sent no sealed memory with its HELLO; this backend accepts only sealed "
                + "device memory (a file-backed device can be truncated under the backend); start the frontend with sealed memory "
                + "(the default), or allow file-backed devices on the backend (BackendContext.allowFileMemory, "
                + "splitnet backend --allow-file-memory)");
            return;
        }
        if (ControlDescriptor.major(hello.version()) != ControlDescriptor.major(ControlDescriptor.LAYOUT_VERSION))
        {
            refuse(channel, "layout version " + ControlDescriptor.major(hello.version()) + ".x is not supported (backend speaks "
                + ControlDescriptor.major(ControlDescriptor.LAYOUT_VERSION) + ".x)");
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
        // frontends the data agent let go count no more: close them before counting
        closeRetired();
        synchronized (names)
        {
            if (domainIds.size() >= context.maxFrontends())
            {
                refuse(channel, "backend already serves its maximum of " + context.maxFrontends() + " frontends");
                return;
            }
            final Integer holder = names.get(hello.deviceName());
            if (holder != null)
            {
                refuse(channel, "device " + hello.deviceName() + " is already connected as domain " + holder);
                return;
            }
        }
        // who connected, as the kernel says (not the HELLO): the device file must be that user's
        final PeerCredentials peer;
        try
        {
            peer = PeerCredentials.of(channel);
        }
        catch (final DeviceFileException ex)
        {
            refuse(channel, ex.getMessage());
            return;
        }
        synchronized (names)
        {
            final String sameUser = context.distinctFrontendUids() ? nameByUid.get(peer.uid()) : null;
            if (sameUser != null)
            {
                refuse(channel, "uid " + peer.uid() + " already runs frontend " + sameUser
                    + "; this backend requires each frontend to run as its own user");
                return;
            }
        }
        final Device device;
        try
        {
            device = received.descriptorCount() == 1
                ? Device.attachSealedMemory(received.takeDescriptor(), file, false, peer.uid())
                : Device.attach(file.toFile(), false, peer.uid());
        }
        catch (final DeviceFileException ex)
        {
            refuse(channel, ex.getMessage());
            return;
        }
        Vif vif = null;
        LentFrames lent = null;
        BackendCounters.Block block = null;
        boolean registered = false;
        boolean wroteState = false;
        try
        {
            // checked before the backend writes anything into the device
            if (device.frontendState() != XenbusState.INITIALISED)
            {
                throw new dev.splitnet.api.SplitnetException("frontend state is " + device.frontendState() + ", expected INITIALISED");
            }
            device.setBackendState(XenbusState.INIT_WAIT);
            wroteState = true;
            final int domainId = allocateDomainId();
            final long features = Features.consistent(hello.featuresOffered() & acceptedFeatures() & Features.SUPPORTED);
            device.recordConnection(domainId, features);
            block = backendCounters.allocate(domainId, hello.deviceName());
            final DeviceCounters counters = block.counters();
            final Doorbell doorbell = new Doorbell(channel, counters.get(DeviceCounter.BACKEND_DOORBELLS_SENT),
                counters.get(DeviceCounter.BACKEND_DOORBELLS_RECEIVED), counters.get(DeviceCounter.BACKEND_DOORBELL_FLOODS));
            if ((features & Features.LAZY_RX) != 0)
            {
                // by default one frame per receive buffer and a 64 KiB packet's more: a claim needs its
                // frames consecutive, and the slack keeps a pool with enough free from having none in a row
                final int frames = context.rxPoolFrames() != 0 ? context.rxPoolFrames()
                    : Math.min(BackendFrames.MAX_FRAMES, device.layout().rxFrameCount() + NetifLimits.MAX_RX_BUFFERS_PER_PACKET);
                final BackendFrames pool = BackendFrames.create(hello.deviceName(), Math.max(1, frames));
                try
                {
                    lent = new LentFrames(pool, new P2mTable(device.p2m(), device.layout().frameCount()), device.frames().addressOffset(),
                        context.rxMode(), TimeUnit.MILLISECONDS.toNanos(context.lendDeadlineMs()), context.rxCopybreak(), counters);
                }
                catch (final RuntimeException ex)
                {
                    pool.close();
                    throw ex;
                }
            }
            vif = new Vif(domainId, hello.deviceName(), device, doorbell, features, counters, copyMemory, holdLimits,
                context.rxOrder(), lent);
            final ByteBuffer welcome = Handshake.encode(new Handshake.Welcome(Handshake.STATUS_OK, domainId, features,
                ProcessHandle.current().pid(), ""));
            if (lent == null)
            {
                Handshake.writeFully(channel, welcome, System.nanoTime() + HANDSHAKE_TIMEOUT_NS);
            }
            else
            {
                // the frontend's read-only view of the frames lent to it rides with the WELCOME
                final int readOnly = lent.pool().readOnlyDescriptor();
                try
                {
                    DescriptorPassing.send(channel, welcome, readOnly, System.nanoTime() + HANDSHAKE_TIMEOUT_NS);
                }
                finally
                {
                    DescriptorPassing.close(readOnly);
                }
            }
            device.setBackendState(XenbusState.CONNECTED);
            synchronized (names)
            {
                domainIds.add(domainId);
                names.put(hello.deviceName(), domainId);
                uidByDomain.put(domainId, peer.uid());
                nameByUid.put(peer.uid(), hello.deviceName());
                countersByDomain.put(domainId, block);
                deviceByDomain.put(domainId, device);
                registered = true;
            }
            // capacity is maxFrontends and at most that many vifs live: the offer cannot fail
            connected.offer(vif);
            dataSelector.wakeup();
            LOG.info("domain {} connected: device {}, pid {} (uid {}), features [{}], rings {}", domainId, hello.deviceName(),
                peer.pid() != 0 ? peer.pid() : hello.pid(), peer.uid(), Features.describe(features), RingFormat.of(features).label());
        }
        catch (final IOException | RuntimeException ex)
        {
            if (vif != null)
            {
                vif.close();
            }
            else
            {
                if (lent != null)
                {
                    lent.close();
                }
                if (wroteState)
                {
                    device.setBackendState(XenbusState.CLOSED);
                }
                device.close();
            }
            if (block != null && !registered)
            {
                backendCounters.retire(block);
            }
            refuse(channel, ex.getMessage());
        }
    }

    /** What this backend takes: the context's features, without lazy-rx unless it lends frames (rx mode flip or lazy). */
    private long acceptedFeatures()
    {
        return context.rxMode() == RxMode.COPY ? context.acceptedFeatures() & ~Features.LAZY_RX : context.acceptedFeatures();
    }

    private int allocateDomainId()
    {
        synchronized (names)
        {
            for (int tries = 0; tries < LAST_DOMAIN_ID; tries++)
            {
                final int candidate = nextDomainId;
                nextDomainId = nextDomainId == LAST_DOMAIN_ID ? 1 : nextDomainId + 1;
                if (!domainIds.contains(candidate))
                {
                    return candidate;
                }
            }
        }
        throw new dev.splitnet.api.SplitnetException("no free domain id");
    }

    private static void refuseInspection(final SocketChannel channel, final String reason)
    {
        try
        {
            Handshake.writeFully(channel, Handshake.encode(new Handshake.Inspected(Handshake.STATUS_REFUSED, String.valueOf(reason))),
                System.nanoTime() + TimeUnit.SECONDS.toNanos(1));
        }
        catch (final IOException | RuntimeException ignore)
        {
            // the tool is gone; nothing to tell it
        }
        closeQuietly(channel);
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

    /**
     * Stops the thread and closes what it owns: pending connections, vifs handed over but not yet
     * adopted or retired and not yet closed, the listening socket.
     */
    @Override
    public void close()
    {
        running = false;
        selector.wakeup();
        if (Thread.currentThread() != thread)
        {
            try
            {
                thread.join(10_000);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
        closeRetired();
        Vif vif;
        while ((vif = connected.poll()) != null)
        {
            close(vif);
        }
        for (final PendingConnection connection : pending)
        {
            connection.close();
        }
        pending.clear();
        closeQuietly(selector);
        closeQuietly(server);
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

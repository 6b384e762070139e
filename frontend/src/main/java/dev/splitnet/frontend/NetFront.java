package dev.splitnet.frontend;

import dev.splitnet.api.Features;
import dev.splitnet.api.Frontend;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.Remedy;
import dev.splitnet.api.RxHandler;
import dev.splitnet.api.SendResult;
import dev.splitnet.api.SplitnetException;
import dev.splitnet.api.TxClaim;
import dev.splitnet.api.TxCompletionHandler;
import dev.splitnet.api.XenbusState;
import dev.splitnet.mmap.ClockCadence;
import dev.splitnet.mmap.ControlDescriptor;
import dev.splitnet.mmap.BackendFrames;
import dev.splitnet.mmap.DescriptorPassing;
import dev.splitnet.mmap.P2mTable;
import dev.splitnet.mmap.Device;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.DeviceCounters;
import dev.splitnet.mmap.DeviceDirectory;
import dev.splitnet.mmap.DeviceLayout;
import dev.splitnet.mmap.Doorbell;
import dev.splitnet.mmap.FrontendRing;
import dev.splitnet.mmap.GrantTable;
import dev.splitnet.mmap.Handshake;
import dev.splitnet.mmap.JvmFlags;
import dev.splitnet.mmap.RingFormat;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import org.agrona.DirectBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * netfront: creates its device file, connects to the backend listening in the same directory,
 * and then sends and receives through the shared rings. Not thread safe: one thread drives it.
 */
public final class NetFront implements Frontend
{
    private static final Logger LOG = LoggerFactory.getLogger(NetFront.class);
    private static final String CLOSED_BY_APPLICATION = "closed by the application";
    /**
     * Longest single sleep in {@link #awaitWork}: a backend's death wakes it at once (end-of-stream),
     * a stopped heartbeat is checked at least this often.
     */
    private static final long MAX_SLEEP_MS = 50;

    private static final java.util.function.Consumer<SelectionKey> IGNORE_KEY = key -> { };

    private final FrontendContext context;
    private final Device device;
    private final Doorbell doorbell;
    private final Selector selector;
    private final TxPath tx;
    private final RxPath rx;
    // lazy receive: the backend's frames lent to this frontend, mapped read-only (null: receives by copy)
    private final BackendFrames backendFrames;
    private final FrontendRing txRing;
    private final FrontendRing rxRing;
    private final int domainId;
    private final long features;
    private final long backendPid;
    private final PeerWatch watch;
    // which polls read the clock for the watch (a clock read costs more than a poll)
    private final ClockCadence pollClock;
    // the device file's identity (device and inode) at connect: close() deletes only that file
    private final Object fileKey;
    private boolean connected;
    private boolean closed;
    // why the frontend is no longer connected (null while it is)
    private String disconnectReason;
    // the mapping faulted (its file was truncated): nothing may touch it again, counters included
    private boolean mappingLost;
    // set once the responses published before a disconnect were taken (or must not be: a protocol
    // violation, a faulted mapping)
    private boolean drainedAfterDisconnect;

    private NetFront(final FrontendContext context, final Device device, final Doorbell doorbell, final Selector selector,
        final Handshake.Welcome welcome, final FrontendRing txRing, final FrontendRing rxRing, final TxPath tx, final RxPath rx,
        final BackendFrames backendFrames)
    {
        this.backendFrames = backendFrames;
        this.context = context;
        this.device = device;
        this.doorbell = doorbell;
        this.selector = selector;
        this.domainId = welcome.domainId();
        this.features = welcome.featuresNegotiated();
        this.backendPid = welcome.backendPid();
        this.txRing = txRing;
        this.rxRing = rxRing;
        this.tx = tx;
        this.rx = rx;
        final long now = System.nanoTime();
        this.watch = new PeerWatch(device, doorbell, context.backendTimeoutMs(), peerPid(doorbell), context.name(), now);
        // a file can be truncated under the mapping: its length is checked before every poll
        this.pollClock = new ClockCadence(!device.isSealedMemory(), now);
        this.fileKey = fileKeyOf(device.path());
        this.connected = true;
        tx.onMemoryFault(this::onMemoryFault);
    }

    /**
     * Creates the device file, posts receive buffers, and connects, waiting up to the connect
     * timeout for a backend to listen.
     *
     * @throws SplitnetException with what went wrong and what to do.
     */
    public static NetFront connect(final FrontendContext context)
    {
        return connect(context, context.connectTimeoutMs());
    }

    /** As {@link #connect(FrontendContext)}, waiting {@code connectTimeoutMs} instead of the context's timeout. */
    static NetFront connect(final FrontendContext context, final long connectTimeoutMs)
    {
        JvmFlags.check();
        context.conclude();
        final DeviceDirectory directory = DeviceDirectory.create(context.directory());
        final java.nio.file.Path file = directory.deviceFile(context.name());
        final Device device = Device.create(file, context.name(), context.geometry(), context.initialRingIndex(),
            context.features(), context.replaceStale(), context.sealedMemory());
        SocketChannel channel = null;
        Selector selector = null;
        BackendFrames backendFrames = null;
        try
        {
            final DeviceLayout layout = device.layout();
            final DeviceCounters counters = DeviceCounters.attach(device.countersValues());
            final GrantTable grants = new GrantTable(device.grantTableBuffer(), layout.grantEntries(), layout.frameCount());
            // Offered: the device is laid out (Device.create initialised the rings in Xen's
            // format) and waits for a backend, which touches no ring before the HELLO
            device.setFrontendState(XenbusState.INITIALISED);
            final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(connectTimeoutMs);
            channel = openWithRetry(directory, deadline);
            // The ring format must be fixed before the rings are laid out: with ring v2 on offer,
            // ask the backend what it takes first (Xen's order: the backend advertises its
            // features, then the frontend initialises), on the connection the HELLO will follow.
            long offered = context.features();
            // lazy-rx lends frames only into buffers granted for good, so it must know before
            // posting them whether the backend takes permanent grants: it probes too
            boolean permanentFromStart = false;
            // rx-spans changes how the receive buffers are posted, so it is known first as well
            int spanFrames = 1;
            if ((offered & (Features.RING_V2 | Features.LAZY_RX | Features.RX_SPANS)) != 0)
            {
                final long advertised = probe(channel, deadline);
                if (advertised == PROBE_REFUSED)
                {
                    // a backend that predates the PROBE refused it and closed: connect again, plainly
                    LOG.info("backend refused the probe (it predates ring v2 and lazy-rx): connecting again without them");
                    channel.close();
                    channel = openWithRetry(directory, deadline);
                }
                else if ((offered & Features.RING_V2) != 0 && (advertised & Features.RING_V2) == 0)
                {
                    LOG.info("backend does not take ring-v2 (it advertises [{}]): the rings stay in Xen's format",
                        Features.describe(advertised));
                }
                if (advertised == PROBE_REFUSED || (advertised & Features.RING_V2) == 0)
                {
                    offered &= ~Features.RING_V2;
                }
                if (advertised == PROBE_REFUSED || (advertised & Features.LAZY_RX) == 0)
                {
                    offered &= ~Features.LAZY_RX;
                }
                final boolean permanentAdvertised = advertised != PROBE_REFUSED && (advertised & offered & Features.PERMANENT_GRANTS) != 0;
                if (advertised == PROBE_REFUSED || (advertised & Features.RX_SPANS) == 0 || !permanentAdvertised)
                {
                    offered &= ~Features.RX_SPANS;
                }
                permanentFromStart = (offered & (Features.LAZY_RX | Features.RX_SPANS)) != 0 && permanentAdvertised;
                spanFrames = (offered & Features.RX_SPANS) != 0 ? context.rxSpanFrames() : 1;
            }
            final RingFormat format = RingFormat.of(offered);
            final FrontendRing txRing = format.initFrontend(device.txRing(), true, context.initialRingIndex());
            final FrontendRing rxRing = format.initFrontend(device.rxRing(), false, context.initialRingIndex());
            final RxPath rx = new RxPath(rxRing, grants, device.frames(), layout.txFrameCount(), layout.rxFrameCount(), spanFrames, counters);
            if (permanentFromStart)
            {
                rx.usePermanentGrants();
            }
            rx.postBuffers();
            rxRing.pushRequests();
            // again, after the rings' final layout (a release store: the layout and the posted
            // buffers before it). The backend touches the rings only after the HELLO sent next,
            // whose sendmsg is the store-to-peer ordering the first INITIALISED cannot give
            device.setFrontendState(XenbusState.INITIALISED);

            final Handshake.Welcome welcome;
            // a lazy-rx backend sends its frames for this frontend with the WELCOME
            try (DescriptorPassing.Receiver receiver = (offered & Features.LAZY_RX) != 0 ? new DescriptorPassing.Receiver(channel) : null)
            {
                welcome = exchange(channel, receiver, context, offered, device, deadline);
                if (welcome.status() != Handshake.STATUS_OK)
                {
                    throw new SplitnetException("backend refused device " + context.name() + ": " + welcome.reason());
                }
                if ((welcome.featuresNegotiated() & Features.LAZY_RX & offered) != 0)
                {
                    final int fd = receiver.descriptorCount() == 1 && !receiver.overflowed() ? receiver.takeDescriptor() : -1;
                    if (fd < 0)
                    {
                        throw new SplitnetException("backend negotiated lazy-rx but sent " + receiver.descriptorCount()
                            + " descriptors with its WELCOME, not its frames alone; the backend broke the handshake");
                    }
                    backendFrames = BackendFrames.adoptReadOnly(fd, context.name());
                }
            }
            // doorbell bytes only from here on: the backend can send no descriptor for a read() to close
            DescriptorPassing.refuseDescriptors(channel);
            if ((welcome.featuresNegotiated() & ~offered) != 0)
            {
                throw new SplitnetException("backend accepted features it was not offered: "
                    + Features.describe(welcome.featuresNegotiated() & ~offered));
            }
            if (RingFormat.of(welcome.featuresNegotiated()) != format)
            {
                throw new SplitnetException("backend advertised ring-v2 and then negotiated " + RingFormat.of(welcome.featuresNegotiated()).label()
                    + " for rings laid out as " + format.label() + "; the backend broke the handshake");
            }
            final boolean headerSlots = (welcome.featuresNegotiated() & Features.HEADER_SLOTS) != 0;
            if ((welcome.featuresNegotiated() & Features.PERMANENT_GRANTS) != 0)
            {
                rx.usePermanentGrants();
            }
            else if (permanentFromStart)
            {
                throw new SplitnetException("backend advertised permanent-grants and then did not negotiate it, for receive buffers "
                    + "posted with permanent grefs; the backend broke the handshake");
            }
            if (spanFrames > 1 && (welcome.featuresNegotiated() & Features.RX_SPANS) == 0)
            {
                throw new SplitnetException("backend advertised rx-spans and then did not negotiate it, for receive buffers "
                    + "posted as spans; the backend broke the handshake");
            }
            if (backendFrames != null)
            {
                rx.useBackendFrames(new P2mTable(device.p2m(), layout.frameCount()), backendFrames);
            }
            final Doorbell doorbell = new Doorbell(channel, counters.get(DeviceCounter.FRONTEND_DOORBELLS_SENT),
                counters.get(DeviceCounter.FRONTEND_DOORBELLS_RECEIVED), counters.get(DeviceCounter.FRONTEND_DOORBELL_FLOODS));
            final TxPath tx = new TxPath(txRing, grants, device.headerSlots(), layout.headerSlotCount(), layout.headerSlotSize(),
                device.frames(), layout.txFrameCount(), headerSlots, counters, doorbell, context.txPushBatch(),
                (welcome.featuresNegotiated() & Features.PERMANENT_GRANTS) != 0, (welcome.featuresNegotiated() & Features.FRAME_SPANS) != 0);
            selector = Selector.open();
            channel.register(selector, SelectionKey.OP_READ);
            device.setFrontendState(XenbusState.CONNECTED);
            LOG.info("frontend {} connected: domain {}, features [{}], rings {}, backend pid {}, device {}",
                context.name(), welcome.domainId(), Features.describe(welcome.featuresNegotiated()), format.label(), welcome.backendPid(), file);
            return new NetFront(context, device, doorbell, selector, welcome, txRing, rxRing, tx, rx, backendFrames);
        }
        catch (final IOException | RuntimeException ex)
        {
            closeQuietly(backendFrames);
            closeQuietly(selector);
            closeQuietly(channel);
            device.setFrontendState(XenbusState.CLOSED);
            device.close();
            deleteQuietly(file);
            if (ex instanceof SplitnetException)
            {
                throw (SplitnetException)ex;
            }
            throw new SplitnetException("frontend " + context.name() + " could not connect: " + ex, ex);
        }
    }

    private static SocketChannel openWithRetry(final DeviceDirectory directory, final long deadline) throws IOException
    {
        final UnixDomainSocketAddress address = UnixDomainSocketAddress.of(directory.socketPath());
        while (true)
        {
            final SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            try
            {
                channel.connect(address);
                return channel;
            }
            catch (final IOException ex)
            {
                channel.close();
                if (String.valueOf(ex.getMessage()).contains("Permission denied"))
                {
                    // waiting will not help: say so at once
                    throw new SplitnetException("not allowed to connect to " + directory.socketPath()
                        + " (permission denied); run as the backend's user or fix the directory's permissions");
                }
                if (System.nanoTime() - deadline > 0)
                {
                    throw new SplitnetException("no backend is listening on " + directory.socketPath()
                        + " (" + ex.getMessage() + "); start a backend in " + directory.path()
                        + " or wait longer for one (the connect timeout)", Remedy.START_BACKEND);
                }
                sleep(50);
            }
        }
    }

    /** {@link #probe} result: the backend answered the PROBE with a refusal (it predates it). */
    private static final long PROBE_REFUSED = -1;

    /**
     * Sends a PROBE and returns the features the backend's ADVERTISE names, or
     * {@link #PROBE_REFUSED}. Only a frontend offering ring v2 probes: a plain one's handshake is
     * unchanged.
     */
    private static long probe(final SocketChannel channel, final long deadline) throws IOException
    {
        channel.configureBlocking(false);
        final long handshakeDeadline = handshakeDeadline(deadline);
        Handshake.writeFully(channel, Handshake.encodeProbe(), handshakeDeadline);
        final ByteBuffer in = ByteBuffer.allocate(Handshake.MAX_MESSAGE_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        readMessage(channel, null, in, Handshake.ADVERTISE_MAGIC, handshakeDeadline);
        if (Handshake.magic(in) == Handshake.WELCOME_MAGIC)
        {
            LOG.debug("PROBE refused: {}", Handshake.decodeWelcome(in).reason());
            return PROBE_REFUSED;
        }
        return Handshake.decodeAdvertise(in).featuresAccepted() & Long.MAX_VALUE;
    }

    private static Handshake.Welcome exchange(final SocketChannel channel, final DescriptorPassing.Receiver receiver,
        final FrontendContext context, final long offered, final Device device, final long deadline) throws IOException
    {
        channel.configureBlocking(false);
        final long handshakeDeadline = handshakeDeadline(deadline);
        // with the descriptor of the sealed memory, if that is what the device has
        Handshake.sendHello(channel, new Handshake.Hello(ControlDescriptor.LAYOUT_VERSION,
            ProcessHandle.current().pid(), offered, context.name()), device, handshakeDeadline);
        final ByteBuffer in = ByteBuffer.allocate(Handshake.MAX_MESSAGE_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        readMessage(channel, receiver, in, Handshake.WELCOME_MAGIC, handshakeDeadline);
        // Bytes after the WELCOME are doorbells: a backend may deliver (and ring, since rsp_event
        // asks for the first response) the moment it has answered.
        return Handshake.decodeWelcome(in);
    }

    private static long handshakeDeadline(final long deadline)
    {
        return Math.max(deadline, System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
    }

    /** Reads until {@code in} (flipped on return) starts with a whole message of {@code magic} or a WELCOME. */
    private static void readMessage(final SocketChannel channel, final DescriptorPassing.Receiver receiver, final ByteBuffer in,
        final int magic, final long handshakeDeadline) throws IOException
    {
        while (true)
        {
            if ((receiver != null ? receiver.receive(in) : channel.read(in)) < 0)
            {
                throw new SplitnetException("backend closed the connection during the handshake");
            }
            in.flip();
            if (Handshake.completeLength(in, magic, Handshake.WELCOME_MAGIC) > 0)
            {
                return;
            }
            in.compact();
            if (System.nanoTime() - handshakeDeadline > 0)
            {
                throw new SplitnetException("backend did not answer the handshake in time");
            }
            sleep(1);
        }
    }

    private static void sleep(final long millis)
    {
        try
        {
            Thread.sleep(millis);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new SplitnetException("interrupted while connecting");
        }
    }

    @Override
    public int domainId()
    {
        return domainId;
    }

    @Override
    public long negotiatedFeatures()
    {
        return features;
    }

    /** The backend's process id as it reported it (in its own pid namespace). */
    public long backendPid()
    {
        return backendPid;
    }

    @Override
    public boolean isConnected()
    {
        return connected;
    }

    /**
     * Why the frontend is not connected any more, or null while it is: the backend closed the
     * connection or died, its heartbeat stopped, it broke the protocol (which response, what was
     * wrong), it flooded the doorbell, the device file was truncated under the mapping, or the
     * application closed the frontend. Logged once when it happened.
     */
    public String disconnectReason()
    {
        return disconnectReason;
    }

    /** The mapped device, for tools and tests that inspect shared state; unmapped by {@link #close()}. */
    public Device device()
    {
        return device;
    }

    /**
     * What this connection holds now, for leak checks: with nothing in flight and the receive
     * buffers reposted, ring ids, header slots and TX frames held are 0 and every RX buffer is
     * posted. Allocates; not for the data path.
     */
    public ResourceUsage resourceUsage()
    {
        final ResourceUsage.Tx held = tx.held();
        return new ResourceUsage(held.ringIds(), held.headerSlots(), held.txFrames(), rx.postedCount(),
            Math.min(rx.bufferCount(), rxRing.size()));
    }

    /** Largest header a packet may have with the negotiated features. */
    public int maxHeaderLength()
    {
        return tx.maxHeaderLength();
    }

    @Override
    public SendResult send(final DirectBuffer header, final int headerOffset, final int headerLength,
        final DirectBuffer payload, final int payloadOffset, final int payloadLength, final long correlationId)
    {
        if (!connected)
        {
            return SendResult.NOT_CONNECTED;
        }
        final int inFlightBefore = tx.inFlight();
        try
        {
            if (!tx.send(header, headerOffset, headerLength, payload, payloadOffset, payloadLength, correlationId))
            {
                return SendResult.BACK_PRESSURED;
            }
        }
        catch (final InternalError fault)
        {
            // give back what the claim took (private memory only) before the fault voids it
            tx.abortOpenClaim();
            onMemoryFault(checked(fault));
        }
        // a commit that faulted still put the packet in flight: it completes as DISCONNECTED
        return connected || tx.inFlight() > inFlightBefore ? SendResult.SENT : SendResult.NOT_CONNECTED;
    }

    @Override
    public TxClaim tryClaim(final int headerLength, final int[] fragmentLengths, final int fragmentCount)
    {
        if (!connected)
        {
            return null;
        }
        try
        {
            return tx.tryClaim(headerLength, fragmentLengths, fragmentCount);
        }
        catch (final InternalError fault)
        {
            // give back what the claim took (private memory only) before the fault voids it
            tx.abortOpenClaim();
            onMemoryFault(checked(fault));
            return null;
        }
    }

    @Override
    public TxClaim tryClaim(final int headerLength, final int payloadLength)
    {
        if (!connected)
        {
            return null;
        }
        try
        {
            return tx.tryClaim(headerLength, payloadLength);
        }
        catch (final InternalError fault)
        {
            // give back what the claim took (private memory only) before the fault voids it
            tx.abortOpenClaim();
            onMemoryFault(checked(fault));
            return null;
        }
    }

    /**
     * {@inheritDoc} After {@link #close()} it does nothing and returns 0: close() accounted the
     * packets then in flight ({@code tx_disconnected}) and unmapped the device, which must not be
     * touched again. Nothing the backend does makes it throw: a protocol violation, a stopped
     * heartbeat, a doorbell storm or a fault on the mapping disconnects (see
     * {@link #disconnectReason()}) and completes every packet in flight as DISCONNECTED, once.
     */
    @Override
    public int poll(final TxCompletionHandler completions, final RxHandler receiver)
    {
        if (closed)
        {
            return 0;
        }
        if (!connected)
        {
            return drainAfterDisconnect(completions, receiver) + tx.failAll(completions);
        }
        try
        {
            return pollConnected(completions, receiver);
        }
        catch (final InternalError fault)
        {
            onMemoryFault(checked(fault));
            return tx.failAll(completions);
        }
    }

    private int pollConnected(final TxCompletionHandler completions, final RxHandler receiver)
    {
        // first, so that a file truncated under the mapping is seen before the mapping is touched;
        // on sealed memory, which cannot shrink, dense polls read the clock only now and then
        if (pollClock.due())
        {
            final long now = System.nanoTime();
            pollClock.read(now);
            if (watch.isDue(now) && !checkPeer(now))
            {
                return tx.failAll(completions);
            }
        }
        tx.flush();
        final int completed = tx.processResponses(completions);
        if (completed < 0)
        {
            drainedAfterDisconnect = true; // nothing more is read from rings that broke the protocol
            disconnect("backend broke the protocol: " + tx.violation());
            return tx.failAll(completions);
        }
        final int received = rx.processResponses(receiver);
        if (received < 0)
        {
            drainedAfterDisconnect = true;
            disconnect("backend broke the protocol: " + rx.violation());
            return completed + tx.failAll(completions);
        }
        if (rx.postBuffers() > 0 && rxRing.pushRequests())
        {
            doorbell.ring();
        }
        return completed + received;
    }

    /**
     * Once, in the first poll after the backend went away: the responses it published before it
     * went are taken (a packet it delivered into this frontend's RX ring and answered OKAY to its
     * sender must arrive; a TX response it published gives its packet its real status). Receive
     * buffers are not posted again. What is still in flight after this fails as DISCONNECTED.
     */
    private int drainAfterDisconnect(final TxCompletionHandler completions, final RxHandler receiver)
    {
        if (drainedAfterDisconnect || mappingLost)
        {
            return 0;
        }
        drainedAfterDisconnect = true;
        try
        {
            final int completed = tx.processResponses(completions);
            final int received = rx.processResponses(receiver);
            return Math.max(completed, 0) + Math.max(received, 0);
        }
        catch (final InternalError fault)
        {
            // the memory faulted while draining (a file-backed device truncated): never touch it again
            checked(fault);
            mappingLost = true;
            tx.close("the frontend disconnected: device memory faulted (" + fault.getMessage() + ")");
            return 0;
        }
    }

    /** Checks the backend now; false (and disconnected, with the reason) when it is gone or broken. */
    private boolean checkPeer(final long nowNs)
    {
        final String reason = watch.check(nowNs);
        if (reason == null)
        {
            return true;
        }
        if (watch.checkFile() != null)
        {
            mappingLost = true;
            tx.close("the frontend disconnected: " + reason);
        }
        disconnect(reason);
        return false;
    }

    /** A fault on the mapping: disconnect, and never touch the mapping again. */
    private void onMemoryFault(final InternalError fault)
    {
        if (mappingLost)
        {
            return;
        }
        mappingLost = true;
        final String file = watch.checkFile();
        final String reason = "device memory faulted (" + fault.getMessage() + "): "
            + (file != null ? file : "the device file " + device.path() + " was changed under the mapping; the mapping is no longer touched");
        tx.close("the frontend disconnected: " + reason);
        disconnect(reason);
    }

    /** {@code fault} when it is a fault on mapped memory; any other InternalError is rethrown. */
    private static InternalError checked(final InternalError fault)
    {
        if (!MemoryFault.is(fault))
        {
            throw fault;
        }
        return fault;
    }

    private void disconnect(final String reason)
    {
        if (connected)
        {
            connected = false;
            disconnectReason = reason;
            if (reason == CLOSED_BY_APPLICATION)
            {
                LOG.info("frontend {} disconnected: {}", context.name(), reason);
            }
            else
            {
                LOG.error("frontend {} disconnected: {}", context.name(), reason);
            }
            if (!mappingLost)
            {
                device.setFrontendState(XenbusState.CLOSED);
            }
            doorbell.close();
        }
    }

    /** Packets sent and not yet completed; 0 after {@link #close()}, which accounted them. */
    @Override
    public int inFlight()
    {
        return closed ? 0 : tx.inFlight();
    }

    @Override
    public int maxFragmentLength()
    {
        return tx.maxFragmentLength();
    }

    @Override
    public void awaitWork(final long timeoutMillis)
    {
        if (closed || !connected)
        {
            return;
        }
        try
        {
            tx.flush();
            // Arm both rings' response events, then look again (RING_FINAL_CHECK_FOR_RESPONSES) so a
            // response that raced the arming is seen instead of slept through.
            if (txRing.finalCheckForResponses() | rxRing.finalCheckForResponses())
            {
                return;
            }
        }
        catch (final InternalError fault)
        {
            onMemoryFault(checked(fault));
            return;
        }
        try
        {
            // The action form of select: no selected-key set, so waking up allocates nothing. At
            // most MAX_SLEEP_MS, so that a sleeping frontend still watches its backend's heartbeat.
            selector.select(IGNORE_KEY, Math.max(1, Math.min(timeoutMillis, MAX_SLEEP_MS)));
        }
        catch (final IOException ex)
        {
            throw new SplitnetException("frontend " + context.name() + ": waiting on the doorbell failed: " + ex, ex);
        }
        checkPeer(System.nanoTime());
    }

    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        if (connected && !mappingLost)
        {
            device.setFrontendState(XenbusState.CLOSING);
        }
        disconnect(CLOSED_BY_APPLICATION);
        final int lost = tx.inFlight();
        if (lost > 0)
        {
            if (!mappingLost)
            {
                DeviceCounters.attach(device.countersValues()).get(DeviceCounter.TX_DISCONNECTED).getAndAddRelease(lost);
            }
            LOG.warn("frontend {} closed with {} packets in flight; poll until inFlight() is 0 to learn their fate", context.name(), lost);
        }
        closeQuietly(selector);
        tx.close("the frontend is closed");
        final java.nio.file.Path file = device.path();
        device.close();
        closeQuietly(backendFrames);
        if (fileKey == null || fileKey.equals(fileKeyOf(file)))
        {
            deleteQuietly(file);
        }
        else
        {
            LOG.warn("frontend {}: {} is no longer this frontend's file (another was put in its place); left alone",
                context.name(), file);
        }
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

    /** The backend's pid in this PID namespace as the kernel recorded it (SO_PEERCRED), 0 when unknown. */
    private static long peerPid(final Doorbell doorbell)
    {
        try
        {
            return dev.splitnet.mmap.PeerCredentials.of(doorbell.channel()).pid();
        }
        catch (final RuntimeException ex)
        {
            return 0;
        }
    }

    /** The file's device and inode (BasicFileAttributes.fileKey), or null when it cannot be read. */
    private static Object fileKeyOf(final java.nio.file.Path file)
    {
        try
        {
            return Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class,
                java.nio.file.LinkOption.NOFOLLOW_LINKS).fileKey();
        }
        catch (final IOException ex)
        {
            return null;
        }
    }

    private static void deleteQuietly(final java.nio.file.Path file)
    {
        try
        {
            Files.deleteIfExists(file);
        }
        catch (final IOException ignore)
        {
            // a leftover file is reported as stale at the next start
        }
    }
}

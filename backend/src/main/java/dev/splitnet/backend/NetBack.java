package dev.splitnet.backend;

import dev.splitnet.api.Backend;
import dev.splitnet.api.Features;
import dev.splitnet.api.ForwardingHandler;
import dev.splitnet.api.Packet;
import dev.splitnet.api.PacketHandler;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.Remedy;
import dev.splitnet.api.SplitnetException;
import dev.splitnet.api.XenbusState;
import dev.splitnet.mmap.BackendCounters;
import dev.splitnet.mmap.ClockCadence;
import dev.splitnet.mmap.ControlDescriptor;
import dev.splitnet.mmap.Device;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.DeviceCounters;
import dev.splitnet.mmap.DeviceDirectory;
import dev.splitnet.mmap.DeviceFileException;
import dev.splitnet.mmap.Doorbell;
import dev.splitnet.mmap.Handshake;
import dev.splitnet.mmap.IdleStrategies;
import dev.splitnet.mmap.JvmFlags;
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
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.agrona.DirectBuffer;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.IdleStrategy;
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
    private static final String SHUTDOWN = "backend shutting down";
    /** A gap between heartbeats worth a warning: beats come every 10 ms busy, every blockTimeoutMs (<= 250) idle. */
    private static final long BEAT_GAP_WARNING_NS = TimeUnit.MILLISECONDS.toNanos(300);
    /** How long after a truncating frontend's disconnect a late-delivered fault is still its own. */
    private static final long LATE_FAULT_WINDOW_NS = TimeUnit.SECONDS.toNanos(1);

    private final BackendContext context;
    private final DeviceDirectory directory;
    private final FileChannel lockChannel;
    private final FileLock lock;
    // the data agent's selector: doorbell sockets only (the conductor owns the listening socket)
    private final Selector selector;
    private final Conductor conductor;
    // the backend's own counters of every frontend, DIR/backend.counters (see BackendCountersDescriptor)
    private final BackendCounters backendCounters;
    // the context's handler bound to this backend once, so that no packet allocates a lambda
    private final PacketHandler handler;
    private final ForwardingHandler forwarding;
    // every frontend's held packets, by handle (and those of frontends gone, until completed)
    private final HeldPackets heldPackets = new HeldPackets();
    private final RxQueueLimits rxQueueLimits;
    // the thread running the duty cycle (complete() must be called on it), or null before the first
    // cycle. Volatile so that complete() on another thread sees it; written only when it changes
    // (once), so the duty cycle pays a volatile load, not a store fence, per cycle.
    private volatile Thread dutyThread;
    // the one RX claim (claimRx), reused
    private final BackendRxClaim rxClaim = new BackendRxClaim();
    private final Int2ObjectHashMap<Vif> byDomain = new Int2ObjectHashMap<>();
    private Vif[] vifs = new Vif[0];
    private int cycles;
    // which cycles that did work read the clock for housekeeping
    private final ClockCadence busyClock = new ClockCadence(false, System.nanoTime());
    private long nextHousekeepingNs;
    // when checkPeers last beat every frontend's heartbeat (0: never)
    private long lastBeatNs;
    // a vif being disconnected: out of the loop, not yet handed to the conductor
    private Vif retiring;
    // when a frontend whose file was truncated was last disconnected (0: never)
    private long lastTruncatedDisconnectNs;
    private boolean closed;
    private final java.util.function.Consumer<SelectionKey> onReadyKey = key ->
    {
        // doorbells are drained by checkPeers; waking up is all a ready key means
    };

    private NetBack(final BackendContext context, final DeviceDirectory directory, final FileChannel lockChannel,
        final FileLock lock, final Selector selector, final Conductor conductor, final BackendCounters backendCounters)
    {
        this.backendCounters = backendCounters;
        this.context = context;
        this.directory = directory;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.selector = selector;
        this.conductor = conductor;
        this.forwarding = context.handler();
        this.rxQueueLimits = context.rxQueueLimits();
        this.handler = packet -> forwarding.onPacket(this, packet);
    }

    /**
     * Creates the directory if needed, takes the backend lock and listens.
     *
     * @throws SplitnetException when another backend runs in the directory, or it cannot be used.
     */
    public static NetBack launch(final BackendContext context)
    {
        JvmFlags.check();
        context.conclude();
        final DeviceDirectory directory = DeviceDirectory.create(context.directory());
        directory.checkPrivateTo(dev.splitnet.mmap.DeviceFile.processUid(), context.distinctFrontendUids());
        FileChannel lockChannel = null;
        ServerSocketChannel server = null;
        BackendCounters backendCounters = null;
        try
        {
            final Path lockPath = directory.backendLockPath();
            // not following a symbolic link: the lock is the backend's own file, never another's
            lockChannel = FileChannel.open(lockPath, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            final FileLock lock = lockChannel.tryLock();
            if (lock == null)
            {
                throw new SplitnetException("another backend is running in " + directory.path()
                    + " (it holds " + lockPath + "); stop it or choose another directory", Remedy.DIRECTORY);
            }
            DeviceDirectory.setPermissions(lockPath, "rw-------");
            // The lock proves no live backend owns the socket file: a leftover one is stale.
            Files.deleteIfExists(directory.socketPath());
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(directory.socketPath()));
            // frontends of users of their own (in the directory's group) must be able to connect
            DeviceDirectory.setPermissions(directory.socketPath(), context.distinctFrontendUids() ? "rw-rw----" : "rw-------");
            server.configureBlocking(false);
            final Selector selector = Selector.open();
            backendCounters = BackendCounters.create(directory.path(), context.maxFrontends(), context.distinctFrontendUids());
            final Conductor conductor = new Conductor(context, directory, server, selector, backendCounters,
                new CopyMemory(context.copyMemoryBytes()));
            final NetBack backend = new NetBack(context, directory, lockChannel, lock, selector, conductor, backendCounters);
            conductor.start();
            LOG.info("backend listening on {} (pid {}, idle {})", directory.socketPath(), ProcessHandle.current().pid(), context.idleMode());
            return backend;
        }
        catch (final IOException ex)
        {
            closeQuietly(backendCounters);
            closeQuietly(server);
            closeQuietly(lockChannel);
            throw new SplitnetException("backend cannot listen in " + directory.path() + ": " + ex.getMessage()
                + "; check the directory is writable or choose another directory", Remedy.DIRECTORY, ex);
        }
        catch (final RuntimeException ex)
        {
            closeQuietly(backendCounters);
            closeQuietly(server);
            closeQuietly(lockChannel);
            throw ex;
        }
    }

    /**
     * A new idle strategy of the context's {@link BackendContext#idleMode()} for this backend's duty
     * cycle ({@link dev.splitnet.api.IdleMode#BLOCKING} sleeps in {@link #awaitWork} for at most
     * {@link BackendContext#blockTimeoutMs()}); {@link NetBackRunner#NetBackRunner(NetBack, java.util.function.Consumer)} uses it.
     */
    public IdleStrategy idleStrategy()
    {
        return IdleStrategies.of(context.idleMode(), this::awaitWork, context.blockTimeoutMs());
    }

    /** Connections waiting for their HELLO on the conductor (racy; for tests). */
    int conductorPendingCount()
    {
        return conductor.pendingCount();
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
        final Thread thread = Thread.currentThread();
        if (dutyThread != thread)
        {
            dutyThread = thread;
        }
        int work = 0;
        final Vif[] current = vifs;
        // deliveries waiting for RX buffers go first, before packets that would queue behind them
        long drainNow = 0;
        for (final Vif vif : current)
        {
            final RxQueue queue = vif.rxQueue();
            if (!queue.isEmpty())
            {
                drainNow = drainNow == 0 ? System.nanoTime() : drainNow;
                work += queue.drain(vif, drainNow);
            }
        }
        for (final Vif vif : current)
        {
            final int handled = vif.processTx(handler, context.txBudget());
            if (handled < 0)
            {
                disconnect(vif, vif.fatalReason());
            }
            else
            {
                work += handled;
            }
        }
        // the consumer's turn: completing held packets whose time has come, delivering what it queued
        work += forwarding.onDutyCycle(this);
        // RX deliveries made in this cycle (a switch delivers into other frontends while handling
        // one's TX) are published once per frontend per cycle, not once per packet
        for (final Vif vif : current)
        {
            vif.pushRx();
        }
        // Only then the TX responses: an OKAY is published after the RX rsp_prod of the packet it
        // reports (both are release stores on this thread, so the receiver's rsp_prod is visible
        // no later than the sender's OKAY). Before, a backend killed between the two left a
        // sender with an OKAY for a packet never delivered (KillHarnessIT found it).
        for (final Vif vif : current)
        {
            vif.pushTxResponses();
        }
        // Housekeeping (adopting frontends the conductor connected, draining doorbells, noticing
        // dead peers, the heartbeat) runs on a clock, not per cycle: a syscall per cycle would cost
        // more than the packets. The clock is read every 64 empty cycles (cheap ones), and after
        // cycles that did work as often as ClockCadence says: every one while they take long (a
        // busy cycle on a loaded machine can take milliseconds, and 64 of them would put the
        // heartbeat frontends watch late), every 16th while they are short. Connecting happens on the conductor.
        if (work > 0 ? busyClock.due() : (++cycles & 63) == 0)
        {
            final long now = System.nanoTime();
            busyClock.read(now);
            if (now - nextHousekeepingNs >= 0)
            {
                nextHousekeepingNs = now + HOUSEKEEPING_INTERVAL_NS;
                work += adoptConnected();
                checkPeers();
                flushCancelledKeys();
                // late copies and drops of held packets; their responses are pushed at the next cycle
                work += heldPackets.expire(now);
                // lent frames past the lend deadline come back (a violation disconnects at the next cycle)
                for (final Vif vif : vifs)
                {
                    vif.expireLent(now);
                }
            }
        }
        return work;
    }

    /**
     * A doorbell the conductor closed stays open until this selector drops its cancelled key,
     * which only a select does: without it a spinning backend would leak one socket per
     * disconnect. The action form of selectNow builds no selected-key set: allocation-free.
     */
    private void flushCancelledKeys()
    {
        try
        {
            selector.selectNow(onReadyKey);
        }
        catch (final IOException ex)
        {
            LOG.warn("backend: doorbell selector failed: {}", ex.toString());
        }
    }

    /**
     * Takes over the vifs the conductor connected: registers their doorbells and starts serving
     * them. A vif leaves the queue only once it is served (peek, then poll): a fault the JVM
     * delivers late can interrupt this anywhere without losing a frontend.
     */
    private int adoptConnected()
    {
        int adopted = 0;
        Vif vif;
        while ((vif = conductor.peekConnected()) != null)
        {
            if (!byDomain.containsKey(vif.domainId()))
            {
                try
                {
                    vif.doorbell().channel().register(selector, SelectionKey.OP_READ);
                }
                catch (final IOException ex)
                {
                    LOG.warn("domain {}: doorbell cannot be watched: {}", vif.domainId(), ex.toString());
                    conductor.pollConnected();
                    conductor.retire(vif);
                    continue;
                }
                add(vif);
                adopted++;
            }
            conductor.pollConnected();
        }
        return adopted;
    }

    /**
     * Beats every frontend's heartbeat, drains doorbells and notices frontends that closed or died. A flooding doorbell stops waking
     * the blocking idle step until a drain finds it quiet again (its rings are still polled every
     * cycle: doorbells only wake), so a frontend ringing without pause costs one bounded drain per
     * housekeeping tick or wake-up and cannot keep the backend from sleeping or from serving others.
     */
    private void checkPeers()
    {
        final long now = System.nanoTime();
        if (lastBeatNs != 0 && now - lastBeatNs > BEAT_GAP_WARNING_NS && vifs.length > 0)
        {
            // frontends give up on a backend whose heartbeat stands still for their backendTimeoutMs
            LOG.warn("backend: {} ms between heartbeats (the duty thread was paused, starved of CPU or held up by a handler); "
                + "frontends warn after their backend timeout (default 500 ms) and give up after ten of them",
                TimeUnit.NANOSECONDS.toMillis(now - lastBeatNs));
        }
        lastBeatNs = now;
        for (final Vif vif : vifs)
        {
            // housekeeping runs at least every blockTimeoutMs (<= 250 ms), blocked or not: the beat
            // tells the frontend this duty cycle is alive where the open socket cannot
            vif.beat();
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
        if (adoptConnected() > 0)
        {
            return;
        }
        // held packets have deadlines, and their holder's onDutyCycle its own times: sleep briefly
        final long timeout = heldPackets.heldCount() > 0 ? Math.min(timeoutMillis, 1) : timeoutMillis;
        try
        {
            // The action form of select: no selected-key set, so waking up allocates nothing. The
            // conductor wakes this select when it hands a newly connected frontend over.
            selector.select(onReadyKey, timeout);
        }
        catch (final IOException ex)
        {
            throw new SplitnetException("backend: waiting on doorbells failed: " + ex, ex);
        }
        adoptConnected();
        checkPeers();
    }

    private void add(final Vif vif)
    {
        heldPackets.register(vif.pending());
        vif.rxQueue(new RxQueue(heldPackets, rxQueueLimits, vif.counters()));
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
        // the vif is out of the loop from here on; until the conductor has it, recovery finishes
        // the hand-over (a late fault may interrupt this method anywhere)
        retiring = vif;
        removeFromLoop(vif);
        rxClaim.forget(vif);
        final boolean tampered = vif.isTampered();
        if (tampered)
        {
            lastTruncatedDisconnectNs = System.nanoTime() | 1;
        }
        // memory that faults cannot be copied from: those held packets are dropped
        releaseHeld(vif, !tampered);
        // closing (unmapping, deleting a dead frontend's file) is the conductor's work, off this thread
        conductor.retire(vif);
        retiring = null;
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
    }

    /**
     * Lets go of what is held for or by a departing frontend, on the duty thread and before the
     * conductor unmaps its memory, so that no holder ever reads an unmapped page: deliveries
     * waiting for it are dropped (their senders told), then its own held packets are copied
     * ({@code copy}) or dropped, and their handles stay readable until completed.
     */
    private void releaseHeld(final Vif vif, final boolean copy)
    {
        if (vif.rxQueue() != null)
        {
            vif.rxQueue().dropAllAtDisconnect();
        }
        vif.pending().detach(copy);
        heldPackets.detached(vif.pending());
    }

    /** Takes a vif out of the duty cycle's array, if it is there. */
    private void removeFromLoop(final Vif vif)
    {
        final Vif[] next = new Vif[vifs.length];
        int n = 0;
        for (final Vif v : vifs)
        {
            if (v != vif)
            {
                next[n++] = v;
            }
        }
        vifs = n == next.length ? next : java.util.Arrays.copyOf(next, n);
    }

    /** Hands the conductor a vif whose disconnect a late fault interrupted. */
    private void finishRetiring()
    {
        final Vif vif = retiring;
        if (vif != null)
        {
            retiring = null;
            removeFromLoop(vif);
            conductor.retire(vif);
        }
    }

    /**
     * Called after an access to shared memory failed (the JVM reports a fault on a mapping as an
     * {@link InternalError}, sometimes only at the next safepoint): a frontend truncated its
     * device file under the mapping, or made a hole in it (truncated and regrew it, punched one).
     * Disconnects every frontend whose file is shorter than its layout or has a hole; a fault that surfaces after such a frontend was already disconnected (the JVM may
     * deliver it late) is put down to that frontend if it went within {@link #LATE_FAULT_WINDOW_NS}.
     *
     * @return whether the fault was attributed (the error is then explained and handled); when it
     *         was not, the caller must {@link #abandonAll} the frontends: the backend can no longer
     *         tell which memory is good.
     */
    public boolean recoverFromMemoryFault(final Throwable fault)
    {
        finishRetiring();
        // a fault while a claim was being written (copying from a sender whose memory went) left it
        // open: it ends here, its frames back to their pool, so the next claimRx works
        rxClaim.abortIfOpen();
        boolean found = false;
        for (final Vif vif : vifs)
        {
            if (vif.isTampered())
            {
                found = true;
                disconnect(vif, "device file truncated or holed under the mapping (" + fault.getClass().getSimpleName()
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
        rxClaim.forgetAll();
        LOG.error("backend: {}; disconnecting all {} frontends and refusing new ones", reason, vifs.length);
        for (final Vif vif : vifs)
        {
            LOG.error("domain {} ({}) disconnected: {}", vif.domainId(), vif.name(), reason);
            // its memory may be what faults: held packets are dropped, not copied
            releaseHeld(vif, false);
            vif.abandon();
        }
        vifs = new Vif[0];
        byDomain.clear();
        conductor.close();
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
    public PacketStatus forward(final int domainId, final Packet packet)
    {
        final Vif vif = byDomain.get(domainId);
        return vif == null ? PacketStatus.ERROR : vif.forward(packet);
    }

    @Override
    public PacketStatus deliver(final int domainId, final DirectBuffer buffer, final int offset, final int length)
    {
        final Vif vif = byDomain.get(domainId);
        return vif == null ? PacketStatus.ERROR : vif.deliver(buffer, offset, length);
    }

    @Override
    public dev.splitnet.api.RxClaim claimRx(final int domainId, final int length)
    {
        return rxClaim.open(byDomain.get(domainId), length);
    }

    @Override
    public Packet held(final long handle)
    {
        return heldPackets.held(handle);
    }

    @Override
    public boolean complete(final long handle, final PacketStatus status)
    {
        if (status == null || status == PacketStatus.DISCONNECTED)
        {
            throw new IllegalArgumentException("complete: status=" + status + " is not a status a backend can answer with; use OKAY, ERROR or DROPPED");
        }
        final Thread current = Thread.currentThread();
        if (dutyThread != null && current != dutyThread)
        {
            throw new IllegalStateException("complete: called on thread=" + current.getName() + ", not the backend's duty-cycle thread="
                + dutyThread.getName() + "; complete held packets from a handler or ForwardingHandler.onDutyCycle");
        }
        return heldPackets.complete(handle, status);
    }

    @Override
    public int heldCount()
    {
        return heldPackets.heldCount();
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
        // the conductor first: once it has stopped, retired vifs are closed at once, on this thread
        conductor.close();
        for (final Vif vif : vifs)
        {
            disconnect(vif, SHUTDOWN);
        }
        // the backend is going: copies of held packets go with it (handles read as dropped)
        heldPackets.dropAll();
        closeQuietly(selector);
        closeQuietly(backendCounters);
        try
        {
            Files.deleteIfExists(BackendCounters.pathIn(directory.path()));
        }
        catch (final IOException ignore)
        {
            // the next backend replaces it
        }
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

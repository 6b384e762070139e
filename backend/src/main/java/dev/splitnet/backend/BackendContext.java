package dev.splitnet.backend;

import dev.splitnet.api.Features;
import dev.splitnet.api.ForwardingHandler;
import dev.splitnet.api.IdleMode;
import dev.splitnet.api.PacketHandler;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.mmap.DeviceDirectory;
import java.nio.file.Path;

/** Everything a backend is configured with; {@link #conclude()} validates it all and fails fast. */
public final class BackendContext
{
    public static final String DIR_PROP = "splitnet.dir";
    public static final String IDLE_PROP = "splitnet.backend.idle";
    public static final String MAX_FRONTENDS_PROP = "splitnet.backend.max.frontends";
    public static final String ALLOW_FILE_MEMORY_PROP = "splitnet.backend.allow.file.memory";
    /** The longest a blocked backend goes without beating (see {@link #blockTimeoutMs}). */
    public static final long MAX_BLOCK_TIMEOUT_MS = 250;

    private Path directory = Path.of(System.getProperty(DIR_PROP, DeviceDirectory.defaultPath().toString()));
    private IdleMode idleMode = IdleMode.valueOf(System.getProperty(IDLE_PROP, IdleMode.BACKOFF.name()));
    private int maxFrontends = Integer.getInteger(MAX_FRONTENDS_PROP, 64);
    private int txBudget = 64;
    private long acceptedFeatures = Features.SUPPORTED;
    private long blockTimeoutMs = 100;
    private ForwardingHandler handler = (backend, packet) -> PacketStatus.OKAY;
    private boolean distinctFrontendUids;
    private boolean allowFileMemory = Boolean.getBoolean(ALLOW_FILE_MEMORY_PROP);
    private long holdCopyDeadlineMs = 500;
    private long holdDropLimitMs = 30_000;
    private double holdPressureShare = 0.5;
    private long copyMemoryBytes = 16L << 20;
    private long copyMemoryPerFrontendBytes = 512L << 10;
    private long rxQueueBytes = 512L << 10;
    private long rxDrainTimeoutMs = 10_000;
    private long rxStallTimeoutMs = 60_000;
    private long senderPauseMs = 500;
    private RxOrder rxOrder = RxOrder.POSTED;
    private RxMode rxMode = RxMode.LAZY;
    private int rxCopybreak = 1024;
    private int rxPoolFrames;
    private long lendDeadlineMs = 1000;

    public BackendContext directory(final Path directory)
    {
        this.directory = directory;
        return this;
    }

    public Path directory()
    {
        return directory;
    }

    /**
     * How the backend's duty cycle waits when no frontend has work: {@link NetBack#idleStrategy()}
     * builds the strategy, and {@link NetBackRunner#NetBackRunner(NetBack, java.util.function.Consumer)} runs it.
     * {@link IdleMode#BLOCKING} sleeps on the doorbells for at most {@link #blockTimeoutMs()}.
     */
    public BackendContext idleMode(final IdleMode idleMode)
    {
        this.idleMode = idleMode;
        return this;
    }

    public IdleMode idleMode()
    {
        return idleMode;
    }

    public BackendContext maxFrontends(final int maxFrontends)
    {
        this.maxFrontends = maxFrontends;
        return this;
    }

    public int maxFrontends()
    {
        return maxFrontends;
    }

    /** Packets taken from one frontend per duty cycle, so one busy frontend cannot starve others. */
    public BackendContext txBudget(final int txBudget)
    {
        this.txBudget = txBudget;
        return this;
    }

    public int txBudget()
    {
        return txBudget;
    }

    /** Features the backend agrees to when a frontend offers them. */
    public BackendContext acceptedFeatures(final long acceptedFeatures)
    {
        this.acceptedFeatures = acceptedFeatures;
        return this;
    }

    public long acceptedFeatures()
    {
        return acceptedFeatures;
    }

    /**
     * Longest block on the doorbells in {@link IdleMode#BLOCKING}: liveness is checked, and the
     * heartbeat frontends watch is written, at least that often. At most 250 ms, half of a
     * frontend's default backend timeout.
     */
    public BackendContext blockTimeoutMs(final long blockTimeoutMs)
    {
        this.blockTimeoutMs = blockTimeoutMs;
        return this;
    }

    public long blockTimeoutMs()
    {
        return blockTimeoutMs;
    }

    /**
     * Refuse a frontend whose process runs as the same uid as a connected one: with each frontend
     * its own user (and the device files 0600), no frontend can write another's memory or file.
     * Off by default: every frontend normally runs as the backend's user.
     */
    public BackendContext distinctFrontendUids(final boolean distinctFrontendUids)
    {
        this.distinctFrontendUids = distinctFrontendUids;
        return this;
    }

    public boolean distinctFrontendUids()
    {
        return distinctFrontendUids;
    }

    /**
     * Accept frontends whose device memory is a file (no sealed memfd sent with the HELLO). Off by
     * default: a file-backed device can be truncated by its frontend (or any process of its user)
     * under the backend's mapping, a SIGBUS the backend can only put right after the fact, possibly
     * costing other frontends packets in flight; sealed memory cannot change size at all.
     */
    public BackendContext allowFileMemory(final boolean allowFileMemory)
    {
        this.allowFileMemory = allowFileMemory;
        return this;
    }

    public boolean allowFileMemory()
    {
        return allowFileMemory;
    }

    /** What to do with each transmitted packet. */
    public BackendContext handler(final PacketHandler handler)
    {
        this.handler = handler == null ? null : (backend, packet) -> handler.onPacket(packet);
        return this;
    }

    /** What to do with each transmitted packet, given the backend (to {@code deliver} it to other frontends). */
    public BackendContext handler(final ForwardingHandler handler)
    {
        this.handler = handler;
        return this;
    }

    /** The handler, in its forwarding form (one given with {@link #handler(PacketHandler)} ignores the backend). */
    public ForwardingHandler handler()
    {
        return handler;
    }

    /**
     * How long a consumer may hold a packet ({@link dev.splitnet.api.Packet#hold()}) before the
     * backend copies it into its own memory and answers its frontend (default 500 ms, as Herbert
     * Xu's netloop patch).
     */
    public BackendContext holdCopyDeadlineMs(final long holdCopyDeadlineMs)
    {
        this.holdCopyDeadlineMs = holdCopyDeadlineMs;
        return this;
    }

    public long holdCopyDeadlineMs()
    {
        return holdCopyDeadlineMs;
    }

    /** How long after it was held a packet's late copy is dropped if its holder never completes it (default 30 s). */
    public BackendContext holdDropLimitMs(final long holdDropLimitMs)
    {
        this.holdDropLimitMs = holdDropLimitMs;
        return this;
    }

    public long holdDropLimitMs()
    {
        return holdDropLimitMs;
    }

    /**
     * The share of a frontend's TX ring that may be unanswered while packets are held (default
     * 0.5): past it the oldest held packets are copied and answered, so that a slow consumer never
     * stalls a frontend.
     */
    public BackendContext holdPressureShare(final double holdPressureShare)
    {
        this.holdPressureShare = holdPressureShare;
        return this;
    }

    public double holdPressureShare()
    {
        return holdPressureShare;
    }

    /** The backend's memory for late copies of held packets, all frontends together (default 16 MiB, allocated at launch). */
    public BackendContext copyMemoryBytes(final long copyMemoryBytes)
    {
        this.copyMemoryBytes = copyMemoryBytes;
        return this;
    }

    public long copyMemoryBytes()
    {
        return copyMemoryBytes;
    }

    /** One frontend's share of the copy memory at most (default 512 KiB, netback's cap on a guest's queue). */
    public BackendContext copyMemoryPerFrontendBytes(final long copyMemoryPerFrontendBytes)
    {
        this.copyMemoryPerFrontendBytes = copyMemoryPerFrontendBytes;
        return this;
    }

    public long copyMemoryPerFrontendBytes()
    {
        return copyMemoryPerFrontendBytes;
    }

    /**
     * Bytes of deliveries that may wait for one frontend's RX buffers (default 512 KiB, netback's
     * {@code XENVIF_RX_QUEUE_BYTES}); 0 turns the queue off (a delivery without buffers is dropped at once).
     */
    public BackendContext rxQueueBytes(final long rxQueueBytes)
    {
        this.rxQueueBytes = rxQueueBytes;
        return this;
    }

    public long rxQueueBytes()
    {
        return rxQueueBytes;
    }

    /** How long a queued delivery may wait for RX buffers before the queue is dropped (default 10 s, netback's rx_drain_timeout_msecs). */
    public BackendContext rxDrainTimeoutMs(final long rxDrainTimeoutMs)
    {
        this.rxDrainTimeoutMs = rxDrainTimeoutMs;
        return this;
    }

    public long rxDrainTimeoutMs()
    {
        return rxDrainTimeoutMs;
    }

    /**
     * After how long without RX buffers a frontend counts as stalled: deliveries to it are then
     * dropped at once until it posts again (default 60 s, netback's rx_stall_timeout_msecs).
     */
    public BackendContext rxStallTimeoutMs(final long rxStallTimeoutMs)
    {
        this.rxStallTimeoutMs = rxStallTimeoutMs;
        return this;
    }

    public long rxStallTimeoutMs()
    {
        return rxStallTimeoutMs;
    }

    /**
     * How long the backend may leave a frontend's TX requests unread while more than
     * {@link #holdPressureShare()} of its ring waits in slower frontends' RX queues (default 500 ms,
     * the copy deadline). Meanwhile its ring fills and its sends report BACK_PRESSURED: it slows to
     * its receivers' pace instead of losing packets. Past it, packets that would queue are dropped
     * ({@code tx_queued_dropped_pressure}) until the queues drain; 0 drops at once, never pausing.
     * A pause longer than {@link #rxDrainTimeoutMs()} ends there anyway: the queue is dropped.
     */
    public BackendContext senderPauseMs(final long senderPauseMs)
    {
        this.senderPauseMs = senderPauseMs;
        return this;
    }

    public long senderPauseMs()
    {
        return senderPauseMs;
    }

    /**
     * The order receive buffers are filled in (default {@link RxOrder#POSTED}; {@link RxOrder#SHUFFLE}
     * applies to frontends on ring v2 only).
     */
    public BackendContext rxOrder(final RxOrder rxOrder)
    {
        this.rxOrder = rxOrder;
        return this;
    }

    public RxOrder rxOrder()
    {
        return rxOrder;
    }

    /**
     * How packets claimed in backend frames reach frontends that negotiated lazy-rx (default
     * {@link RxMode#LAZY}: lent, copied only when needed, never lost to a deadline; {@link RxMode#COPY}
     * declines the feature; see {@link RxMode} and docs/PROTOCOL.md 6.5 for why).
     */
    public BackendContext rxMode(final RxMode rxMode)
    {
        this.rxMode = rxMode;
        return this;
    }

    public RxMode rxMode()
    {
        return rxMode;
    }

    /**
     * Claims shorter than this many bytes (default 1024) are copied into the frontend's buffers
     * even where they could be lent, as NIC drivers copy small packets ({@code rx_copybreak}): below
     * about 1 KiB a copy costs less than the lend's P2M hand-over (docs/PROTOCOL.md 6.5). 0 lends
     * every claim.
     */
    public BackendContext rxCopybreak(final int rxCopybreak)
    {
        this.rxCopybreak = rxCopybreak;
        return this;
    }

    public int rxCopybreak()
    {
        return rxCopybreak;
    }

    /**
     * Backend frames created for each lazy-rx frontend (default 0: one per receive buffer of the
     * frontend and 16 more, so a frontend that posts its buffers again rarely finds no consecutive
     * frames for a 64 KiB packet).
     */
    public BackendContext rxPoolFrames(final int rxPoolFrames)
    {
        this.rxPoolFrames = rxPoolFrames;
        return this;
    }

    public int rxPoolFrames()
    {
        return rxPoolFrames;
    }

    /**
     * How long a frontend may keep a lent frame without posting its buffer again (default 1000 ms):
     * then the backend takes it back, copying it into the frontend's own frame in lazy mode,
     * dropping its packet in flip mode.
     */
    public BackendContext lendDeadlineMs(final long lendDeadlineMs)
    {
        this.lendDeadlineMs = lendDeadlineMs;
        return this;
    }

    public long lendDeadlineMs()
    {
        return lendDeadlineMs;
    }

    RxQueueLimits rxQueueLimits()
    {
        return new RxQueueLimits(rxQueueBytes, java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(rxDrainTimeoutMs),
            java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(rxStallTimeoutMs));
    }

    /** The hold limits as the pending tables use them. */
    HoldLimits holdLimits()
    {
        return new HoldLimits(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(holdCopyDeadlineMs),
            java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(holdDropLimitMs), holdPressureShare, copyMemoryPerFrontendBytes,
            java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(senderPauseMs));
    }

    public BackendContext conclude()
    {
        if (directory == null)
        {
            throw new IllegalArgumentException("directory must be set");
        }
        if (maxFrontends < 1 || maxFrontends > 0x7FEF)
        {
            throw new IllegalArgumentException("maxFrontends=" + maxFrontends + " must be 1 to " + 0x7FEF);
        }
        if (txBudget < 1)
        {
            throw new IllegalArgumentException("txBudget=" + txBudget + " must be >= 1");
        }
        if (blockTimeoutMs < 1 || blockTimeoutMs > MAX_BLOCK_TIMEOUT_MS)
        {
            throw new IllegalArgumentException("blockTimeoutMs=" + blockTimeoutMs + " must be 1 to " + MAX_BLOCK_TIMEOUT_MS
                + " (the heartbeat frontends watch is written that often)");
        }
        if (rxOrder == null)
        {
            throw new IllegalArgumentException("rxOrder must be set: POSTED or SHUFFLE");
        }
        if (rxMode == null)
        {
            throw new IllegalArgumentException("rxMode must be set: COPY, FLIP or LAZY");
        }
        if (rxCopybreak < 0 || rxCopybreak > dev.splitnet.api.NetifConstants.XEN_NETIF_MAX_TX_SIZE + 1)
        {
            throw new IllegalArgumentException("rxCopybreak=" + rxCopybreak + " must be 0 (lend every claim) to "
                + (dev.splitnet.api.NetifConstants.XEN_NETIF_MAX_TX_SIZE + 1) + " (lend none)");
        }
        if (rxPoolFrames < 0 || rxPoolFrames > dev.splitnet.mmap.BackendFrames.MAX_FRAMES || lendDeadlineMs < 1)
        {
            throw new IllegalArgumentException("rxPoolFrames=" + rxPoolFrames + " lendDeadlineMs=" + lendDeadlineMs
                + ": the pool must be 0 (as many frames as the frontend's receive buffers) to "
                + dev.splitnet.mmap.BackendFrames.MAX_FRAMES + " frames, and the deadline >= 1 ms");
        }
        if (handler == null)
        {
            throw new IllegalArgumentException("handler must be set");
        }
        if (holdCopyDeadlineMs < 1 || holdDropLimitMs < holdCopyDeadlineMs)
        {
            throw new IllegalArgumentException("holdCopyDeadlineMs=" + holdCopyDeadlineMs + " holdDropLimitMs=" + holdDropLimitMs
                + ": the copy deadline must be >= 1 ms and the drop limit no shorter than it");
        }
        if (!(holdPressureShare > 0 && holdPressureShare <= 1))
        {
            throw new IllegalArgumentException("holdPressureShare=" + holdPressureShare + " must be above 0 and at most 1");
        }
        if (senderPauseMs < 0)
        {
            throw new IllegalArgumentException("senderPauseMs=" + senderPauseMs + " must be >= 0 (0: never pause a sender)");
        }
        if (rxQueueBytes < 0 || rxDrainTimeoutMs < 1 || rxStallTimeoutMs < 1)
        {
            throw new IllegalArgumentException("rxQueueBytes=" + rxQueueBytes + " rxDrainTimeoutMs=" + rxDrainTimeoutMs
                + " rxStallTimeoutMs=" + rxStallTimeoutMs + ": the queue must be >= 0 bytes and the timeouts >= 1 ms");
        }
        if (copyMemoryBytes < 0 || copyMemoryBytes > (1L << 30) || copyMemoryPerFrontendBytes < 0)
        {
            throw new IllegalArgumentException("copyMemoryBytes=" + copyMemoryBytes + " copyMemoryPerFrontendBytes="
                + copyMemoryPerFrontendBytes + ": the copy memory must be 0 to 1 GiB, and a frontend's share >= 0 (0: held packets are dropped at the deadline)");
        }
        return this;
    }
}

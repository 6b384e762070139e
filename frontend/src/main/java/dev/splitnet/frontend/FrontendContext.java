package dev.splitnet.frontend;

import dev.splitnet.api.Features;
import dev.splitnet.mmap.DeviceDirectory;
import dev.splitnet.mmap.DeviceGeometry;
import dev.splitnet.mmap.DeviceLayout;
import dev.splitnet.mmap.RingFormat;
import java.nio.file.Path;

/**
 * Everything a frontend is configured with; {@link #conclude()} validates it all and fails fast.
 * Each setting has a system property, read as the default.
 */
public final class FrontendContext
{
    public static final String DIR_PROP = "splitnet.dir";
    public static final String NAME_PROP = "splitnet.frontend.name";
    public static final String RING_PAGES_PROP = "splitnet.frontend.ring.pages";
    public static final String HEADER_SLOT_SIZE_PROP = "splitnet.frontend.header.slot.size";
    public static final String TX_FRAMES_PROP = "splitnet.frontend.tx.frames";
    public static final String RX_FRAMES_PROP = "splitnet.frontend.rx.frames";
    public static final String CONNECT_TIMEOUT_MS_PROP = "splitnet.frontend.connect.timeout.ms";
    public static final String TX_PUSH_BATCH_PROP = "splitnet.frontend.tx.push.batch";
    /** {@code sealed} (the default) or {@code file}: where the device memory lives. */
    public static final String MEMORY_PROP = "splitnet.frontend.memory";
    public static final String BACKEND_TIMEOUT_MS_PROP = "splitnet.frontend.backend.timeout.ms";

    private Path directory = Path.of(System.getProperty(DIR_PROP, DeviceDirectory.defaultPath().toString()));
    private String name = System.getProperty(NAME_PROP, "fe-" + ProcessHandle.current().pid());
    private int ringPages = Integer.getInteger(RING_PAGES_PROP, 1);
    private int headerSlotSize = Integer.getInteger(HEADER_SLOT_SIZE_PROP, 128);
    private int txFrames = Integer.getInteger(TX_FRAMES_PROP, 1024);
    private int rxFrames = Integer.getInteger(RX_FRAMES_PROP, 256);
    private int rxSpanFrames = dev.splitnet.mmap.NetifLimits.MAX_RX_SPAN_FRAMES;
    private long connectTimeoutMs = Long.getLong(CONNECT_TIMEOUT_MS_PROP, 10_000L);
    private int txPushBatch = Integer.getInteger(TX_PUSH_BATCH_PROP, 1);
    private long backendTimeoutMs = Long.getLong(BACKEND_TIMEOUT_MS_PROP, 500L);
    private long features = Features.DEFAULT;
    private int initialRingIndex;
    private boolean replaceStale;
    private boolean sealedMemory = !"file".equals(System.getProperty(MEMORY_PROP, "sealed"));
    private DeviceGeometry geometry;

    public FrontendContext directory(final Path directory)
    {
        this.directory = directory;
        return this;
    }

    public Path directory()
    {
        return directory;
    }

    /** The device name; the file is {@code NAME.dev} in the directory. */
    public FrontendContext name(final String name)
    {
        this.name = name;
        return this;
    }

    public String name()
    {
        return name;
    }

    /** Pages per shared ring, a power of two (1 gives Xen's 256-entry rings). */
    public FrontendContext ringPages(final int ringPages)
    {
        this.ringPages = ringPages;
        return this;
    }

    public FrontendContext headerSlotSize(final int headerSlotSize)
    {
        this.headerSlotSize = headerSlotSize;
        return this;
    }

    /** 4 KiB frames for transmit payloads. */
    public FrontendContext txFrames(final int txFrames)
    {
        this.txFrames = txFrames;
        return this;
    }

    /** 4 KiB receive buffers. */
    public FrontendContext rxFrames(final int rxFrames)
    {
        this.rxFrames = rxFrames;
        return this;
    }

    /**
     * With {@link Features#RX_SPANS} negotiated: the frames each receive buffer spans, 1 to 7
     * (default 7: a 64 KiB packet in three buffers). The RX frames make {@code rxFrames / rxSpanFrames}
     * buffers then, so a frontend receiving small packets keeps fewer of them in flight; without
     * rx-spans every buffer is one frame.
     */
    public FrontendContext rxSpanFrames(final int rxSpanFrames)
    {
        this.rxSpanFrames = rxSpanFrames;
        return this;
    }

    public int rxSpanFrames()
    {
        return rxSpanFrames;
    }

    /** How long to wait for a backend to listen and answer; 0 fails at once. */
    public FrontendContext connectTimeoutMs(final long connectTimeoutMs)
    {
        this.connectTimeoutMs = connectTimeoutMs;
        return this;
    }

    public long connectTimeoutMs()
    {
        return connectTimeoutMs;
    }

    /**
     * Committed packets per publication of the TX ring's req_prod (a volatile store, a full fence
     * and an event check). 1, the default, publishes every packet at commit, as Xen's netfront
     * does. N > 1 is Linux netfront's xmit_more: the store is made once per N packets, and every
     * {@code poll()} and {@code awaitWork()} publishes whatever is pending, so a sender that
     * polls (as it must, for completions) never strands a packet.
     */
    public FrontendContext txPushBatch(final int txPushBatch)
    {
        this.txPushBatch = txPushBatch;
        return this;
    }

    public int txPushBatch()
    {
        return txPushBatch;
    }

    /**
     * How long the backend's heartbeat may stand still before the frontend disconnects (a stopped
     * or hung backend whose socket is still open). The backend beats at least every 250 ms.
     */
    public FrontendContext backendTimeoutMs(final long backendTimeoutMs)
    {
        this.backendTimeoutMs = backendTimeoutMs;
        return this;
    }

    public long backendTimeoutMs()
    {
        return backendTimeoutMs;
    }

    /** Features to offer; the backend accepts a subset. */
    public FrontendContext features(final long features)
    {
        this.features = features;
        return this;
    }

    public long features()
    {
        return features;
    }

    /** Where the free-running ring indices start (Xen: 0). */
    public FrontendContext initialRingIndex(final int initialRingIndex)
    {
        this.initialRingIndex = initialRingIndex;
        return this;
    }

    public int initialRingIndex()
    {
        return initialRingIndex;
    }

    /** Replace a device file left by a frontend that died, instead of refusing. */
    public FrontendContext replaceStale(final boolean replaceStale)
    {
        this.replaceStale = replaceStale;
        return this;
    }

    public boolean replaceStale()
    {
        return replaceStale;
    }

    /**
     * Keep the device memory in a sealed memfd (the default): it cannot be resized once made, so
     * nothing can truncate it under the backend's mapping, and it reaches the backend only as a
     * descriptor passed with the HELLO; {@code DIR/NAME.dev} is then a small claim file. With
     * {@code false} the memory is the file {@code DIR/NAME.dev} itself (kernels without memfd, or
     * to look at the memory with file tools); the backend must be told to accept that.
     */
    public FrontendContext sealedMemory(final boolean sealedMemory)
    {
        this.sealedMemory = sealedMemory;
        return this;
    }

    public boolean sealedMemory()
    {
        return sealedMemory;
    }

    public DeviceGeometry geometry()
    {
        return geometry;
    }

    /**
     * How many packets of at most {@code maxPacketLength} bytes (header and payload) may be on their
     * way to this frontend at once, delivered by the backend and not yet handed to the application
     * by {@code poll}, with none of them {@code DROPPED} for want of receive buffers: the buffers the
     * frontend posts (its RX frames, at most the RX ring's entries, of ring v2's when it is offered) over the 4 KiB buffers one such
     * packet fills. The backend holds no packet for a frontend without buffers: it drops it (counted
     * as {@code rx_dropped_no_buffer} on the receiver, the sender's completion says DROPPED). An
     * application that echoes keeps its packets sent and not yet received back within this window.
     */
    public int rxWindow(final int maxPacketLength)
    {
        if (maxPacketLength < 0 || maxPacketLength > dev.splitnet.api.NetifConstants.XEN_NETIF_MAX_TX_SIZE)
        {
            throw new IllegalArgumentException("maxPacketLength=" + maxPacketLength + " must be 0 to "
                + dev.splitnet.api.NetifConstants.XEN_NETIF_MAX_TX_SIZE);
        }
        final DeviceGeometry shape = DeviceGeometry.of(ringPages, headerSlotSize, txFrames, rxFrames);
        // with ring v2 on offer, its ring (half as many entries a page): a backend that declines
        // it leaves Xen's, which holds more, so the window is never too large
        final int ringEntries = (features & Features.RING_V2) != 0
            ? RingFormat.V2.entries(ringPages * DeviceLayout.PAGE_SIZE, false) : shape.rxRingEntries();
        final int buffers = Math.min(shape.rxFrameCount(), ringEntries);
        final int perPacket = Math.max(1, (maxPacketLength + DeviceLayout.PAGE_SIZE - 1) / DeviceLayout.PAGE_SIZE);
        if ((features & Features.RX_SPANS) == 0 || rxSpanFrames == 1)
        {
            return buffers / perPacket;
        }
        // with rx-spans on offer, the smaller of both windows: the backend may decline it
        final int spanBytes = rxSpanFrames * DeviceLayout.PAGE_SIZE;
        final int spans = Math.min(shape.rxFrameCount() / rxSpanFrames, ringEntries);
        return Math.min(buffers / perPacket, spans / Math.max(1, (maxPacketLength + spanBytes - 1) / spanBytes));
    }

    /** With rx-spans offered: the span is 1 to 7 frames, and the buffers it makes hold a packet of the largest size. */
    private void checkRxSpans()
    {
        final int max = dev.splitnet.mmap.NetifLimits.MAX_RX_SPAN_FRAMES;
        if (rxSpanFrames < 1 || rxSpanFrames > max)
        {
            throw new IllegalArgumentException("rxSpanFrames=" + rxSpanFrames + " must be 1 to " + max);
        }
        final long bytes = (long)(rxFrames / rxSpanFrames) * rxSpanFrames * DeviceLayout.PAGE_SIZE;
        if (bytes < dev.splitnet.api.NetifConstants.XEN_NETIF_MAX_TX_SIZE)
        {
            throw new IllegalArgumentException("rxSpanFrames=" + rxSpanFrames + " makes rxFrames=" + rxFrames + " into "
                + rxFrames / rxSpanFrames + " buffers of " + rxSpanFrames * DeviceLayout.PAGE_SIZE + " bytes, too few for a packet of "
                + dev.splitnet.api.NetifConstants.XEN_NETIF_MAX_TX_SIZE + " bytes; give more rxFrames or a smaller span");
        }
    }

    /** Validates every setting; throws IllegalArgumentException naming the bad one. */
    public FrontendContext conclude()
    {
        if (directory == null)
        {
            throw new IllegalArgumentException("directory must be set");
        }
        if (connectTimeoutMs < 0)
        {
            throw new IllegalArgumentException("connectTimeoutMs=" + connectTimeoutMs + " must be >= 0");
        }
        if (txPushBatch < 1 || txPushBatch > 4096)
        {
            throw new IllegalArgumentException("txPushBatch=" + txPushBatch + " must be 1 to 4096");
        }
        if (backendTimeoutMs < 300 || backendTimeoutMs > 3_600_000)
        {
            throw new IllegalArgumentException("backendTimeoutMs=" + backendTimeoutMs
                + " must be 300 to 3600000 (the backend beats at least every 250 ms)");
        }
        if ((features & ~Features.SUPPORTED) != 0)
        {
            throw new IllegalArgumentException("features=" + Features.describe(features)
                + " includes ones this build does not implement; supported: " + Features.describe(Features.SUPPORTED));
        }
        if ((features & Features.LAZY_RX) != 0 && (features & Features.PERMANENT_GRANTS) == 0)
        {
            throw new IllegalArgumentException("features=" + Features.describe(features) + ": lazy-rx needs permanent-grants "
                + "(a lent receive buffer stays granted); offer both");
        }
        if ((features & Features.RX_SPANS) != 0 && (features & Features.PERMANENT_GRANTS) == 0)
        {
            throw new IllegalArgumentException("features=" + Features.describe(features) + ": rx-spans needs permanent-grants "
                + "(a span's grefs are checked as a held range); offer both");
        }
        dev.splitnet.mmap.ControlDescriptor.checkDeviceName(name);
        geometry = DeviceGeometry.of(ringPages, headerSlotSize, txFrames, rxFrames);
        if ((features & Features.RX_SPANS) != 0)
        {
            checkRxSpans();
        }
        return this;
    }
}

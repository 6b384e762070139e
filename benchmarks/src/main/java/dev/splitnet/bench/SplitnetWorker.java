package dev.splitnet.bench;

import dev.splitnet.api.Features;

import dev.splitnet.api.Fragment;
import dev.splitnet.api.IdleMode;
import dev.splitnet.api.Packet;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.RxHandler;
import dev.splitnet.api.TxClaim;
import dev.splitnet.api.TxCompletionHandler;
import dev.splitnet.backend.BackendContext;
import dev.splitnet.backend.NetBack;
import dev.splitnet.backend.RxMode;
import dev.splitnet.api.RxClaim;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.NetifLimits;
import dev.splitnet.mmap.CounterReadings;
import dev.splitnet.mmap.DoorbellIdleStrategy;
import java.nio.file.Path;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * splitnet: side A is a backend (netback) whose duty cycle runs on the worker's main thread,
 * side B a frontend (netfront). Packets are {@value WorkerSetup#HEADER_LENGTH} header bytes in a
 * header slot plus the rest as payload in granted 4 KiB frames. The frontend builds packets in
 * place with {@code tryClaim} (only an 8-byte sequence number is written; the payload is already
 * in its send buffer, the frames). Geometry: 4 ring pages (1024 TX and RX entries), 8192 TX
 * frames (8 MiB, like the Agrona ring: 128 packets of 64 KiB in flight; 8192 frames, 32 MiB,
 * forwarded no faster here and read slower, out of cache), 1024 RX frames. Features: all this build has (header slots, permanent
 * grants, frame spans: a 64 KiB packet is one request). One-way runs set {@code txPushBatch(32)} (one req_prod publication per 32
 * packets, like Linux netfront's xmit_more; {@code -Dsplitnet.frontend.tx.push.batch=1} gives Xen's
 * push per packet); round trips push every packet.
 */
final class SplitnetWorker extends TransportWorker
{
    /** Xen's ring's pages ({@code -Dsplitnet.bench.ringPages=N} for experiments; 4 give 1024 entries). */
    static final int RING_PAGES = Integer.getInteger("splitnet.bench.ringPages", 4);
    /** Ring v2's pages ({@code -Dsplitnet.bench.ringPagesV2=N} for experiments; 8 give 1024 entries). */
    static final int RING_PAGES_V2 = Integer.getInteger("splitnet.bench.ringPagesV2", 8);
    static final int TX_FRAMES = Integer.getInteger("splitnet.bench.txFrames", 2048);
    static final int RX_FRAMES = 1024;
    /** One-way runs publish req_prod once per 32 packets (xmit_more); the sender polls every 32 sends anyway. */
    static final int PUSH_BATCH = 32;
    /** Receive-direction runs deliver up to this many packets per backend duty cycle. */
    static final int DELIVERY_BURST = 32;

    private final Path dir;
    private final boolean ringV2;
    // COPY: the receive direction delivers a buffer (copied in); FLIP, LAZY: lazy-rx, packets built in backend frames
    private final RxMode rxMode;
    private long rxSeq;
    private NetBack backend;
    private NetFront front;
    private boolean readPayload;
    private boolean echoing;
    private boolean received;
    private final UnsafeBuffer source;
    private final TxCompletionHandler completions = (id, status) -> { };
    private final RxHandler countReceived = packet -> meter.count++;
    private final RxHandler readReceived = packet ->
    {
        long sum = 0;
        for (int i = 0, n = packet.bufferCount(); i < n; i++)
        {
            final org.agrona.DirectBuffer b = packet.buffer(i);
            sum += WorkerSetup.sum(b, 0, b.capacity());
        }
        setup.checksum += sum;
        meter.count++;
    };
    private final RxHandler markReceived = packet -> received = true;

    /**
     * @param ringV2 offer ring v2, on {@link #RING_PAGES_V2} pages: the same 1024 entries each way
     *               as Xen's ring on {@link #RING_PAGES} (ring v2 holds half as many a page).
     * @param rxMode COPY: the receive direction copies a buffer into the frontend's; FLIP or LAZY:
     *               the frontend offers lazy-rx and the backend builds each packet in its own frames
     *               ({@code claimRx}, writing only an 8-byte sequence number: the rest is what the
     *               frames hold, as bytes a NIC put there) and lends them.
     */
    SplitnetWorker(final WorkerSetup setup, final boolean ringV2, final RxMode rxMode)
    {
        super(setup);
        this.ringV2 = ringV2;
        this.rxMode = rxMode;
        this.dir = setup.runDir.resolve("splitnet");
        this.source = new UnsafeBuffer(new byte[size]);
        for (int i = 0; i < size; i++)
        {
            source.putByte(i, (byte)i);
        }
    }

    private PacketStatus onPacket(final Packet packet)
    {
        meter.count++;
        if (echoing)
        {
            return backend.deliver(packet.domainId(), packet);
        }
        if (readPayload)
        {
            long sum = WorkerSetup.sum(packet.header(), 0, packet.headerLength());
            for (int i = 0, n = packet.fragmentCount(); i < n; i++)
            {
                final Fragment f = packet.fragment(i);
                sum += WorkerSetup.sum(f.buffer(), 0, f.length());
            }
            setup.checksum += sum;
        }
        return PacketStatus.OKAY;
    }

    /**
     * With {@code -Dsplitnet.bench.holdMicros=N} (N > 0) the backend's consumer holds every packet
     * N microseconds ({@code Packet.hold()}), then completes it: the forward scenario with a
     * holding consumer (issue 11). The backend copies late whatever its pressure share or copy
     * deadline says; the counters at the end say how many.
     */
    static final long HOLD_MICROS = Long.getLong("splitnet.bench.holdMicros", 0);

    /** Holds every packet {@link #HOLD_MICROS}, FIFO, completing the due ones each duty cycle. */
    private final class HoldingConsumer implements dev.splitnet.api.ForwardingHandler
    {
        private final long holdNs = HOLD_MICROS * 1000;
        private final long[] handles = new long[1 << 16];
        private final long[] heldAt = new long[1 << 16];
        private long head;
        private long tail;

        @Override
        public PacketStatus onPacket(final dev.splitnet.api.Backend b, final Packet packet)
        {
            meter.count++;
            if (tail - head == handles.length)
            {
                completeOldest(b);
            }
            final int at = (int)(tail++ & (handles.length - 1));
            handles[at] = packet.hold();
            heldAt[at] = System.nanoTime();
            return PacketStatus.OKAY;
        }

        @Override
        public int onDutyCycle(final dev.splitnet.api.Backend b)
        {
            int work = 0;
            if (head != tail)
            {
                final long now = System.nanoTime();
                while (head != tail && now - heldAt[(int)(head & (handles.length - 1))] >= holdNs)
                {
                    completeOldest(b);
                    work++;
                }
            }
            return work;
        }

        private void completeOldest(final dev.splitnet.api.Backend b)
        {
            b.complete(handles[(int)(head++ & (handles.length - 1))], PacketStatus.OKAY);
        }
    }

    @Override
    void prepare(final boolean sideA)
    {
        if (sideA)
        {
            // flip lends every claim (copybreak 0: the cost of lending itself); lazy is the library's default (copybreak 1024)
            final BackendContext context = new BackendContext().directory(dir).idleMode(IdleMode.BUSY_SPIN).rxMode(rxMode)
                .rxCopybreak(rxMode == RxMode.FLIP ? 0 : new BackendContext().rxCopybreak())
                .txBudget(Integer.getInteger("splitnet.bench.txBudget", 64));
            if (HOLD_MICROS > 0 && setup.scenario == Scenario.FORWARD)
            {
                context.handler(new HoldingConsumer());
            }
            else
            {
                context.handler(this::onPacket);
            }
            backend = NetBack.launch(context);
        }
        else
        {
            front = NetFront.connect(new FrontendContext().directory(dir).name("bench")
                .ringPages(ringV2 ? RING_PAGES_V2 : RING_PAGES).txFrames(TX_FRAMES)
                // rx-spans on the lending transports: seven frames a buffer, seven times the frames (the same 1024 buffers)
                .rxFrames(rxMode != RxMode.COPY ? RX_FRAMES * NetifLimits.MAX_RX_SPAN_FRAMES : RX_FRAMES)
                .features((ringV2 ? Features.DEFAULT | Features.RING_V2 : Features.DEFAULT) | (rxMode != RxMode.COPY ? Features.LAZY_RX | Features.RX_SPANS : 0))
                .txPushBatch(setup.scenario.isThroughput() ? Integer.getInteger(FrontendContext.TX_PUSH_BATCH_PROP, PUSH_BATCH) : 1));
        }
    }

    /** Runs the backend's duty cycle until the meter is done. */
    private void runBackend(final IdleStrategy idle, final boolean blocking)
    {
        int i = 0;
        while (true)
        {
            final int work = backend.doWork();
            if (work == 0)
            {
                idle.idle(0);
            }
            else
            {
                idle.reset();
            }
            // a blocking backend may sleep up to 100 ms per idle cycle: look at the clock after each
            if (((++i & WorkerSetup.POLL_MASK) == 0 || work == 0 && blocking) && meter.poll())
            {
                return;
            }
        }
    }

    private IdleStrategy spinOrYield()
    {
        return new IdleStrategy()
        {
            @Override
            public void idle(final int workCount)
            {
                if (workCount == 0)
                {
                    setup.idle();
                }
            }

            @Override
            public void idle()
            {
                setup.idle();
            }

            @Override
            public void reset()
            {
            }
        };
    }

    @Override
    void send(final boolean copy)
    {
        if (backend != null)
        {
            // receive direction: the backend copies each packet into the frontend's posted buffers, up
            // to DELIVERY_BURST per duty cycle (it publishes them once per cycle, as the frontend
            // publishes its TX requests once per PUSH_BATCH)
            int domain = 0;
            int i = 0;
            while (true)
            {
                backend.doWork();
                if (domain == 0)
                {
                    domain = backend.connectedCount() > 0 ? backend.connectedDomains()[0] : 0;
                }
                else
                {
                    int delivered = 0;
                    while (delivered < DELIVERY_BURST && deliverOne(domain) == PacketStatus.OKAY)
                    {
                        delivered++;
                    }
                    meter.count += delivered;
                    if (delivered == 0)
                    {
                        setup.idle();
                    }
                }
                if ((++i & WorkerSetup.POLL_MASK) == 0 && meter.poll())
                {
                    return;
                }
            }
        }
        final int payload = size - WorkerSetup.HEADER_LENGTH;
        int i = 0;
        long seq = 0;
        while (true)
        {
            final TxClaim claim = front.tryClaim(WorkerSetup.HEADER_LENGTH, payload);
            if (claim != null)
            {
                claim.header().putLong(0, seq);
                claim.commit(seq++);
                meter.count++;
                if ((seq & 31) == 0)
                {
                    front.poll(completions, countReceived);
                }
            }
            else if (front.poll(completions, countReceived) == 0)
            {
                setup.idle();
            }
            if ((++i & WorkerSetup.POLL_MASK) == 0 && meter.poll())
            {
                return;
            }
        }
    }

    /** One packet to the frontend: {@link #source} copied in, or built in backend frames (lazy-rx). */
    private PacketStatus deliverOne(final int domain)
    {
        if (rxMode == RxMode.COPY)
        {
            return backend.deliver(domain, source, 0, size);
        }
        final RxClaim claim = backend.claimRx(domain, size);
        if (claim == null)
        {
            return PacketStatus.DROPPED;
        }
        if (size >= Long.BYTES)
        {
            claim.buffer().putLong(0, rxSeq++);
        }
        return claim.commit();
    }

    @Override
    void receive(final boolean read)
    {
        if (backend != null)
        {
            readPayload = read;
            runBackend(spinOrYield(), false);
            return;
        }
        final RxHandler handler = read ? readReceived : countReceived;
        pollUntilDone(() -> front.poll(completions, handler));
    }

    @Override
    void echo(final boolean block)
    {
        echoing = true;
        runBackend(block ? new DoorbellIdleStrategy(backend::awaitWork, 100) : spinOrYield(), block);
    }

    @Override
    void ping(final boolean block, final Histogram histogram)
    {
        final IdleStrategy idle = block ? new DoorbellIdleStrategy(front::awaitWork, 100) : spinOrYield();
        long seq = 0;
        while (true)
        {
            TxClaim claim;
            while ((claim = front.tryClaim(WorkerSetup.HEADER_LENGTH, 0)) == null)
            {
                front.poll(completions, markReceived);
            }
            received = false;
            claim.header().putLong(0, seq);
            final long start = System.nanoTime();
            claim.commit(seq++);
            while (!received)
            {
                idle.idle(front.poll(completions, markReceived));
            }
            final long rtt = System.nanoTime() - start;
            if (meter.inWindow())
            {
                histogram.recordValue(rtt);
            }
            meter.count++;
            if ((seq & 63) == 0 && meter.poll())
            {
                return;
            }
        }
    }

    @Override
    String extra()
    {
        if (front == null)
        {
            return "";
        }
        // the backend's counters (faults, pins) live in its own file beside the device file
        final CounterReadings counters = CounterReadings.read(front.device(), front.device().path().getParent(), front.domainId());
        return " payload_faults=" + counters.get(DeviceCounter.PAYLOAD_FAULTS)
            + " grant_pins=" + counters.get(DeviceCounter.GRANT_PINS)
            + " doorbells=" + counters.get(DeviceCounter.FRONTEND_DOORBELLS_SENT)
            + " back_pressured=" + counters.get(DeviceCounter.TX_BACK_PRESSURED)
            + (rxMode != RxMode.COPY ? " rx_flips=" + counters.get(DeviceCounter.RX_FLIPS)
            + " rx_lent_reads=" + counters.get(DeviceCounter.RX_LENT_READS)
            + " rx_copies_avoided=" + counters.get(DeviceCounter.RX_COPIES_AVOIDED)
            + " rx_lazy_copies=" + (counters.get(DeviceCounter.RX_LAZY_COPIES_PRESSURE) + counters.get(DeviceCounter.RX_LAZY_COPIES_DEADLINE))
            + " rx_no_backend_frame=" + counters.get(DeviceCounter.RX_NO_BACKEND_FRAME) : "")
            + (HOLD_MICROS > 0 ? " held=" + counters.get(DeviceCounter.HELD_PACKETS)
            + " held_no_copy=" + counters.get(DeviceCounter.HELD_COMPLETED_NO_COPY)
            + " copied_pressure=" + counters.get(DeviceCounter.HELD_COPIED_PRESSURE)
            + " copied_deadline=" + counters.get(DeviceCounter.HELD_COPIED_DEADLINE)
            + " dropped_bound=" + counters.get(DeviceCounter.HELD_DROPPED_BOUND) : "");
    }

    @Override
    public void close()
    {
        if (front != null)
        {
            front.close();
        }
        if (backend != null)
        {
            backend.close();
        }
    }
}

package dev.splitnet.it.kill;

import dev.splitnet.api.GrantConstants;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.ReceivedPacket;
import dev.splitnet.api.TxClaim;
import dev.splitnet.cli.DemoFrame;
import dev.splitnet.cli.FragmentSplit;
import dev.splitnet.cli.StreamChecksum;
import dev.splitnet.api.Features;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import dev.splitnet.frontend.ReconnectingFrontend;
import dev.splitnet.frontend.ResourceUsage;
import dev.splitnet.mmap.BackendCounters;
import dev.splitnet.mmap.CounterReadings;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.GrantTable;
import dev.splitnet.mmap.NetifLimits;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.agrona.DirectBuffer;

/**
 * One frontend of {@link KillHarness}, a child JVM: a {@link ReconnectingFrontend} named
 * {@code fe<slot>} that sends sequence-numbered, checksummed packets to every slot (itself: echoed
 * by the switch; the others: switched frontend to frontend) and a share of them to the backend
 * itself (DemoFrame.BACKEND: the switch's local consumer holds them past its handler, then checks
 * every byte and completes them, ERROR for a wrong byte), checks what it receives, and answers
 * the harness's commands on stdin ({@code pause}, {@code report}, {@code resume}) on stdout.
 *
 * <pre>
 * header: DemoFrame (dst MAC, src MAC, seq at 14, checksum at 18, payload length at 26), then
 *   30 src slot:i32 | 34 src incarnation:i32 | 38 dst slot:i32
 * correlation id: dst slot << 32 | seq (one sequence per destination slot; slot SLOTS is the
 *   backend's local consumer, whose packets are consumed there and reported as local*=)
 * </pre>
 *
 * The slot given {@code --blocking} sends one packet every 2 ms and sleeps in awaitWork between,
 * so kills find it blocked.
 */
public final class KillHarnessFrontend
{
    static final int SRC_SLOT_OFFSET = 30;
    static final int SRC_INCARNATION_OFFSET = 34;
    static final int DST_SLOT_OFFSET = 38;
    static final int MAX_PAYLOAD = 9000;
    static final int WINDOW = 64;
    /**
     * A defect to plant, for the harness's negative controls: {@code lose-receive} (one received
     * packet in 500 is not recorded), {@code count-twice} (one OKAY in 500 is counted twice),
     * {@code leak-fd} (a descriptor of the device file opened at each connect, never closed),
     * {@code corrupt-local} (one packet to the backend's local consumer in 50 carries a wrong checksum).
     */
    static final String FAULT_PROP = "splitnet.kill.fault";
    private static final String FAULT = System.getProperty(FAULT_PROP, "");
    /** Which slots offer ring v2: {@code odd} (the default: both ring formats in one run, switched into each other), {@code all} or {@code none}. */
    static final String RING_V2_PROP = "splitnet.kill.ringV2";
    /**
     * Which slots offer lazy-rx (the switch then lends them backend frames): {@code half} (the
     * default: slots 2 and 3 of every four: slot 2 of the harness's default three; with four or more, ring
     * v2 on odd slots and lazy-rx run in all four combinations),
     * {@code all} or {@code none}.
     */
    static final String LAZY_RX_PROP = "splitnet.kill.lazyRx";
    /**
     * Which slots offer rx-spans (receive buffers of four frames): {@code odd} (the default: with
     * four or more slots, spans with and without lazy-rx, on ring v2), {@code all} or {@code none}.
     */
    static final String RX_SPANS_PROP = "splitnet.kill.rxSpans";

    private final Path dir;
    private final int slot;
    private final int slots;
    private final int incarnation;
    private final boolean blocking;
    private final int localPercent;
    private final SplittableRandom random;
    private final ConcurrentLinkedQueue<String> commands = new ConcurrentLinkedQueue<>();
    private final StreamChecksum txChecksum = new StreamChecksum();
    private final StreamChecksum rxChecksum = new StreamChecksum();
    private final int[] fragmentLengths = new int[NetifLimits.MAX_PAYLOAD_FRAGMENTS];

    private final int[] peerDomain;
    private final int[] nextSeq;
    private final BitSet[] windowOkay;
    private final BitSet[] windowUnknown;
    // received, per source slot and incarnation: ever (duplicates) and in this window
    private final Map<Long, BitSet> everReceived = new HashMap<>();
    private final Map<Long, BitSet> windowReceived = new TreeMap<>();

    private final java.util.List<AutoCloseable> leaked = new java.util.ArrayList<>();
    private ReconnectingFrontend front;
    private long sent;
    private long okay;
    private long error;
    private long dropped;
    private long disconnected;
    private long received;
    private long integrityErrors;
    private long misdelivered;
    private long duplicates;
    private long lastResolveNs;
    // packets to the backend's local consumer, by status (also counted in sent, okay, ...)
    private long localSent;
    private long localOkay;
    private long localError;
    private long localDropped;
    private long localDisconnected;
    private boolean paused;
    private boolean pauseAnswered;

    private KillHarnessFrontend(final Path dir, final int slot, final int slots, final int incarnation, final long seed,
        final boolean blocking, final int localPercent)
    {
        this.localPercent = localPercent;
        this.dir = dir;
        this.slot = slot;
        this.slots = slots;
        this.incarnation = incarnation;
        this.blocking = blocking;
        this.random = new SplittableRandom(seed);
        this.peerDomain = new int[slots];
        // one more sequence: the backend's local consumer
        this.nextSeq = new int[slots + 1];
        this.windowOkay = new BitSet[slots];
        this.windowUnknown = new BitSet[slots];
        for (int i = 0; i < slots; i++)
        {
            windowOkay[i] = new BitSet();
            windowUnknown[i] = new BitSet();
        }
    }

    /** {@code DIR SLOT SLOTS INCARNATION SEED [blocking|busy [LOCAL_PERCENT]]} */
    public static void main(final String[] args) throws Exception
    {
        final KillHarnessFrontend fe = new KillHarnessFrontend(Path.of(args[0]), Integer.parseInt(args[1]), Integer.parseInt(args[2]),
            Integer.parseInt(args[3]), Long.parseLong(args[4]), args.length > 5 && args[5].equals("blocking"),
            args.length > 6 ? Integer.parseInt(args[6]) : 0);
        fe.run();
    }

    private void run() throws Exception
    {
        final Thread stdin = new Thread(() ->
        {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)))
            {
                String line;
                while ((line = in.readLine()) != null)
                {
                    commands.add(line.trim());
                }
            }
            catch (final Exception ignore)
            {
                // the harness went away
            }
            commands.add("quit");
        }, "stdin");
        stdin.setDaemon(true);
        stdin.start();
        final ReconnectingFrontend.Listener listener = new ReconnectingFrontend.Listener()
        {
            @Override
            public void connected(final NetFront netFront, final int connection)
            {
                java.util.Arrays.fill(peerDomain, 0);
                peerDomain[slot] = netFront.domainId();
                lastResolveNs = 0;
                if (FAULT.equals("leak-fd"))
                {
                    try
                    {
                        leaked.add(java.nio.channels.FileChannel.open(netFront.device().path()));
                    }
                    catch (final java.io.IOException ex)
                    {
                        throw new java.io.UncheckedIOException(ex);
                    }
                }
                emit("event connected domain=" + netFront.domainId() + " connection=" + connection);
            }

            @Override
            public void disconnected(final NetFront netFront, final int reported)
            {
                emit("event disconnected reported=" + reported);
            }
        };
        final String ringV2 = System.getProperty(RING_V2_PROP, "odd");
        final boolean offerRingV2 = ringV2.equals("all") || ringV2.equals("odd") && slot % 2 == 1;
        final String lazyRx = System.getProperty(LAZY_RX_PROP, "half");
        final boolean offerLazyRx = lazyRx.equals("all") || lazyRx.equals("half") && slot % 4 >= 2;
        final String rxSpans = System.getProperty(RX_SPANS_PROP, "odd");
        final boolean offerRxSpans = rxSpans.equals("all") || rxSpans.equals("odd") && slot % 2 == 1;
        // spans of four frames over twice the frames: 128 buffers, half the usual 256
        final FrontendContext context = new FrontendContext().directory(dir).name("fe" + slot).replaceStale(true).connectTimeoutMs(60_000)
            .rxFrames(offerRxSpans ? 512 : 256).rxSpanFrames(4)
            .features(Features.DEFAULT | (offerRingV2 ? Features.RING_V2 : 0) | (offerLazyRx ? Features.LAZY_RX : 0)
                | (offerRxSpans ? Features.RX_SPANS : 0));
        front = ReconnectingFrontend.connect(context, listener, 20, 100);
        long nextSendNs = 0;
        while (true)
        {
            final String command = commands.poll();
            if (command != null && !handle(command))
            {
                break;
            }
            int work = 0;
            final long now = System.nanoTime();
            if (!paused && front.isConnected() && front.inFlight() < WINDOW && (!blocking || now - nextSendNs >= 0))
            {
                resolvePeers(now);
                if (sendOne())
                {
                    work++;
                    nextSendNs = now + 2_000_000L;
                }
            }
            work += front.poll(this::onComplete, this::onReceive);
            if (paused && !pauseAnswered && front.isConnected() && front.inFlight() == 0)
            {
                pauseAnswered = true;
                emit("paused");
            }
            if (work == 0)
            {
                if (blocking || paused)
                {
                    front.awaitWork(blocking ? 2 : 1);
                }
                else
                {
                    Thread.onSpinWait();
                }
            }
        }
        front.close();
    }

    private boolean handle(final String command)
    {
        switch (command)
        {
            case "pause":
                paused = true;
                pauseAnswered = false;
                return true;
            case "report":
                drainReceives();
                emit(report());
                return true;
            case "resume":
                paused = false;
                lastResolveNs = 0;
                java.util.Arrays.fill(peerDomain, 0);
                peerDomain[slot] = front.isConnected() ? front.domainId() : 0;
                return true;
            case "quit":
                return false;
            default:
                emit("error unknown command " + command);
                return true;
        }
    }

    /** Peers' domain ids through the backend's registration records, looked up again every 100 ms while one is missing. */
    private void resolvePeers(final long now)
    {
        if (now - lastResolveNs < 100_000_000L)
        {
            return;
        }
        lastResolveNs = now;
        for (int i = 0; i < slots; i++)
        {
            if (peerDomain[i] == 0)
            {
                try
                {
                    peerDomain[i] = BackendCounters.resolve(dir, "fe" + i);
                }
                catch (final RuntimeException ex)
                {
                    peerDomain[i] = 0; // the backend's counters file is being replaced by a new backend
                }
            }
        }
    }

    private boolean sendOne()
    {
        final boolean local = localPercent > 0 && random.nextInt(100) < localPercent;
        int dstSlot = local ? slots : random.nextInt(slots);
        if (!local && peerDomain[dstSlot] <= 0)
        {
            dstSlot = slot;
        }
        final int payload = random.nextInt(8) == 0 ? random.nextInt(MAX_PAYLOAD + 1) : random.nextInt(1500);
        final int fragments = FragmentSplit.split(random, payload, true, front.maxFragmentLength(), fragmentLengths);
        final TxClaim claim = front.tryClaim(DemoFrame.HEADER_LENGTH, fragmentLengths, fragments);
        if (claim == null)
        {
            return false;
        }
        final int seq = nextSeq[dstSlot]++;
        txChecksum.reset();
        final long fillSeed = random.nextLong();
        for (int i = 0; i < fragments; i++)
        {
            DemoFrame.fill(claim.fragment(i), 0, fragmentLengths[i], fillSeed + i);
            txChecksum.update(claim.fragment(i), 0, fragmentLengths[i]);
        }
        final boolean corrupt = local && FAULT.equals("corrupt-local") && localSent % 50 == 49;
        DemoFrame.writeHeader(claim.header(), local ? DemoFrame.BACKEND : peerDomain[dstSlot], front.domainId(), seq,
            txChecksum.value() ^ (corrupt ? 1 : 0), payload);
        claim.header().putInt(SRC_SLOT_OFFSET, slot);
        claim.header().putInt(SRC_INCARNATION_OFFSET, incarnation);
        claim.header().putInt(DST_SLOT_OFFSET, dstSlot);
        claim.commit(((long)dstSlot << 32) | (seq & 0xFFFF_FFFFL));
        sent++;
        if (local)
        {
            localSent++;
        }
        return true;
    }

    private void onComplete(final long correlationId, final PacketStatus status)
    {
        final int dstSlot = (int)(correlationId >>> 32);
        final int seq = (int)correlationId;
        if (dstSlot == slots)
        {
            onLocalComplete(status);
            return;
        }
        switch (status)
        {
            case OKAY:
                okay++;
                if (FAULT.equals("count-twice") && okay % 500 == 0)
                {
                    okay++;
                }
                windowOkay[dstSlot].set(seq);
                break;
            case ERROR:
                error++;
                break;
            case DROPPED:
                dropped++;
                break;
            default:
                disconnected++;
                windowUnknown[dstSlot].set(seq);
                break;
        }
    }

    /** A packet to the backend's local consumer: consumed there, nothing arrives anywhere; counted by status. */
    private void onLocalComplete(final PacketStatus status)
    {
        switch (status)
        {
            case OKAY:
                okay++;
                localOkay++;
                break;
            case ERROR:
                error++;
                localError++;
                break;
            case DROPPED:
                dropped++;
                localDropped++;
                break;
            default:
                disconnected++;
                localDisconnected++;
                break;
        }
    }

    private void onReceive(final ReceivedPacket packet)
    {
        received++;
        if (!DemoFrame.isIntact(packet, rxChecksum))
        {
            integrityErrors++;
            return;
        }
        final DirectBuffer first = packet.buffer(0);
        if (first.getInt(DST_SLOT_OFFSET) != slot)
        {
            // a stale address: the sender's peer lookup named a domain id given since to another frontend
            misdelivered++;
            return;
        }
        final long key = ((long)first.getInt(SRC_SLOT_OFFSET) << 32) | (first.getInt(SRC_INCARNATION_OFFSET) & 0xFFFF_FFFFL);
        final int seq = first.getInt(DemoFrame.SEQ_OFFSET);
        final BitSet ever = everReceived.computeIfAbsent(key, k -> new BitSet());
        if (ever.get(seq))
        {
            duplicates++;
            return;
        }
        ever.set(seq);
        if (FAULT.equals("lose-receive") && received % 500 == 0)
        {
            return;
        }
        windowReceived.computeIfAbsent(key, k -> new BitSet()).set(seq);
    }

    /** Polls until nothing has arrived for 30 ms: every packet a paused sender saw OKAY is in the RX ring by now. */
    private void drainReceives()
    {
        long quietSince = System.nanoTime();
        while (System.nanoTime() - quietSince < 30_000_000L)
        {
            if (front.poll(this::onComplete, this::onReceive) > 0)
            {
                quietSince = System.nanoTime();
            }
            else
            {
                front.awaitWork(1);
            }
        }
    }

    private String report()
    {
        final StringBuilder sb = new StringBuilder(4096);
        sb.append("report slot=").append(slot).append(" incarnation=").append(incarnation)
            .append(" connected=").append(front.isConnected()).append(" domain=").append(front.domainId())
            .append(" connections=").append(front.connections())
            .append(" sent=").append(sent).append(" okay=").append(okay).append(" error=").append(error)
            .append(" dropped=").append(dropped).append(" disconnected=").append(disconnected)
            .append(" inflight=").append(front.inFlight()).append(" received=").append(received)
            .append(" integrity=").append(integrityErrors).append(" misdelivered=").append(misdelivered)
            .append(" duplicates=").append(duplicates)
            .append(" localsent=").append(localSent).append(" localokay=").append(localOkay).append(" localerror=").append(localError)
            .append(" localdropped=").append(localDropped).append(" localdisconnected=").append(localDisconnected);
        final NetFront current = front.current();
        if (current != null)
        {
            final ResourceUsage usage = current.resourceUsage();
            sb.append(" ids=").append(usage.ringIdsHeld()).append(" slots=").append(usage.headerSlotsHeld())
                .append(" frames=").append(usage.txFramesHeld()).append(" rxposted=").append(usage.rxBuffersPosted())
                .append(" rxpostable=").append(usage.rxBuffersPostable());
            final var layout = current.device().layout();
            final GrantTable grants = new GrantTable(current.device().grantTableBuffer(), layout.grantEntries(), layout.frameCount());
            int inUse = 0;
            for (int g = 0; g < layout.grantEntries(); g++)
            {
                if ((grants.flags(g) & (GrantConstants.GTF_READING | GrantConstants.GTF_WRITING)) != 0)
                {
                    inUse++;
                }
            }
            final long kept = CounterReadings.read(current.device(), dir, current.domainId()).asMap()
                .getOrDefault(DeviceCounter.PERMANENT_GRANTS, 0L);
            sb.append(" grantsinuse=").append(inUse).append(" permanentgrants=").append(kept);
        }
        sb.append(" tx=");
        for (int i = 0; i < slots; i++)
        {
            sb.append(i == 0 ? "" : ";").append(i).append(':').append(Ranges.encode(windowOkay[i])).append('/')
                .append(Ranges.encode(windowUnknown[i]));
            windowOkay[i].clear();
            windowUnknown[i].clear();
        }
        sb.append(" rx=");
        boolean firstKey = true;
        for (final Map.Entry<Long, BitSet> e : windowReceived.entrySet())
        {
            sb.append(firstKey ? "" : ";").append(e.getKey() >>> 32).append('.').append(e.getKey() & 0xFFFF_FFFFL).append(':')
                .append(Ranges.encode(e.getValue()));
            firstKey = false;
        }
        windowReceived.clear();
        return sb.toString();
    }

    private static synchronized void emit(final String line)
    {
        System.out.println(line);
        System.out.flush();
    }
}

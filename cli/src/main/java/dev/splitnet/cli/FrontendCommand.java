package dev.splitnet.cli;

import dev.splitnet.api.Features;
import dev.splitnet.api.Frontend;
import dev.splitnet.api.IdleMode;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.ReceivedPacket;
import dev.splitnet.api.SplitnetException;
import dev.splitnet.api.TxClaim;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import dev.splitnet.frontend.ReconnectingFrontend;
import dev.splitnet.mmap.BackendCounters;
import dev.splitnet.mmap.CounterReadings;
import dev.splitnet.mmap.RingFormat;
import dev.splitnet.mmap.RingV2Descriptor;
import dev.splitnet.mmap.SharedRingDescriptor;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.DeviceDirectory;
import dev.splitnet.mmap.DeviceLayout;
import dev.splitnet.mmap.IdleStrategies;
import dev.splitnet.mmap.NetifLimits;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.agrona.concurrent.IdleStrategy;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code splitnet frontend}: a netfront that sends checksummed packets (to a peer frontend, to the
 * wire, or to the backend itself), checks every byte of what it receives, prints progress each
 * second and one JSON summary line at the end.
 */
@Command(name = "frontend", mixinStandardHelpOptions = true,
    description = "Runs a frontend (netfront) that sends checksummed packets and checks every byte it receives.")
final class FrontendCommand implements Callable<Integer>
{
    @Option(names = "--dir", paramLabel = "DIR", description = "Device directory (default: ${DEFAULT-VALUE}).")
    Path directory = DeviceDirectory.defaultPath();

    @Option(names = "--name", paramLabel = "NAME", description = "Device name; the file is DIR/NAME.dev (default: fe-PID).")
    String name = "fe-" + ProcessHandle.current().pid();

    @Option(names = "--peer", paramLabel = "NAME", description = "Send to the frontend with this device name (its MAC).")
    String peer;

    @Option(names = "--wire-percent", paramLabel = "P", description = "Percent of packets addressed off the host (default: ${DEFAULT-VALUE}).")
    int wirePercent;

    @Option(names = "--local-percent", paramLabel = "P", description = "Percent of packets addressed to the backend itself, "
        + "for its local consumer (default: ${DEFAULT-VALUE}).")
    int localPercent;

    @Option(names = "--count", paramLabel = "N", description = "Packets to send (default: unlimited, see --duration).")
    long count = Long.MAX_VALUE;

    @Option(names = "--duration", paramLabel = "SECONDS", description = "Send for this long (default: until --count is reached).")
    double durationSeconds;

    @Option(names = "--min-size", paramLabel = "BYTES", description = "Smallest payload (default: ${DEFAULT-VALUE}).")
    int minSize = 0;

    @Option(names = "--max-size", paramLabel = "BYTES", description = "Largest payload, at most 65471 (default: ${DEFAULT-VALUE}).")
    int maxSize = 1400;

    @Option(names = "--sweep", description = "Payload sizes min, min+1, ..., max in turn instead of random.")
    boolean sweep;

    @Option(names = "--random-fragments", description = "Split each payload into a random number of fragments (1 to 18).")
    boolean randomFragments;

    @Option(names = "--window", paramLabel = "N", description = "Packets in flight at most (default: ${DEFAULT-VALUE}).")
    int window = 128;

    @Option(names = "--idle", paramLabel = "MODE", converter = IdleModeConverter.class,
        description = "busy-spin, backoff or blocking (default: backoff).")
    IdleMode idle = IdleMode.BACKOFF;

    @Option(names = "--connect-timeout", paramLabel = "MS", description = "Wait this long for a backend (default: ${DEFAULT-VALUE}).")
    long connectTimeoutMs = 10_000;

    @Option(names = "--backend-timeout", paramLabel = "MS", description = "Give up on a backend whose heartbeat stands still this "
        + "long and whose process is stopped or cannot be seen; one that still runs gets ten times as long (default: ${DEFAULT-VALUE}).")
    long backendTimeoutMs = 500;

    @Option(names = "--linger", paramLabel = "MS", description = "Keep receiving this long after the last send (default: ${DEFAULT-VALUE}).")
    long lingerMs = 1_000;

    @Option(names = "--reconnect", description = "When the backend goes away, report the fate of every packet in flight and connect again (until --duration ends; fails when none comes back within --connect-timeout).")
    boolean reconnect;

    @Option(names = "--replace", description = "Replace a stale device file left by a frontend that died.")
    boolean replace;

    @Option(names = "--file-memory", description = "Keep the device memory in DIR/NAME.dev itself instead of a sealed memfd "
        + "(the backend must run with --allow-file-memory).")
    boolean fileMemory;

    @Option(names = "--no-header-slots", description = "Offer no extensions: plain Xen netif requests (same as --features none).")
    boolean plain;

    @Option(names = "--features", split = ",", paramLabel = "NAME[,NAME...]",
        description = "Extensions to offer: header-slots, permanent-grants, frame-spans, ring-v2, lazy-rx, rx-spans, or none "
            + "(default: header-slots,permanent-grants,frame-spans; ring-v2, lazy-rx and rx-spans only when named).")
    java.util.List<String> featureNames;

    @Option(names = "--initial-ring-index", paramLabel = "N", description = "Where the ring indices start (default: 0); e.g. 4294967000 to wrap soon.")
    long initialRingIndex;

    @Option(names = "--ring-pages", paramLabel = "N", description = "Pages per ring (default: ${DEFAULT-VALUE}).")
    int ringPages = 1;

    @Option(names = "--rx-frames", paramLabel = "N", description = "4 KiB receive frames (default: ${DEFAULT-VALUE}).")
    int rxFrames = 256;

    @Option(names = "--rx-span-frames", paramLabel = "N", description = "With rx-spans: frames per receive buffer, 1 to 7 "
        + "(default: ${DEFAULT-VALUE}; a 64 KiB packet in three buffers).")
    int rxSpanFrames = dev.splitnet.mmap.NetifLimits.MAX_RX_SPAN_FRAMES;

    @Option(names = "--seed", paramLabel = "N", description = "Random seed (default: the pid).")
    long seed = ProcessHandle.current().pid();

    @Option(names = "--quiet", description = "No progress line each second.")
    boolean quiet;

    private final StreamChecksum txChecksum = new StreamChecksum();
    private final StreamChecksum rxChecksum = new StreamChecksum();
    private final int[] fragmentLengths = new int[NetifLimits.MAX_PAYLOAD_FRAGMENTS];
    private long okay;
    private long errors;
    private long dropped;
    private long disconnected;
    private long received;
    private long receivedBytes;
    private long integrityErrors;
    private long sent;
    private long sentBytes;
    private long fragmentsSent;
    private long endNs;
    private int domainId;
    private long txReqProd = -1;
    private long rxReqProd = -1;
    private String disconnectReason;
    private int dstPeer;
    private int connections;

    @Override
    public Integer call()
    {
        final int maxPayload = 0xFFFF - DemoFrame.HEADER_LENGTH;
        if (minSize < 0 || maxSize > maxPayload || minSize > maxSize)
        {
            throw new CommandLine.ParameterException(new CommandLine(this),
                "--min-size=" + minSize + " --max-size=" + maxSize + ": need 0 <= min <= max <= " + maxPayload);
        }
        if (localPercent < 0 || wirePercent + localPercent > 100)
        {
            throw new CommandLine.ParameterException(new CommandLine(this), "--wire-percent=" + wirePercent + " --local-percent="
                + localPercent + ": each must be 0-100 and together at most 100");
        }
        if (wirePercent < 0 || wirePercent > 100 || window < 1)
        {
            throw new CommandLine.ParameterException(new CommandLine(this), "--wire-percent must be 0-100 and --window >= 1");
        }
        final FrontendContext context = new FrontendContext().directory(directory).name(name)
            .connectTimeoutMs(connectTimeoutMs).backendTimeoutMs(backendTimeoutMs).replaceStale(replace).sealedMemory(!fileMemory).features(offeredFeatures())
            .initialRingIndex((int)initialRingIndex).ringPages(ringPages).rxFrames(rxFrames).rxSpanFrames(rxSpanFrames);
        final Map<DeviceCounter, Long> counters = new EnumMap<>(DeviceCounter.class);
        String failure = null;
        if (reconnect)
        {
            // The library reconnects: every packet in flight when the backend goes is reported
            // DISCONNECTED once, the connection's counters are summed before it is closed.
            final ReconnectingFrontend.Listener listener = new ReconnectingFrontend.Listener()
            {
                @Override
                public void connected(final NetFront front, final int connection)
                {
                    onConnected(front);
                }

                @Override
                public void disconnected(final NetFront front, final int reported)
                {
                    System.err.printf(Locale.ROOT, "[%s] backend disconnected; %d packets reported as disconnected; reconnecting to the backend in %s%n",
                        name, reported, directory);
                    addCounters(front, counters);
                }
            };
            try (ReconnectingFrontend front = ReconnectingFrontend.connect(context, listener))
            {
                try
                {
                    run(front);
                }
                catch (final SplitnetException ex)
                {
                    // after traffic flowed, the summary still tells the fate of every packet
                    failure = CommandLineAdvice.describe(ex, "frontend");
                    System.err.println("splitnet frontend " + name + ": " + failure);
                }
                finally
                {
                    if (front.current() != null)
                    {
                        addCounters(front.current(), counters);
                    }
                    connections = front.connections();
                }
            }
        }
        else
        {
            try (NetFront front = NetFront.connect(context))
            {
                connections = 1;
                onConnected(front);
                try
                {
                    run(front);
                }
                finally
                {
                    addCounters(front, counters);
                }
            }
        }
        final StringBuilder sb = new StringBuilder(1024);
        sb.append("{\"name\":\"").append(name).append("\",\"pid\":").append(ProcessHandle.current().pid())
            .append(",\"domain_id\":").append(domainId)
            .append(",\"sent\":").append(sent).append(",\"sent_bytes\":").append(sentBytes)
            .append(",\"fragments_sent\":").append(fragmentsSent)
            .append(",\"okay\":").append(okay).append(",\"error\":").append(errors).append(",\"dropped\":").append(dropped)
            .append(",\"disconnected\":").append(disconnected)
            .append(",\"received\":").append(received).append(",\"received_bytes\":").append(receivedBytes)
            .append(",\"integrity_errors\":").append(integrityErrors).append(",\"connections\":").append(connections)
            .append(",\"tx_req_prod\":").append(txReqProd).append(",\"rx_req_prod\":").append(rxReqProd)
            .append(",\"disconnect_reason\":").append(jsonString(disconnectReason))
            .append(",\"failure\":").append(failure == null ? "null" : "\"" + failure.replace("\\", "\\\\").replace("\"", "'") + "\"")
            .append(",\"counters\":");
        DeviceSnapshot.appendCounters(sb, counters);
        System.out.println(sb.append('}'));
        if (failure != null)
        {
            return 1;
        }
        return integrityErrors == 0 && sent == okay + errors + dropped + disconnected ? 0 : 3;
    }

    private static String jsonString(final String text)
    {
        return text == null ? "null" : "\"" + text.replace("\\", "\\\\").replace("\"", "'") + "\"";
    }

    private void onConnected(final NetFront front)
    {
        domainId = front.domainId();
        System.err.printf(Locale.ROOT, "splitnet frontend %s: pid %d, domain %d, features [%s]%n", name,
            ProcessHandle.current().pid(), domainId, Features.describe(front.negotiatedFeatures()));
        // domain ids are given per connection: a peer that reconnected (or a new backend) has a new one
        dstPeer = peer != null ? resolvePeer(peer) : domainId;
    }

    /**
     * Counters of one connection: the frontend's from its device, the backend's from the
     * backend's own counters file; summed over reconnects.
     */
    private void addCounters(final NetFront front, final Map<DeviceCounter, Long> counters)
    {
        CounterReadings.read(front.device(), directory, front.domainId()).asMap()
            .forEach((counter, value) -> counters.merge(counter, value, Long::sum));
        // the free-running indices this connection last published (unsigned 32-bit), so a test can
        // tell that they crossed 2^32; and why it ended. Ring v2 publishes no producer index: its
        // req_cons, how far the backend consumed the requests, stands in
        final int requestIndex = RingFormat.of(front.negotiatedFeatures()) == RingFormat.V2
            ? RingV2Descriptor.REQ_CONS_OFFSET : SharedRingDescriptor.REQ_PROD_OFFSET;
        txReqProd = Integer.toUnsignedLong(front.device().txRing().getIntVolatile(requestIndex));
        rxReqProd = Integer.toUnsignedLong(front.device().rxRing().getIntVolatile(requestIndex));
        disconnectReason = front.disconnectReason();
    }

    /** Sends and receives until --count or --duration; with --reconnect across backend restarts. */
    private void run(final Frontend front)
    {
        if (endNs == 0)
        {
            // --duration counts from the first moment traffic can flow, not from JVM start-up.
            endNs = durationSeconds > 0 ? System.nanoTime() + (long)(durationSeconds * 1e9) : Long.MAX_VALUE;
        }
        final long end = endNs;
        final SplittableRandom random = new SplittableRandom(seed);
        final IdleStrategy idleStrategy = IdleStrategies.of(idle, front::awaitWork, 100);
        long nextProgress = System.nanoTime() + 1_000_000_000L;
        long lastSent = 0;
        long lastReceived = 0;
        int nextSize = minSize;
        long lingerEnd = 0;
        long disconnectedSince = 0;
        while (front.isConnected() || (reconnect && front instanceof ReconnectingFrontend))
        {
            int work = 0;
            final long now = System.nanoTime();
            if (front.isConnected())
            {
                disconnectedSince = 0;
            }
            else if (disconnectedSince == 0)
            {
                disconnectedSince = now;
            }
            else if (now - disconnectedSince > connectTimeoutMs * 1_000_000L)
            {
                throw new SplitnetException("no backend came back in " + directory + " within " + connectTimeoutMs
                    + " ms; start one with 'splitnet backend --dir " + directory + "' or raise --connect-timeout");
            }
            final boolean sending = sent < count && now - end < 0;
            if (sending && front.isConnected() && front.inFlight() < window)
            {
                final int payload = sweep ? nextSize : minSize + random.nextInt(maxSize - minSize + 1);
                // one draw: the first wirePercent off the host, the next localPercent to the backend itself
                final int draw = random.nextInt(100);
                final int dst = draw < wirePercent ? DemoFrame.WIRE : draw < wirePercent + localPercent ? DemoFrame.BACKEND : dstPeer;
                if (send(front, random, payload, dst))
                {
                    work++;
                    if (sweep)
                    {
                        nextSize = nextSize == maxSize ? minSize : nextSize + 1;
                    }
                }
            }
            work += front.poll(this::onComplete, this::onReceive);
            if (!sending)
            {
                if (lingerEnd == 0)
                {
                    lingerEnd = now + lingerMs * 1_000_000L;
                }
                if (front.inFlight() == 0 && now - lingerEnd > 0)
                {
                    break;
                }
            }
            if (now - nextProgress > 0)
            {
                nextProgress += 1_000_000_000L;
                if (!quiet)
                {
                    System.err.printf(Locale.ROOT, "[%s] sent=%d (%d/s) okay=%d error=%d dropped=%d received=%d (%d/s) integrity_errors=%d%n",
                        name, sent, sent - lastSent, okay, errors, dropped, received, received - lastReceived, integrityErrors);
                }
                lastSent = sent;
                lastReceived = received;
            }
            idleStrategy.idle(work);
        }
        if (!front.isConnected() && !reconnect)
        {
            // The backend went away: every packet still in flight is reported as DISCONNECTED.
            front.poll(this::onComplete, this::onReceive);
            System.err.printf(Locale.ROOT, "[%s] backend disconnected; %d packets reported as disconnected%n", name, disconnected);
        }
    }

    /** The --features list (or --no-header-slots) as feature bits; a wrong name is a usage error. */
    private long offeredFeatures()
    {
        if (featureNames == null)
        {
            return plain ? 0 : Features.DEFAULT;
        }
        if (plain)
        {
            throw new CommandLine.ParameterException(new CommandLine(this), "give --features or --no-header-slots, not both");
        }
        long features = 0;
        for (final String feature : featureNames)
        {
            if (feature.equals("none"))
            {
                continue;
            }
            try
            {
                features |= Features.parse(feature);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new CommandLine.ParameterException(new CommandLine(this), "--features: " + ex.getMessage() + ", or none");
            }
            if ((features & ~Features.SUPPORTED) != 0)
            {
                throw new CommandLine.ParameterException(new CommandLine(this), "--features: " + feature
                    + " is reserved, not implemented by this build; implemented: " + Features.describe(Features.SUPPORTED));
            }
        }
        if ((features & Features.LAZY_RX) != 0 && (features & Features.PERMANENT_GRANTS) == 0)
        {
            throw new CommandLine.ParameterException(new CommandLine(this),
                "--features: lazy-rx needs permanent-grants (a lent receive buffer stays granted); name both");
        }
        if ((features & Features.RX_SPANS) != 0 && (features & Features.PERMANENT_GRANTS) == 0)
        {
            throw new CommandLine.ParameterException(new CommandLine(this),
                "--features: rx-spans needs permanent-grants (a span's grefs are checked as a held range); name both");
        }
        if (rxSpanFrames < 1 || rxSpanFrames > dev.splitnet.mmap.NetifLimits.MAX_RX_SPAN_FRAMES)
        {
            throw new CommandLine.ParameterException(new CommandLine(this),
                "--rx-span-frames: " + rxSpanFrames + " is not 1 to " + dev.splitnet.mmap.NetifLimits.MAX_RX_SPAN_FRAMES);
        }
        return features;
    }

    private boolean send(final Frontend front, final SplittableRandom random, final int payload, final int dst)
    {
        final int fragments = FragmentSplit.split(random, payload, randomFragments, front.maxFragmentLength(), fragmentLengths);
        final TxClaim claim = front.tryClaim(DemoFrame.HEADER_LENGTH, fragmentLengths, fragments);
        if (claim == null)
        {
            return false;
        }
        txChecksum.reset();
        final long fillSeed = random.nextLong();
        for (int i = 0; i < fragments; i++)
        {
            DemoFrame.fill(claim.fragment(i), 0, fragmentLengths[i], fillSeed + i);
            txChecksum.update(claim.fragment(i), 0, fragmentLengths[i]);
        }
        DemoFrame.writeHeader(claim.header(), dst, front.domainId(), (int)sent, txChecksum.value(), payload);
        claim.commit(sent);
        fragmentsSent += fragments;
        sent++;
        sentBytes += DemoFrame.HEADER_LENGTH + payload;
        return true;
    }

    private void onComplete(final long correlationId, final PacketStatus status)
    {
        switch (status)
        {
            case OKAY: okay++; break;
            case ERROR: errors++; break;
            case DROPPED: dropped++; break;
            default: disconnected++; break;
        }
    }

    private void onReceive(final ReceivedPacket packet)
    {
        received++;
        receivedBytes += packet.length();
        if (!DemoFrame.isIntact(packet, rxChecksum))
        {
            integrityErrors++;
        }
    }

    /**
     * Finds a peer's domain id through the backend (its counters file registers every connected
     * frontend by name), waiting for the peer to connect: like a xenstore lookup, and never from
     * the peer's own control page, which the peer could write anything into.
     */
    private int resolvePeer(final String peerName)
    {
        DeviceDirectory.open(directory).deviceFile(peerName); // checks the name
        final long deadline = System.nanoTime() + connectTimeoutMs * 1_000_000L;
        while (true)
        {
            final int domainId = BackendCounters.resolve(directory, peerName);
            if (domainId > 0)
            {
                return domainId;
            }
            if (System.nanoTime() - deadline > 0)
            {
                throw new SplitnetException("peer frontend " + peerName + " did not connect in " + directory
                    + " within " + connectTimeoutMs + " ms; start it or fix --peer");
            }
            try
            {
                Thread.sleep(20);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                throw new SplitnetException("interrupted");
            }
        }
    }
}

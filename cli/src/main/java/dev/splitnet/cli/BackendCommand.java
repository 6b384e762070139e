package dev.splitnet.cli;

import dev.splitnet.api.IdleMode;
import dev.splitnet.backend.BackendContext;
import dev.splitnet.backend.RxMode;
import dev.splitnet.backend.RxOrder;
import dev.splitnet.backend.NetBack;
import dev.splitnet.mmap.DeviceDirectory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import dev.splitnet.backend.NetBackRunner;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code splitnet backend}: runs netback until interrupted (or for --duration). */
@Command(name = "backend", mixinStandardHelpOptions = true,
    description = "Runs a backend (netback) that serves the frontends connecting in DIR.")
final class BackendCommand implements Callable<Integer>
{
    @Option(names = "--dir", paramLabel = "DIR", description = "Device directory (default: ${DEFAULT-VALUE}).")
    Path directory = DeviceDirectory.defaultPath();

    @Option(names = "--mode", paramLabel = "MODE", converter = ModeConverter.class,
        description = "What to do with each packet: switch, local, echo, verify, forward, sink (default: switch).")
    BackendMode mode = BackendMode.SWITCH;

    @Option(names = "--egress", paramLabel = "HOST:PORT",
        description = "UDP destination on loopback for packets leaving the host (switch, forward). Without it they are dropped.")
    String egress;

    @Option(names = "--idle", paramLabel = "MODE", converter = IdleModeConverter.class,
        description = "busy-spin, backoff or blocking (default: backoff).")
    IdleMode idle = IdleMode.BACKOFF;

    @Option(names = "--max-frontends", paramLabel = "N", description = "Frontends served at most (default: ${DEFAULT-VALUE}).")
    int maxFrontends = 64;

    @Option(names = "--duration", paramLabel = "SECONDS", description = "Stop after this many seconds (default: run until interrupted).")
    double durationSeconds;

    @Option(names = "--distinct-uids", description = "Refuse a frontend running as the same user as a connected one.")
    boolean distinctUids;

    @Option(names = "--allow-file-memory", description = "Also accept frontends whose device memory is a file "
        + "(frontend --file-memory), which they can truncate under the backend; by default only sealed memory is accepted.")
    boolean allowFileMemory;

    @Option(names = "--hold-ms", paramLabel = "MS", description = "How long the local consumer (mode local, and frames a switch "
        + "gets for the backend's own MAC) holds each packet before it reads, checks and completes it (default: ${DEFAULT-VALUE}).")
    long holdMs = 10;

    @Option(names = "--copy-deadline-ms", paramLabel = "MS", description = "A packet held longer is copied into the backend's "
        + "memory and answered (default: ${DEFAULT-VALUE}).")
    long copyDeadlineMs = 500;

    @Option(names = "--copy-memory-per-frontend-kib", paramLabel = "KIB", description = "One frontend's share of the backend's "
        + "memory for late copies of held packets; past it a held packet is dropped (default: ${DEFAULT-VALUE}).")
    long copyMemoryPerFrontendKib = 512;

    @Option(names = "--sender-pause-ms", paramLabel = "MS", description = "How long the switch may leave a frontend's TX ring "
        + "unread while half of it waits for slower receivers' buffers, so the sender slows down instead of losing packets; "
        + "0 drops at once (default: ${DEFAULT-VALUE}).")
    long senderPauseMs = 500;

    @Option(names = "--rx-order", paramLabel = "ORDER", converter = RxOrderConverter.class,
        description = "Order in which frontends' receive buffers are filled: posted, or shuffle (a random posted buffer "
            + "each time; frontends on ring v2 only, Xen's ring keeps posting order) (default: posted).")
    RxOrder rxOrder = RxOrder.POSTED;

    @Option(names = "--rx-mode", paramLabel = "MODE", converter = RxModeConverter.class,
        description = "How packets the backend builds in its own frames (the echo mode's) reach frontends that offer lazy-rx: "
            + "copy (into their buffers; lazy-rx declined), flip (lend the frame through the frontend's P2M, never copy), or lazy "
            + "(lend, copy only when the frontend writes it, the backend runs low or the lend deadline passes) (default: lazy).")
    RxMode rxMode = RxMode.LAZY;

    @Option(names = "--rx-copybreak", paramLabel = "BYTES", description = "Packets shorter than this are copied into a "
        + "lazy-rx frontend's buffers, not lent (a copy is cheaper below about 1 KiB); 0 lends all (default: ${DEFAULT-VALUE}).")
    int rxCopybreak = 1024;

    @Option(names = "--rx-pool-frames", paramLabel = "N", description = "Backend frames per lazy-rx frontend; 0: one per "
        + "receive buffer and 16 more (default: ${DEFAULT-VALUE}).")
    int rxPoolFrames;

    @Option(names = "--lend-deadline-ms", paramLabel = "MS", description = "How long a frontend may keep a lent frame before the "
        + "backend takes it back (copied in lazy mode, its packet dropped in flip mode) (default: ${DEFAULT-VALUE}).")
    long lendDeadlineMs = 1000;

    @Option(names = "--quiet", description = "No progress line each second.")
    boolean quiet;

    @Override
    public Integer call() throws Exception
    {
        final DatagramChannel wire = openEgress();
        if (rxPoolFrames < 0 || rxPoolFrames > dev.splitnet.mmap.BackendFrames.MAX_FRAMES || lendDeadlineMs < 1
            || rxCopybreak < 0 || rxCopybreak > 65536)
        {
            throw new CommandLine.ParameterException(new CommandLine(this), "--rx-pool-frames=" + rxPoolFrames + " --lend-deadline-ms="
                + lendDeadlineMs + " --rx-copybreak=" + rxCopybreak + ": the pool must be 0 to " + dev.splitnet.mmap.BackendFrames.MAX_FRAMES
                + " frames (0: one per receive buffer and 16 more), the deadline >= 1 ms and the copybreak 0 to 65536 bytes");
        }
        if (holdMs < 0 || copyDeadlineMs < 1 || copyMemoryPerFrontendKib < 0 || copyMemoryPerFrontendKib > 1 << 20 || senderPauseMs < 0)
        {
            throw new CommandLine.ParameterException(new CommandLine(this), "--hold-ms=" + holdMs + " --copy-deadline-ms=" + copyDeadlineMs
                + " --copy-memory-per-frontend-kib=" + copyMemoryPerFrontendKib + " --sender-pause-ms=" + senderPauseMs
                + ": the hold must be >= 0, the copy deadline >= 1, the copy memory 0 to 1048576 KiB and the sender pause >= 0");
        }
        final BackendMode.Stats stats = new BackendMode.Stats();
        final LocalConsumer local = new LocalConsumer(holdMs);
        final BackendContext context = new BackendContext().directory(directory).idleMode(idle).maxFrontends(maxFrontends)
            .distinctFrontendUids(distinctUids).allowFileMemory(allowFileMemory).handler(mode.handler(wire, stats, local, rxMode != RxMode.COPY))
            .holdCopyDeadlineMs(copyDeadlineMs).holdDropLimitMs(Math.max(30_000, copyDeadlineMs))
            .copyMemoryPerFrontendBytes(copyMemoryPerFrontendKib << 10).senderPauseMs(senderPauseMs).rxOrder(rxOrder)
            .rxMode(rxMode).rxPoolFrames(rxPoolFrames).lendDeadlineMs(lendDeadlineMs).rxCopybreak(rxCopybreak)
            // the default 16 MiB in all, or one frontend's share if that is larger
            .copyMemoryBytes(Math.max(16L << 20, copyMemoryPerFrontendKib << 10));
        final NetBack backend = NetBack.launch(context);
        final NetBackRunner runner = new NetBackRunner(backend,
            ex -> System.err.println("splitnet backend: duty cycle error: " + ex));
        final CountDownLatch stopped = new CountDownLatch(1);
        final Thread hook = new Thread(() ->
        {
            runner.close();
            stopped.countDown();
        }, "splitnet-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        System.err.printf(Locale.ROOT, "splitnet backend: pid %d, dir %s, mode %s, idle %s%s%n", ProcessHandle.current().pid(),
            directory, mode.name().toLowerCase(Locale.ROOT), idle, wire != null ? ", egress udp " + egress : "");
        final long end = durationSeconds > 0 ? System.nanoTime() + (long)(durationSeconds * 1e9) : Long.MAX_VALUE;
        long lastPackets = 0;
        while (System.nanoTime() - end < 0 && !stopped.await(1, TimeUnit.SECONDS) && runner.failure() == null)
        {
            if (!quiet)
            {
                final long packets = stats.packets.get();
                System.err.printf(Locale.ROOT, "[backend] frontends=%d packets=%d (%d/s) delivered=%d egress=%d dropped=%d "
                    + "(no_rx_buffer=%d wire=%d) verify_failures=%d local_held=%d local_checked=%d local_failures=%d "
                    + "local_dropped_by_backend=%d%n",
                    backend.connectedCount(), packets, packets - lastPackets, stats.delivered.get(), stats.egress.get(),
                    stats.dropped.get(), stats.droppedNoRxBuffer.get(), stats.droppedWire.get(), stats.verifyFailures.get(),
                    local.held.get(), local.checked.get(), local.failures.get(), local.droppedByBackend.get());
                lastPackets = packets;
            }
        }
        if (stopped.getCount() > 0)
        {
            Runtime.getRuntime().removeShutdownHook(hook);
            runner.close();
        }
        if (wire != null)
        {
            wire.close();
        }
        if (runner.failure() != null)
        {
            System.err.println("splitnet backend: " + CommandLineAdvice.describe(runner.failure(), "backend"));
            return 1;
        }
        return 0;
    }

    private DatagramChannel openEgress() throws IOException
    {
        if (egress == null)
        {
            return null;
        }
        final int colon = egress.lastIndexOf(':');
        final String host = colon > 0 ? egress.substring(0, colon) : "";
        final int port;
        try
        {
            port = Integer.parseInt(egress.substring(colon + 1));
        }
        catch (final NumberFormatException ex)
        {
            throw new CommandLine.ParameterException(new CommandLine(this), "--egress=" + egress + " is not HOST:PORT");
        }
        final InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.isUnresolved() || !address.getAddress().isLoopbackAddress())
        {
            throw new CommandLine.ParameterException(new CommandLine(this),
                "--egress=" + egress + " must be a loopback address (127.0.0.0/8 or ::1)");
        }
        final DatagramChannel channel = DatagramChannel.open();
        channel.connect(address);
        return channel;
    }

    /** Reads a {@link BackendMode} name. */
    static final class ModeConverter implements CommandLine.ITypeConverter<BackendMode>
    {
        @Override
        public BackendMode convert(final String value)
        {
            try
            {
                return BackendMode.valueOf(value.toUpperCase(Locale.ROOT));
            }
            catch (final IllegalArgumentException ex)
            {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a mode; use switch, local, echo, verify, forward or sink");
            }
        }
    }
}

package dev.splitnet.backend.fuzz;

import dev.splitnet.api.Features;
import dev.splitnet.api.SendResult;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import dev.splitnet.mmap.ControlDescriptor;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.BackendCounters;
import dev.splitnet.mmap.DeviceLayout;
import dev.splitnet.mmap.RingFormat;
import dev.splitnet.mmap.Doorbell;
import dev.splitnet.mmap.Handshake;
import java.io.RandomAccessFile;
import java.lang.reflect.Field;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The offender: episode after episode, connects a real {@link NetFront} that sends traffic while a
 * {@link FieldCorrupter} writes a few hundred to a few thousand hostile fields into its device
 * memory (mapped here, apart from the NetFront's own mapping); now and then floods the backend's
 * socket, or tries to change the memory's size: three episodes in four use sealed memory (the
 * default), whose resize the kernel must refuse (counted; a resize that works is a violation), the
 * fourth a file-backed device, which is truncated and regrown only when truncation is switched on. Whatever the NetFront does (throws, disconnects
 * itself, is disconnected), the outcome is recorded, it is closed, and the next episode connects a
 * fresh one. Each episode's choices come from a random seeded by (run seed, episode number) only.
 */
final class Offender implements Runnable
{
    private static final long[] FEATURE_CHOICES = {
        Features.DEFAULT, Features.DEFAULT, Features.DEFAULT, 0, Features.HEADER_SLOTS,
        Features.HEADER_SLOTS | Features.PERMANENT_GRANTS, Features.PERMANENT_GRANTS | Features.FRAME_SPANS,
        // ring v2: every rule of the validation again on the new format
        Features.DEFAULT | Features.RING_V2, Features.DEFAULT | Features.RING_V2, Features.RING_V2,
        // lazy receive: its P2M entries under lent backend frames corrupted, on both ring formats
        Features.DEFAULT | Features.LAZY_RX, Features.DEFAULT | Features.LAZY_RX | Features.RING_V2,
        // rx-spans: buffers of several frames, lent as runs or filled by copy, on both ring formats
        Features.DEFAULT | Features.LAZY_RX | Features.RX_SPANS, Features.DEFAULT | Features.RX_SPANS | Features.RING_V2,
    };
    private static final int TRUNCATE_ONE_IN = 40;
    /** Sealed episodes try to resize their memory this often (it costs nothing: the kernel refuses). */
    private static final int SEALED_TRUNCATE_ONE_IN = 4;
    /** Episodes with file-backed memory: one in this many. */
    private static final int FILE_MEMORY_ONE_IN = 4;
    private static final int FLOOD_ONE_IN = 8;
    private static final long REASON_DEADLINE_NS = TimeUnit.SECONDS.toNanos(5);
    private static final int MAX_CONNECT_FAILURES = 10;
    private static final Field DOORBELL;
    /** Backend counters of the offender's device summed over all episodes, to show which paths ran. */
    private static final DeviceCounter[] OFFENDER_COUNTERS = {
        DeviceCounter.BACKEND_TX_PACKETS, DeviceCounter.PAYLOAD_FAULTS, DeviceCounter.RX_DELIVERED, DeviceCounter.RX_DROPPED_NO_BUFFER,
        DeviceCounter.ERROR_BAD_GREF, DeviceCounter.ERROR_BAD_OFFSET, DeviceCounter.ERROR_BAD_SLOT, DeviceCounter.ERROR_TOO_MANY_FRAGMENTS,
        DeviceCounter.ERROR_SIZE_MISMATCH, DeviceCounter.ERROR_UNSUPPORTED, DeviceCounter.ERROR_HANDLER, DeviceCounter.ERROR_FATAL,
        DeviceCounter.RX_FLIPS, DeviceCounter.ERROR_P2M,
        DeviceCounter.HELD_PACKETS, DeviceCounter.HELD_COMPLETED_NO_COPY, DeviceCounter.HELD_COPIED_DEADLINE, DeviceCounter.HELD_COPIED_PRESSURE,
        DeviceCounter.HELD_COPIED_DISCONNECT, DeviceCounter.HELD_DROPPED_BOUND, DeviceCounter.HELD_DROPPED_LIMIT,
    };

    static
    {
        try
        {
            DOORBELL = NetFront.class.getDeclaredField("doorbell");
            DOORBELL.setAccessible(true);
        }
        catch (final NoSuchFieldException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final Path dir;
    private final FuzzAccounting accounting;
    private final SwitchHandler handler;
    private final LogCapture log;
    private final long seed;
    private final long fieldTarget;
    private final TruncationWindow truncationWindow;
    private final boolean truncations;
    private final UnsafeBuffer header = new UnsafeBuffer(new byte[4096]);
    private final UnsafeBuffer payload = new UnsafeBuffer(new byte[65536]);
    private final UnsafeBuffer rxCopy = new UnsafeBuffer(new byte[1 << 17]);
    private volatile boolean stop;
    private volatile boolean finished;
    private volatile long episode;
    private int connectFailures;
    private long correlation;

    Offender(final Path dir, final FuzzAccounting accounting, final SwitchHandler handler, final LogCapture log, final long seed,
        final long fieldTarget, final TruncationWindow truncationWindow, final boolean truncations)
    {
        this.truncations = truncations;
        this.dir = dir;
        this.accounting = accounting;
        this.handler = handler;
        this.log = log;
        this.seed = seed;
        this.fieldTarget = fieldTarget;
        this.truncationWindow = truncationWindow;
        header.putInt(0, 0x4E46464F); // "OFFN"
    }

    void stop()
    {
        stop = true;
    }

    boolean finished()
    {
        return finished;
    }

    long episode()
    {
        return episode;
    }

    @Override
    public void run()
    {
        try
        {
            for (long k = 0; accounting.fields() < fieldTarget && !accounting.failed() && !stop; k++)
            {
                episode = k;
                episode(k);
            }
        }
        catch (final Throwable t)
        {
            accounting.violation("the offender driver failed in episode " + episode + ": " + t);
        }
        finally
        {
            finished = true;
        }
    }

    /** The random of episode {@code k}: a pure function of the run's seed and {@code k}. */
    static SplittableRandom episodeRandom(final long seed, final long k)
    {
        return new SplittableRandom(BystanderPacket.mix(seed) ^ BystanderPacket.mix(k + 0x632BE59BD9B4E019L));
    }

    private void episode(final long k)
    {
        final SplittableRandom rng = episodeRandom(seed, k);
        final long features = FEATURE_CHOICES[rng.nextInt(FEATURE_CHOICES.length)];
        final int budget = rng.nextInt(200, 3001);
        final boolean truncate = rng.nextInt(TRUNCATE_ONE_IN) == 0;
        final int truncateAt = rng.nextInt(budget);
        final int truncateChoice = rng.nextInt(4);
        final int truncatePages = rng.nextInt(1, 1 << 12);
        final long truncateMicros = rng.nextInt(1, 20_000);
        final boolean flood = rng.nextInt(FLOOD_ONE_IN) == 0;
        final int floodAt = rng.nextInt(budget);
        final int floodMode = rng.nextInt(5);
        final int floodMillis = rng.nextInt(1, 30);
        final byte[] floodBytes = new byte[4096];
        rng.nextBytes(floodBytes);
        // half the episodes the NetFront only idles and the writer owns its rings: nothing but the
        // backend then reacts to the forged requests (a live NetFront disconnects itself at the
        // first response it did not ask for)
        final boolean traffic = rng.nextBoolean();
        final SplittableRandom corruptions = rng.split();
        final SplittableRandom trafficRandom = rng.split();
        final boolean sealed = rng.nextInt(FILE_MEMORY_ONE_IN) != 0;
        final int spanFrames = rng.nextInt(2, dev.splitnet.mmap.NetifLimits.MAX_RX_SPAN_FRAMES + 1);
        boolean sealedTruncate = rng.nextInt(SEALED_TRUNCATE_ONE_IN) == 0;

        final NetFront front;
        try
        {
            front = NetFront.connect(new FrontendContext().directory(dir).name("offender").features(features)
                .rxSpanFrames(spanFrames).connectTimeoutMs(5000).replaceStale(true).sealedMemory(sealed));
            connectFailures = 0;
        }
        catch (final Throwable t)
        {
            accounting.outcome("connect failed: " + shape(String.valueOf(t.getMessage())));
            if (++connectFailures >= MAX_CONNECT_FAILURES)
            {
                accounting.violation(connectFailures + " offender connects in a row failed, the last: " + t);
            }
            return;
        }
        accounting.episodes.increment();
        if (sealed)
        {
            accounting.sealedEpisodes.increment();
        }
        if (RingFormat.of(front.negotiatedFeatures()) == RingFormat.V2)
        {
            accounting.ringV2Episodes.increment();
        }
        if ((front.negotiatedFeatures() & Features.LAZY_RX) != 0)
        {
            accounting.lazyRxEpisodes.increment();
        }
        if ((front.negotiatedFeatures() & Features.RX_SPANS) != 0)
        {
            accounting.rxSpansEpisodes.increment();
        }
        final int domain = front.domainId();
        handler.offenderDomain(domain);
        final DeviceLayout layout = front.device().layout();
        // the memory itself: the file, mapped here apart from the NetFront's mapping; or, sealed, the
        // NetFront's own mapping (its backend sealed it against any new writable mapping), with the
        // memfd reopened through this process's descriptor of it for the resize attempts
        final java.io.File memory = sealed ? new java.io.File(front.device().memoryHandle()) : front.device().path().toFile();
        MappedByteBuffer mapped = sealed ? null : IoUtil.mapExistingFile(memory, "offender");
        final FieldCorrupter corrupter = new FieldCorrupter(layout, sealed ? front.device().mapping().buffer() : new UnsafeBuffer(mapped),
            corruptions, RingFormat.of(front.negotiatedFeatures()));
        String threw = null;
        boolean selfDisconnected = false;
        boolean truncated = false;
        int written = 0;
        boolean flooded = false;
        try
        {
            while (written < budget && !stop && !accounting.failed())
            {
                try
                {
                    if (traffic)
                    {
                        sendAndPoll(front, trafficRandom);
                    }
                }
                catch (final Throwable t)
                {
                    threw = t.getClass().getSimpleName();
                    break;
                }
                if (!front.isConnected())
                {
                    selfDisconnected = true;
                    break;
                }
                final int burst = 1 + corruptions.nextInt(32);
                for (int i = 0; i < burst && written < budget; i++)
                {
                    written += corrupter.step(accounting);
                }
                if (flood && !flooded && written >= floodAt)
                {
                    flooded = true;
                    flood(front, floodMode, floodMillis, floodBytes);
                }
                if (sealed && sealedTruncate && written >= truncateAt)
                {
                    tryToResizeSealed(memory, layout.fileLength(), truncateChoice, truncatePages);
                    sealedTruncate = false;
                }
                if (!sealed && truncate && truncations && written >= truncateAt)
                {
                    truncated = true;
                    truncateAndRegrow(memory, layout.fileLength(), truncateChoice, truncatePages, truncateMicros);
                    break;
                }
                if (log.hasReason(domain))
                {
                    break;
                }
            }
        }
        finally
        {
            handler.offenderDomain(-1);
            // the backend's word on the episode, from its own counters file, which the writer cannot reach
            final java.util.Map<DeviceCounter, Long> counters = BackendCounters.read(dir).get(domain);
            for (final DeviceCounter c : OFFENDER_COUNTERS)
            {
                accounting.offenderCounter(c.key(), counters == null ? 0 : counters.getOrDefault(c, 0L));
            }
            try
            {
                front.close();
            }
            catch (final Throwable t)
            {
                threw = threw == null ? "close: " + t.getClass().getSimpleName() : threw;
            }
            if (mapped != null)
            {
                IoUtil.unmap(mapped);
                mapped = null;
            }
            recordOutcome(k, domain, threw, selfDisconnected, truncated, traffic);
        }
    }

    private void sendAndPoll(final NetFront front, final SplittableRandom traffic)
    {
        final int headerLength = 4 + traffic.nextInt(front.maxHeaderLength() - 3);
        final int payloadLength = traffic.nextInt(4) == 0 ? traffic.nextInt(65536 - headerLength) : traffic.nextInt(9001);
        if (front.send(header, 0, headerLength, payload, 0, payloadLength, ++correlation) == SendResult.SENT)
        {
            accounting.offenderPackets.increment();
        }
        front.poll((id, status) -> { }, packet -> packet.copyTo(rxCopy, 0));
    }

    /** Waits for the backend's logged reason for dropping {@code domain} and files the episode under it. */
    private void recordOutcome(final long k, final int domain, final String threw, final boolean selfDisconnected,
        final boolean truncated, final boolean traffic)
    {
        final long deadline = System.nanoTime() + REASON_DEADLINE_NS;
        String reason;
        while ((reason = log.takeReason(domain)) == null && System.nanoTime() - deadline < 0 && !accounting.failed())
        {
            LockSupport.parkNanos(1_000_000);
        }
        if (reason == null)
        {
            if (!accounting.failed())
            {
                accounting.violation("offender domain " + domain + " (episode " + k + ") was not disconnected with a logged reason within 5 s"
                    + " of closing it");
            }
            return;
        }
        final String how;
        if (!reason.startsWith("info: "))
        {
            how = "backend disconnected it: " + shape(reason);
        }
        else if (selfDisconnected)
        {
            how = "the NetFront disconnected itself (bad responses or backend gone)";
        }
        else if (threw != null)
        {
            how = "the NetFront threw " + threw;
        }
        else
        {
            how = (truncated ? "truncated and regrown, unnoticed" : "survived its episode") + (traffic ? "" : " (idle NetFront)") + "; closed";
        }
        accounting.outcome(how);
    }

    /** A message with its numbers blanked, so that messages of one kind count together. */
    static String shape(final String message)
    {
        final String s = message.replaceAll("-?\\d+", "N");
        return s.length() > 120 ? s.substring(0, 120) : s;
    }

    /**
     * Shrinks the file under both mappings, waits, and grows it back: the backend may fault on
     * the missing pages (and must survive, disconnecting this frontend only). Nothing in this
     * thread touches the file while it is short.
     */
    private void truncateAndRegrow(final java.io.File file, final long length, final int choice, final int pages, final long micros)
    {
        final long shortLength = shortLength(length, choice, pages);
        try (RandomAccessFile raf = new RandomAccessFile(file, "rw"))
        {
            raf.setLength(shortLength);
            LockSupport.parkNanos(micros * 1000);
            raf.setLength(length);
        }
        catch (final java.io.IOException ex)
        {
            accounting.violation("could not truncate the offender's file: " + ex);
        }
        truncationWindow.opened();
        accounting.truncations.increment();
    }

    private static long shortLength(final long length, final int choice, final int pages)
    {
        return switch (choice)
        {
            case 0 -> 0;
            case 1 -> ControlDescriptor.CONTROL_LENGTH;
            case 2 -> Math.min(length - DeviceLayout.PAGE_SIZE, (long)pages * DeviceLayout.PAGE_SIZE);
            default -> length - DeviceLayout.PAGE_SIZE;
        };
    }

    /**
     * Tries to shrink (or, one time in four, grow) sealed memory: the kernel must refuse (EPERM,
     * the seals), and the memory keeps its size; anything else is a violation.
     */
    private void tryToResizeSealed(final java.io.File memory, final long length, final int choice, final int pages)
    {
        final long target = choice == 3 ? length + DeviceLayout.PAGE_SIZE : shortLength(length, choice, pages);
        try (RandomAccessFile raf = new RandomAccessFile(memory, "rw"))
        {
            try
            {
                raf.setLength(target);
                accounting.violation("sealed device memory was resized from " + length + " to " + target + " bytes");
            }
            catch (final java.io.IOException refused)
            {
                if (raf.length() != length)
                {
                    accounting.violation("sealed device memory is " + raf.length() + " bytes after a refused resize, expected " + length);
                }
                accounting.truncationsRefused.increment();
            }
        }
        catch (final java.io.IOException ex)
        {
            accounting.violation("could not open the offender's sealed memory: " + ex);
        }
    }

    /** Floods a socket of the backend's for {@code millis}: the offender's own doorbell or a raw client. */
    private void flood(final NetFront front, final int mode, final int millis, final byte[] bytes)
    {
        accounting.floods.increment();
        final ByteBuffer chunk = ByteBuffer.wrap(bytes);
        final long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        try
        {
            if (mode == 0)
            {
                final SocketChannel channel = ((Doorbell)DOORBELL.get(front)).channel();
                while (System.nanoTime() - end < 0 && channel.isOpen())
                {
                    chunk.clear();
                    accounting.floodBytes.add(channel.write(chunk));
                }
                return;
            }
            try (SocketChannel raw = SocketChannel.open(StandardProtocolFamily.UNIX))
            {
                raw.connect(UnixDomainSocketAddress.of(dir.resolve("backend.sock")));
                raw.configureBlocking(false);
                final ByteBuffer first = switch (mode)
                {
                    case 1 -> ByteBuffer.wrap(bytes, 0, 64);
                    case 2 -> Handshake.encode(new Handshake.Hello(ControlDescriptor.LAYOUT_VERSION, 1, Features.DEFAULT, "offender"));
                    case 3 -> ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(Handshake.HELLO_MAGIC).putInt(0x7FFFFFFF).flip();
                    default -> ByteBuffer.allocate(0);
                };
                accounting.floodBytes.add(raw.write(first));
                while (System.nanoTime() - end < 0)
                {
                    if (mode == 4)
                    {
                        LockSupport.parkNanos(1_000_000); // connected and silent
                        continue;
                    }
                    chunk.clear();
                    accounting.floodBytes.add(raw.write(chunk));
                }
            }
        }
        catch (final java.io.IOException ex)
        {
            // the backend closed the socket on us: that is its right
        }
        catch (final IllegalAccessException ex)
        {
            throw new IllegalStateException(ex);
        }
    }
}

package dev.splitnet.backend.fuzz;

import dev.splitnet.api.GrantConstants;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.ReceivedPacket;
import dev.splitnet.api.TxClaim;
import dev.splitnet.api.XenbusState;
import dev.splitnet.frontend.NetFront;
import dev.splitnet.mmap.ControlDescriptor;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.BackendCounters;
import java.nio.file.Path;
import dev.splitnet.mmap.DeviceLayout;
import dev.splitnet.mmap.GrantEntryDescriptor;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;
import dev.splitnet.mmap.P2mDescriptor;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The well-behaved frontend: a real {@link NetFront} sending packets of 0..9000 payload bytes in
 * random fragments (built in place with tryClaim), checking every echoed byte, and accounting for
 * every packet's one status. Between polls it checks the parts of its device file nobody but
 * itself may write (control page fields, P2M, counter metadata) and that its grant entries changed
 * only in the in-use flags the backend sets. Runs on its own thread; records violations.
 */
final class Bystander implements Runnable
{
    private static final int MAX_IN_FLIGHT = 48;
    private static final long DRAIN_DEADLINE_NS = 15_000_000_000L;
    private static final int[] EDGE_PAYLOADS = {0, 1, 2, 18, 19, 20, 4095, 4096, 4097, 8191, 8192, 8193, 9000};

    /** What is known of a packet in flight or awaiting its echo. */
    private static final class State
    {
        final boolean echo;
        PacketStatus status;
        boolean received;

        State(final boolean echo)
        {
            this.echo = echo;
        }
    }

    private final NetFront front;
    private final FuzzAccounting accounting;
    private final SplittableRandom random;
    private final LongSupplier explainedErrorWindow;
    private final DeviceLayout layout;
    private final Map<Long, State> pending = new HashMap<>();
    private final UnsafeBuffer rxCopy = new UnsafeBuffer(new byte[1 << 17]);
    private final int[] fragmentLengths = new int[18];
    private final byte[] controlSnapshot;
    private final byte[] metadataSnapshot;
    private final long[] grantSnapshot;
    private final Path dir;
    private final HeldLedger ledger;
    private volatile boolean sending = true;
    private volatile long completions;
    private volatile boolean finished;
    private long nextId = 1;
    private long drainPolls;
    private long drainWork;

    /**
     * @param explainedErrorWindow how many bystander ERRORs may still be explained by a late fault
     *     from a truncated offender file (one per truncation, for a short time after it); it is
     *     asked, and decremented, on each ERROR.
     */
    Bystander(final NetFront front, final FuzzAccounting accounting, final long seed, final LongSupplier explainedErrorWindow,
        final HeldLedger ledger)
    {
        this.ledger = ledger;
        this.front = front;
        this.accounting = accounting;
        this.random = new SplittableRandom(seed ^ 0x3C3C3C3C3C3C3C3CL);
        this.explainedErrorWindow = explainedErrorWindow;
        this.layout = front.device().layout();
        this.dir = front.device().path().getParent();
        this.controlSnapshot = new byte[ControlDescriptor.FRONTEND_STATE_OFFSET];
        front.device().control().getBytes(0, controlSnapshot);
        this.metadataSnapshot = new byte[layout.countersMetadataLength()];
        front.device().countersMetadata().getBytes(0, metadataSnapshot);
        this.grantSnapshot = new long[layout.grantEntries()];
        for (int gref = 0; gref < grantSnapshot.length; gref++)
        {
            grantSnapshot[gref] = front.device().grantTableBuffer().getLong(gref * GrantEntryDescriptor.ENTRY_LENGTH);
        }
    }

    /** Stops sending; the thread then waits for every packet's status and echo, and ends. */
    void stopSending()
    {
        sending = false;
    }

    long completions()
    {
        return completions;
    }

    boolean finished()
    {
        return finished;
    }

    int inFlight()
    {
        return front.inFlight();
    }

    @Override
    public void run()
    {
        try
        {
            long drainDeadline = 0;
            int polls = 0;
            while (!accounting.failed())
            {
                // read once per round: stopSending() may flip it between two reads, and the
                // drain's deadline must be set before it is checked
                final boolean sendingNow = sending;
                if (sendingNow)
                {
                    if (front.inFlight() < MAX_IN_FLIGHT)
                    {
                        sendOne();
                    }
                }
                else if (drainDeadline == 0)
                {
                    drainDeadline = System.nanoTime() + DRAIN_DEADLINE_NS;
                }
                final int work = front.poll(this::onComplete, this::onReceive);
                if (!sendingNow)
                {
                    drainPolls++;
                    drainWork += work;
                }
                if (!front.isConnected())
                {
                    accounting.violation("the bystander was disconnected (backend state " + front.device().backendState() + ")");
                    break;
                }
                if ((++polls & 1023) == 0)
                {
                    checkMemory();
                }
                if (!sendingNow)
                {
                    if (front.inFlight() == 0 && allEchoesIn())
                    {
                        break;
                    }
                    if (System.nanoTime() - drainDeadline > 0)
                    {
                        accounting.violation("the bystander's last packets did not complete within 15 s: " + front.inFlight()
                            + " in flight, " + pending.size() + " awaiting status or echo " + pendingSummary() + "; " + rings()
                            + "; " + drainPolls + " polls since sending stopped did " + drainWork + " work");
                        break;
                    }
                }
                if (work == 0)
                {
                    Thread.yield();
                }
            }
            checkMemory();
            checkAccounting();
        }
        catch (final Throwable t)
        {
            accounting.violation("the bystander failed: " + t);
        }
        finally
        {
            finished = true;
        }
    }

    private String pendingSummary()
    {
        final StringBuilder sb = new StringBuilder("[");
        pending.entrySet().stream().limit(8).forEach(e -> sb.append(sb.length() > 1 ? ", " : "").append(e.getKey()).append(':')
            .append(e.getValue().status).append(e.getValue().echo ? "/echo" : "").append(e.getValue().received ? "/received" : ""));
        return sb.append(']').toString();
    }

    /** The shared index words of both rings, for a report. */
    private String rings()
    {
        final UnsafeBuffer tx = front.device().txRing();
        final UnsafeBuffer rx = front.device().rxRing();
        return String.format("TX req_prod=%d req_event=%d rsp_prod=%d rsp_event=%d (frontend %s); RX req_prod=%d req_event=%d rsp_prod=%d rsp_event=%d (frontend %s)",
            tx.getIntVolatile(0), tx.getIntVolatile(4), tx.getIntVolatile(8), tx.getIntVolatile(12), privateIndices("txRing"),
            rx.getIntVolatile(0), rx.getIntVolatile(4), rx.getIntVolatile(8), rx.getIntVolatile(12), privateIndices("rxRing"));
    }

    /** The NetFront's private ring indices, read by reflection for a failure report. */
    private String privateIndices(final String ringField)
    {
        try
        {
            final java.lang.reflect.Field f = NetFront.class.getDeclaredField(ringField);
            f.setAccessible(true);
            // a FrontendRing: its toString gives its private indices, in either format
            return String.valueOf(f.get(front));
        }
        catch (final ReflectiveOperationException | RuntimeException ex)
        {
            return "?";
        }
    }

    private boolean allEchoesIn()
    {
        for (final State s : pending.values())
        {
            if (s.status == null || s.echo && s.status == PacketStatus.OKAY && !s.received)
            {
                return false;
            }
        }
        return true;
    }

    private void sendOne()
    {
        final int payload = random.nextInt(4) == 0 ? EDGE_PAYLOADS[random.nextInt(EDGE_PAYLOADS.length)] : random.nextInt(9001);
        final int header = BystanderPacket.MIN_HEADER + random.nextInt(front.maxHeaderLength() - BystanderPacket.MIN_HEADER + 1);
        final int maxFragment = Math.min(front.maxFragmentLength(), 4096 * (1 + random.nextInt(3)));
        final int fewest = (payload + maxFragment - 1) / maxFragment;
        final int most = Math.min(18, payload);
        final int count = fewest >= most ? fewest : fewest + random.nextInt(most - fewest + 1);
        // random cut points: each fragment 1..maxFragment bytes
        int left = payload;
        for (int i = 0; i < count; i++)
        {
            final int restMin = count - i - 1;
            final int lo = Math.max(1, left - restMin * maxFragment);
            final int hi = Math.min(maxFragment, left - restMin);
            fragmentLengths[i] = i == count - 1 ? left : lo + random.nextInt(hi - lo + 1);
            left -= fragmentLengths[i];
        }
        final TxClaim claim = front.tryClaim(header, fragmentLengths, count);
        if (claim == null)
        {
            return;
        }
        final long id = nextId++;
        final int total = header + payload;
        BystanderPacket.fill(id, total, header, claim.header(), 0, 0, header);
        int at = header;
        for (int i = 0; i < count; i++)
        {
            BystanderPacket.fill(id, total, header, claim.fragment(i), 0, at, fragmentLengths[i]);
            at += fragmentLengths[i];
        }
        pending.put(id, new State(BystanderPacket.echoed(id)));
        accounting.bystanderSent.increment();
        claim.commit(id);
    }

    private void onComplete(final long id, final PacketStatus status)
    {
        completions++;
        final State state = pending.get(id);
        if (state == null || state.status != null)
        {
            accounting.violation("bystander packet " + id + " completed twice or was never sent (" + status + ")");
            return;
        }
        state.status = status;
        if (ledger != null && ledger.isHeld(id))
        {
            // held past the handler: its status is its holder's (or a late copy's, or a drop's)
            ledger.heard(id, status);
            switch (status)
            {
                case OKAY -> accounting.bystanderOkay.increment();
                case DROPPED -> accounting.bystanderDropped.increment();
                case ERROR -> accounting.bystanderError.increment();
                default -> accounting.bystanderDisconnected.increment();
            }
            pending.remove(id);
            return;
        }
        switch (status)
        {
            case OKAY -> accounting.bystanderOkay.increment();
            case DROPPED ->
            {
                accounting.bystanderDropped.increment();
                if (!state.echo)
                {
                    accounting.violation("bystander packet " + id + " was DROPPED, but only an echo without RX buffers may drop");
                }
                if (state.received)
                {
                    accounting.violation("bystander packet " + id + " was DROPPED, yet its echo arrived");
                }
            }
            case ERROR ->
            {
                accounting.bystanderError.increment();
                if (explainedErrorWindow.getAsLong() > 0)
                {
                    accounting.bystanderErrorExplained.increment();
                }
                else
                {
                    accounting.violation("bystander packet " + id + " completed ERROR" + errorCounters());
                }
            }
            default ->
            {
                accounting.bystanderDisconnected.increment();
                accounting.violation("bystander packet " + id + " completed " + status);
            }
        }
        if (!(state.echo && status == PacketStatus.OKAY) || state.received)
        {
            pending.remove(id);
        }
    }

    private String errorCounters()
    {
        final StringBuilder sb = new StringBuilder();
        for (final DeviceCounter c : DeviceCounter.values())
        {
            if (c.key().startsWith("error_") && backendCounter(c) != 0)
            {
                sb.append(' ').append(c.key()).append('=').append(backendCounter(c));
            }
        }
        return sb.length() == 0 ? " (no backend error counter moved)" : " (bystander counters:" + sb + ")";
    }

    private void onReceive(final ReceivedPacket packet)
    {
        final int length = packet.copyTo(rxCopy, 0);
        if (!BystanderPacket.looksLike(rxCopy, 0, length))
        {
            // a packet of the offender's the switch copied in: its content is the offender's business
            accounting.bystanderForeign.increment();
            return;
        }
        final long id = rxCopy.getLong(BystanderPacket.ID_OFFSET);
        final String wrong = BystanderPacket.check(rxCopy, 0, length);
        if (wrong != null)
        {
            accounting.violation("the bystander received a corrupted echo: " + wrong);
            return;
        }
        final State state = pending.get(id);
        if (state == null || !state.echo || state.received)
        {
            accounting.violation("the bystander received an echo of packet " + id + " it did not expect (duplicate, not echoed, or already completed"
                + (state == null ? "" : " " + state.status) + ")");
            return;
        }
        state.received = true;
        accounting.bystanderEchoes.increment();
        accounting.bystanderBytesChecked.add(length);
        if (state.status == PacketStatus.DROPPED)
        {
            accounting.violation("bystander packet " + id + " was DROPPED, yet its echo arrived");
        }
        if (state.status != null)
        {
            pending.remove(id);
        }
    }

    /** The regions the backend never writes, and the grant entries' frontend-owned bits. */
    private void checkMemory()
    {
        final UnsafeBuffer control = front.device().control();
        for (int i = 0; i < controlSnapshot.length; i++)
        {
            if (control.getByte(i) != controlSnapshot[i])
            {
                accounting.violation("the bystander's control page byte " + i + " changed (frontend-owned, written once)");
                return;
            }
        }
        if (front.device().frontendState() != XenbusState.CONNECTED || front.device().backendState() != XenbusState.CONNECTED)
        {
            accounting.violation("the bystander's states are " + front.device().frontendState() + "/" + front.device().backendState());
        }
        if (front.device().domainId() != front.domainId() || front.device().featuresNegotiated() != front.negotiatedFeatures())
        {
            accounting.violation("the bystander's domain id or negotiated features changed in its control page");
        }
        final UnsafeBuffer p2m = front.device().p2m();
        for (int f = 0; f < layout.frameCount(); f++)
        {
            final long entry = p2m.getLongVolatile(P2mDescriptor.offset(f));
            if (entry != P2mDescriptor.encode(P2mDescriptor.OWN, 0, f))
            {
                accounting.violation("the bystander's P2M entry " + f + " is " + P2mDescriptor.describe(entry)
                    + " (its own frame: it receives by copy, nobody writes it)");
                return;
            }
        }
        final UnsafeBuffer metadata = front.device().countersMetadata();
        for (int i = 0; i < metadataSnapshot.length; i++)
        {
            if (metadata.getByte(i) != metadataSnapshot[i])
            {
                accounting.violation("the bystander's counter metadata byte " + i + " changed");
                return;
            }
        }
        final UnsafeBuffer grants = front.device().grantTableBuffer();
        final int inUse = GrantConstants.GTF_READING | GrantConstants.GTF_WRITING;
        for (int gref = 0; gref < grantSnapshot.length; gref++)
        {
            final long now = grants.getLong(gref * GrantEntryDescriptor.ENTRY_LENGTH);
            final long was = grantSnapshot[gref];
            final boolean rx = gref >= layout.txFrameCount();
            final int flags = (int)(now & 0xFFFF);
            final int allowed = rx ? GrantConstants.GTF_WRITING : GrantConstants.GTF_READING;
            if ((now & ~(long)inUse) != (was & ~(long)inUse) || (flags & inUse & ~allowed) != 0)
            {
                accounting.violation(String.format("the bystander's grant entry %d is 0x%016x, was 0x%016x: only %s may change",
                    gref, now, was, rx ? "GTF_writing" : "GTF_reading"));
                return;
            }
        }
        for (final DeviceCounter c : new DeviceCounter[] {DeviceCounter.ERROR_FATAL, DeviceCounter.ERROR_BAD_GREF,
            DeviceCounter.ERROR_BAD_OFFSET, DeviceCounter.ERROR_BAD_SLOT, DeviceCounter.ERROR_TOO_MANY_FRAGMENTS,
            DeviceCounter.ERROR_SIZE_MISMATCH, DeviceCounter.ERROR_UNSUPPORTED})
        {
            if (backendCounter(c) != 0)
            {
                accounting.violation("the bystander's counter " + c.key() + " is " + backendCounter(c) + " (it sends only valid packets)");
                return;
            }
        }
    }

    private void checkAccounting()
    {
        final long sent = accounting.bystanderSent.sum();
        final long accounted = accounting.bystanderOkay.sum() + accounting.bystanderError.sum() + accounting.bystanderDropped.sum();
        if (sent != accounted)
        {
            accounting.violation("bystander packets sent=" + sent + " but okay+error+dropped=" + accounted
                + " (disconnected=" + accounting.bystanderDisconnected.sum() + ", in flight " + front.inFlight() + ")");
        }
        int missing = 0;
        for (final State s : pending.values())
        {
            if (s.echo && s.status == PacketStatus.OKAY && !s.received)
            {
                missing++;
            }
        }
        if (missing > 0)
        {
            accounting.violation(missing + " bystander packets completed OKAY as echoes but their echo never arrived");
        }
    }

    /** What the backend counted for the bystander, from the backend's own counters file. */
    private long backendCounter(final DeviceCounter c)
    {
        final java.util.Map<DeviceCounter, Long> counters = BackendCounters.read(dir).get(front.domainId());
        return counters == null ? 0 : counters.getOrDefault(c, 0L);
    }
}

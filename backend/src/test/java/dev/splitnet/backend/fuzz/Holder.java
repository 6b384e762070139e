package dev.splitnet.backend.fuzz;

import dev.splitnet.api.Backend;
import dev.splitnet.api.Packet;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.backend.GrantFaultException;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * The holding part of the fuzz switch (issue 11, no netloop): holds a share of packets past their
 * handler and completes each after a random time (up to twice the copy deadline, so some are
 * copied late first), in shuffled order, with a random status, from {@code onDutyCycle} on the
 * backend's thread. A held bystander packet is read byte for byte when it is completed, after any
 * late copy, and checked like every other bystander packet; what the holder decided goes to the
 * {@link HeldLedger} for the bystander to check its statuses against. An offender packet's bytes
 * are read too (its grants may have been corrupted: a read or a hold may fail with a grant fault);
 * every other exception from {@code hold}, {@code held} or {@code complete} is a violation.
 */
final class Holder
{
    private static final int CAPACITY = 1 << 15;
    private static final PacketStatus[] STATUSES = {PacketStatus.OKAY, PacketStatus.OKAY, PacketStatus.ERROR, PacketStatus.DROPPED};

    private final FuzzAccounting accounting;
    private final HeldLedger ledger;
    private final SplittableRandom random;
    private final int sharePercent;
    private final long maxHoldNs;
    private final PacketReader reader;
    private final boolean crossDelivery;
    private final long[] handles = new long[CAPACITY];
    private final long[] dueNs = new long[CAPACITY];
    // the bystander packet's id, or 0 for an offender packet
    private final long[] bystanderIds = new long[CAPACITY];
    // the sending frontend's domain at the hold: a handle must name a packet of that frontend
    private final int[] domains = new int[CAPACITY];
    private final int[] due = new int[CAPACITY];
    private final boolean[] done = new boolean[CAPACITY];
    private int count;
    private volatile int outstanding;
    private volatile int backendHeld;

    /** Reads every byte of a packet into the switch's scratch buffer; returns the length. */
    interface PacketReader
    {
        int readAll(Packet packet);

        /** The bystander check of the bytes just read: null when right, else what is wrong. */
        String checkBystander(int length);
    }

    Holder(final FuzzAccounting accounting, final HeldLedger ledger, final long seed, final int sharePercent, final long copyDeadlineMs,
        final boolean crossDelivery, final PacketReader reader)
    {
        this.crossDelivery = crossDelivery;
        this.accounting = accounting;
        this.ledger = ledger;
        this.random = new SplittableRandom(seed ^ 0x6B6B6B6B6B6B6B6BL);
        this.sharePercent = sharePercent;
        this.maxHoldNs = TimeUnit.MILLISECONDS.toNanos(2 * copyDeadlineMs);
        this.reader = reader;
    }

    /** Whether to hold this packet: a share of them, while there is room. */
    boolean wants()
    {
        return count < CAPACITY && random.nextInt(100) < sharePercent;
    }

    /**
     * Holds a packet the switch decided to hold (in its handler).
     *
     * @param bystanderId the bystander packet's id, or 0 for an offender packet.
     * @throws GrantFaultException when an offender packet's grant cannot be pinned.
     */
    void hold(final Packet packet, final long bystanderId)
    {
        final long handle = packet.hold();
        if (handle <= 0 || packet.hold() != handle)
        {
            accounting.violation("Packet.hold() returned " + handle + ", then a different handle (must be positive and the same)");
            return;
        }
        if (bystanderId != 0)
        {
            ledger.held(bystanderId);
        }
        handles[count] = handle;
        dueNs[count] = System.nanoTime() + (long)(random.nextDouble() * maxHoldNs);
        bystanderIds[count] = bystanderId;
        domains[count] = packet.domainId();
        count++;
        accounting.heldPackets.increment();
        outstanding = count;
    }

    /** From onDutyCycle: completes the packets whose time has come, in shuffled order. */
    int onDutyCycle(final Backend backend, final int bystanderDomain, final int offenderDomain)
    {
        backendHeld = backend.heldCount();
        if (count == 0)
        {
            return 0;
        }
        final long now = System.nanoTime();
        int n = 0;
        for (int i = 0; i < count; i++)
        {
            if (now - dueNs[i] >= 0)
            {
                due[n++] = i;
            }
        }
        if (n == 0)
        {
            return 0;
        }
        for (int i = n - 1; i > 0; i--)
        {
            final int j = random.nextInt(i + 1);
            final int t = due[i];
            due[i] = due[j];
            due[j] = t;
        }
        for (int k = 0; k < n; k++)
        {
            final int i = due[k];
            complete(backend, handles[i], bystanderIds[i], domains[i], bystanderDomain, offenderDomain);
            done[i] = true;
        }
        int kept = 0;
        for (int i = 0; i < count; i++)
        {
            if (done[i])
            {
                done[i] = false;
                continue;
            }
            handles[kept] = handles[i];
            dueNs[kept] = dueNs[i];
            bystanderIds[kept] = bystanderIds[i];
            domains[kept] = domains[i];
            kept++;
        }
        count = kept;
        outstanding = count;
        backendHeld = backend.heldCount();
        return n;
    }

    private void complete(final Backend backend, final long handle, final long bystanderId, final int domain, final int bystanderDomain,
        final int offenderDomain)
    {
        try
        {
            final Packet packet = backend.held(handle);
            if (packet != null && packet.domainId() != domain)
            {
                accounting.violation("held packet handle=0x" + Long.toHexString(handle) + " was held from domain " + domain
                    + " but now names a packet of domain " + packet.domainId() + " (a gone frontend's table id given to another)");
                return;
            }
            if (packet == null)
            {
                accounting.heldDroppedByBackend.increment();
                if (backend.complete(handle, PacketStatus.OKAY))
                {
                    accounting.violation("held packet handle=0x" + Long.toHexString(handle) + ": held() said dropped but complete() returned true");
                }
                if (bystanderId != 0)
                {
                    ledger.droppedByBackend(bystanderId);
                }
                return;
            }
            final PacketStatus status = STATUSES[random.nextInt(STATUSES.length)];
            if (bystanderId != 0)
            {
                final int length = reader.readAll(packet);
                final String wrong = reader.checkBystander(length);
                if (wrong != null)
                {
                    accounting.violation("a held bystander packet read wrong at its completion (after any late copy): " + wrong);
                }
                else
                {
                    accounting.bystanderBytesChecked.add(length);
                    accounting.heldBystanderBytesChecked.add(length);
                }
                if (BystanderPacket.copiedToOffender(bystanderId) && offenderDomain > 0)
                {
                    // a delivery from a held (perhaps copied) packet; the offender's fate is not the bystander's
                    backend.deliver(offenderDomain, packet);
                }
                ledger.chose(bystanderId, status);
            }
            else
            {
                readOffender(backend, packet, bystanderDomain);
            }
            if (!backend.complete(handle, status))
            {
                accounting.violation("held packet handle=0x" + Long.toHexString(handle) + " (bystander id " + bystanderId
                    + "): held() returned it, yet complete() said the backend had dropped it");
            }
            accounting.heldCompleted.increment();
        }
        catch (final IllegalStateException ex)
        {
            accounting.violation("completing held packet handle=0x" + Long.toHexString(handle) + " (bystander id " + bystanderId + ") threw " + ex);
        }
        catch (final RuntimeException ex)
        {
            accounting.violation("completing held packet handle=0x" + Long.toHexString(handle) + " (bystander id " + bystanderId + ") threw " + ex);
        }
    }

    /** Reads an offender packet's bytes (its grants may be corrupt: a fault is its own business), sometimes copying it into the bystander. */
    private void readOffender(final Backend backend, final Packet packet, final int bystanderDomain)
    {
        try
        {
            if (crossDelivery && bystanderDomain > 0 && random.nextInt(4) == 0)
            {
                backend.deliver(bystanderDomain, packet);
            }
            reader.readAll(packet);
        }
        catch (final GrantFaultException ex)
        {
            accounting.heldOffenderFaults.increment();
        }
    }

    /** Packets this holder holds now (readable from any thread). */
    int outstanding()
    {
        return outstanding;
    }

    /** The backend's {@code heldCount()} as last read on its thread. */
    int backendHeld()
    {
        return backendHeld;
    }
}

package dev.splitnet.backend.fuzz;

import dev.splitnet.api.Backend;
import dev.splitnet.api.Fragment;
import dev.splitnet.api.Packet;
import dev.splitnet.api.RxClaim;
import dev.splitnet.api.ForwardingHandler;
import dev.splitnet.backend.GrantFaultException;
import dev.splitnet.api.PacketStatus;
import java.util.SplittableRandom;
import java.util.zip.CRC32;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The backend's handler, a small switch: it reads every byte of every packet (the bystander's are
 * checked byte for byte, the offender's checksummed), echoes some packets into their sender (so
 * both frontends' RX paths run), copies some bystander packets into the offender and, with cross
 * delivery on, some offender packets into the bystander before reading them (a lazy copy, whose
 * grant the hostile writer may revoke mid-copy). With a {@link Holder} it also holds a share of
 * both frontends' packets past the handler (bystander packets it would not echo), and completes
 * them later from {@link #onDutyCycle}. Runs on the backend's thread.
 */
final class SwitchHandler implements ForwardingHandler
{
    private final FuzzAccounting accounting;
    private final boolean crossDelivery;
    private final SplittableRandom random;
    private final UnsafeBuffer scratch = new UnsafeBuffer(new byte[1 << 17]);
    private final CRC32 crc = new CRC32();
    private volatile Backend backend;
    private volatile int bystanderDomain = -1;
    private volatile int offenderDomain = -1;
    private Holder holder;
    /** Checksum of everything read, so the reads cannot be optimised away. */
    long checksum;

    SwitchHandler(final FuzzAccounting accounting, final boolean crossDelivery, final long seed)
    {
        this.accounting = accounting;
        this.crossDelivery = crossDelivery;
        // the handler's choices depend on the packets' interleaving, which timing decides
        this.random = new SplittableRandom(seed ^ 0x5A5A5A5A5A5A5A5AL);
    }

    /** Turns holding on (before the backend starts): {@code sharePercent} of the packets that may be held are. */
    Holder holding(final HeldLedger ledger, final long seed, final int sharePercent, final long copyDeadlineMs)
    {
        holder = new Holder(accounting, ledger, seed, sharePercent, copyDeadlineMs, crossDelivery, new Holder.PacketReader()
        {
            @Override
            public int readAll(final Packet packet)
            {
                return SwitchHandler.this.readAll(packet);
            }

            @Override
            public String checkBystander(final int length)
            {
                return BystanderPacket.check(scratch, 0, length);
            }
        });
        return holder;
    }

    @Override
    public int onDutyCycle(final Backend backend)
    {
        return (holder == null ? 0 : holder.onDutyCycle(backend, bystanderDomain, offenderDomain)) + buildForOffender(backend);
    }

    /**
     * One packet in four duty cycles built in backend frames for the offender (lent to it when it
     * negotiated lazy-rx, copied otherwise), so that frames are lent while its P2M is corrupted;
     * up to 28 KiB, so that rx-spans buffers are lent whole runs.
     */
    private int buildForOffender(final Backend backend)
    {
        final int offender = offenderDomain;
        if (offender <= 0 || random.nextInt(4) != 0 || !backend.isConnected(offender))
        {
            return 0;
        }
        final RxClaim claim = backend.claimRx(offender, random.nextInt(7 * 4096));
        if (claim == null)
        {
            return 0;
        }
        claim.buffer().setMemory(0, claim.length(), (byte)offender);
        claim.commit();
        return 1;
    }

    void backend(final Backend backend)
    {
        this.backend = backend;
    }

    void bystanderDomain(final int domain)
    {
        this.bystanderDomain = domain;
    }

    void offenderDomain(final int domain)
    {
        this.offenderDomain = domain;
    }

    @Override
    public PacketStatus onPacket(final Backend ignored, final Packet packet)
    {
        accounting.handled.increment();
        final int domain = packet.domainId();
        if (domain == bystanderDomain)
        {
            return onBystanderPacket(packet, domain);
        }
        final int bystander = bystanderDomain;
        if (crossDelivery && bystander > 0 && random.nextInt(4) == 0)
        {
            // before any read: the copy faults the fragments in itself
            backend.deliver(bystander, packet);
        }
        final int length = readAll(packet);
        crc.reset();
        crc.update(scratch.byteArray(), 0, Math.min(length, scratch.capacity()));
        checksum += crc.getValue();
        if (holder != null && holder.wants())
        {
            try
            {
                holder.hold(packet, 0);
                return PacketStatus.OKAY;
            }
            catch (final GrantFaultException ex)
            {
                // its grants were corrupted under it: the backend answers it ERROR
                accounting.heldOffenderFaults.increment();
                return PacketStatus.ERROR;
            }
        }
        final int choice = random.nextInt(8);
        if (choice < 2)
        {
            // built in backend frames: lent to a lazy-rx offender, copied into any other
            final RxClaim claim = backend.claimRx(domain, Math.min(length, scratch.capacity()));
            if (claim != null)
            {
                claim.buffer().putBytes(0, scratch, 0, claim.length());
                return claim.commit();
            }
        }
        if (choice < 4)
        {
            return backend.deliver(domain, packet);
        }
        return choice == 7 ? PacketStatus.DROPPED : PacketStatus.OKAY;
    }

    private PacketStatus onBystanderPacket(final Packet packet, final int domain)
    {
        final int length = readAll(packet);
        final String wrong = BystanderPacket.check(scratch, 0, length);
        if (wrong != null)
        {
            accounting.violation("the backend read a corrupted bystander packet: " + wrong);
            return PacketStatus.ERROR;
        }
        accounting.bystanderBytesChecked.add(length);
        final long id = scratch.getLong(BystanderPacket.ID_OFFSET);
        if (holder != null && !BystanderPacket.echoed(id) && holder.wants())
        {
            // read once here, and once more at its completion (after any late copy)
            holder.hold(packet, id);
            return PacketStatus.OKAY;
        }
        final int offender = offenderDomain;
        if (BystanderPacket.copiedToOffender(id) && offender > 0)
        {
            // the offender's RX ring may be corrupt: its fate is not the bystander's
            backend.deliver(offender, packet);
        }
        return BystanderPacket.echoed(id) ? backend.deliver(domain, packet) : PacketStatus.OKAY;
    }

    /** Copies header and every fragment into the scratch buffer; returns the packet's length. */
    private int readAll(final Packet packet)
    {
        int at = packet.headerLength();
        packet.header().getBytes(0, scratch, 0, at);
        for (int i = 0; i < packet.fragmentCount(); i++)
        {
            final Fragment fragment = packet.fragment(i);
            final int n = fragment.length();
            fragment.getBytes(0, scratch, at, n);
            at += n;
        }
        return at;
    }
}

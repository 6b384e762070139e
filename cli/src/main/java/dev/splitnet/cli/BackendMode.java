package dev.splitnet.cli;

import dev.splitnet.api.Backend;
import dev.splitnet.api.ForwardingHandler;
import dev.splitnet.api.Fragment;
import dev.splitnet.api.RxClaim;
import org.agrona.MutableDirectBuffer;
import dev.splitnet.api.Packet;
import dev.splitnet.api.PacketStatus;
import java.io.IOException;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.atomic.AtomicLong;

/** What the command-line backend does with each packet. */
public enum BackendMode
{
    /**
     * The demo's switch: to the frontend the destination MAC names (copied into its RX buffers), to
     * the local consumer when it names the backend itself, else zero-copy to the wire.
     */
    SWITCH,
    /** Every packet to the local consumer: held --hold-ms, then read, checked and completed. */
    LOCAL,
    /**
     * Back to the sender, copied into its RX buffers; with an rx mode other than copy, copied into
     * backend frames instead and those lent to a lazy-rx sender ({@code Backend.claimRx}).
     */
    ECHO,
    /** Reads every payload byte and checks the checksum in the header: OKAY or ERROR. */
    VERIFY,
    /** Everything to the wire by zero-copy egress; the payload is never mapped. */
    FORWARD,
    /** Completes every packet OKAY without touching it. */
    SINK;

    /** Largest datagram a UDP socket on loopback takes. */
    static final int MAX_DATAGRAM = 65507;

    /** Packet counts by fate, readable from another thread. */
    static final class Stats
    {
        final AtomicLong packets = new AtomicLong();
        final AtomicLong delivered = new AtomicLong();
        final AtomicLong egress = new AtomicLong();
        final AtomicLong verifyFailures = new AtomicLong();
        final AtomicLong dropped = new AtomicLong();
        /** Of the dropped: the destination frontend had too few receive buffers posted (rx_dropped_no_buffer). */
        final AtomicLong droppedNoRxBuffer = new AtomicLong();
        /** Of the dropped: no wire, a packet too big for a datagram, or the write failed. */
        final AtomicLong droppedWire = new AtomicLong();
    }

    /**
     * The handler for this mode; {@code egress} may be null when there is no wire. The local
     * consumer gets its duty-cycle turn in every mode (only switch and local give it packets).
     */
    ForwardingHandler handler(final DatagramChannel egress, final Stats stats, final LocalConsumer local, final boolean inBackendFrames)
    {
        final ForwardingHandler packets = packetHandler(egress, stats, local, inBackendFrames);
        return new ForwardingHandler()
        {
            @Override
            public PacketStatus onPacket(final Backend backend, final Packet packet)
            {
                return packets.onPacket(backend, packet);
            }

            @Override
            public int onDutyCycle(final Backend backend)
            {
                return local.onDutyCycle(backend);
            }
        };
    }

    private ForwardingHandler packetHandler(final DatagramChannel egress, final Stats stats, final LocalConsumer local,
        final boolean inBackendFrames)
    {
        final StreamChecksum checksum = new StreamChecksum();
        switch (this)
        {
            case SWITCH:
                return (backend, packet) -> count(stats, switchPacket(backend, egress, packet, stats, local, inBackendFrames));
            case LOCAL:
                return (backend, packet) -> count(stats, local.accept(backend, packet));
            case ECHO:
                return inBackendFrames
                    ? (backend, packet) -> count(stats, orElseDeliver(backend, packet, stats,
                        inBackendFrames(backend, packet.domainId(), packet, stats)))
                    : (backend, packet) -> count(stats, deliver(backend, packet.domainId(), packet, stats));
            case VERIFY:
                return (backend, packet) -> count(stats, verify(packet, checksum, stats));
            case FORWARD:
                return (backend, packet) -> count(stats, toWire(egress, packet, stats));
            case SINK:
            default:
                return (backend, packet) -> count(stats, PacketStatus.OKAY);
        }
    }

    private static PacketStatus count(final Stats stats, final PacketStatus status)
    {
        stats.packets.lazySet(stats.packets.get() + 1);
        if (status == PacketStatus.DROPPED)
        {
            stats.dropped.lazySet(stats.dropped.get() + 1);
        }
        return status;
    }

    private static PacketStatus switchPacket(final Backend backend, final DatagramChannel egress, final Packet packet, final Stats stats,
        final LocalConsumer local, final boolean inBackendFrames)
    {
        if (packet.headerLength() >= DemoFrame.ETHERTYPE_OFFSET)
        {
            final int dst = DemoFrame.domainOf(packet.header(), DemoFrame.DST_OFFSET);
            if (dst == DemoFrame.BACKEND)
            {
                return local.accept(backend, packet);
            }
            if (dst != DemoFrame.WIRE && backend.isConnected(dst))
            {
                // a lazy-rx destination gets the packet copied into backend frames it is lent (the
                // one copy a forward makes too, and the sender's grants are free at once)
                final PacketStatus lent = inBackendFrames ? inBackendFrames(backend, dst, packet, stats) : null;
                return lent != null ? lent : forward(backend, dst, packet, stats);
            }
        }
        return toWire(egress, packet, stats);
    }

    /** The switch's way: a destination without receive buffers gets the packet queued, not dropped at once. */
    private static PacketStatus forward(final Backend backend, final int dst, final Packet packet, final Stats stats)
    {
        return countDelivery(backend.forward(dst, packet), stats);
    }

    private static PacketStatus orElseDeliver(final Backend backend, final Packet packet, final Stats stats, final PacketStatus lent)
    {
        return lent != null ? lent : deliver(backend, packet.domainId(), packet, stats);
    }

    /**
     * As a NIC would receive it: the packet copied into backend frames of {@code dst}, then those
     * lent to it (lazy-rx). Null when {@code dst} takes no lent frames, or has none free: the caller
     * delivers the packet its usual way.
     */
    private static PacketStatus inBackendFrames(final Backend backend, final int dst, final Packet packet, final Stats stats)
    {
        final RxClaim claim = backend.claimRx(dst, packet.headerLength() + packet.payloadLength());
        if (claim == null)
        {
            return null;
        }
        boolean written = false;
        try
        {
            final MutableDirectBuffer into = claim.buffer();
            into.putBytes(0, packet.header(), 0, packet.headerLength());
            int at = packet.headerLength();
            for (int i = 0; i < packet.fragmentCount(); i++)
            {
                final Fragment fragment = packet.fragment(i);
                fragment.getBytes(0, into, at, fragment.length());
                at += fragment.length();
            }
            written = true;
        }
        catch (final RuntimeException ex)
        {
            // the sender's memory could not be read (its grant faulted): nothing goes to dst
            return PacketStatus.ERROR;
        }
        finally
        {
            if (!written)
            {
                // also for a memory fault (an Error) on the sender's mapping: the claim must end here
                claim.abort();
            }
        }
        return countDelivery(claim.commit(), stats);
    }

    private static PacketStatus deliver(final Backend backend, final int dst, final Packet packet, final Stats stats)
    {
        return countDelivery(backend.deliver(dst, packet), stats);
    }

    private static PacketStatus countDelivery(final PacketStatus status, final Stats stats)
    {
        if (status == PacketStatus.OKAY)
        {
            stats.delivered.lazySet(stats.delivered.get() + 1);
        }
        else if (status == PacketStatus.DROPPED)
        {
            // deliver drops only for want of posted receive buffers; forward when its queue is full too
            stats.droppedNoRxBuffer.lazySet(stats.droppedNoRxBuffer.get() + 1);
        }
        return status;
    }

    private static PacketStatus toWire(final DatagramChannel egress, final Packet packet, final Stats stats)
    {
        if (egress == null || packet.headerLength() + packet.payloadLength() > MAX_DATAGRAM)
        {
            stats.droppedWire.lazySet(stats.droppedWire.get() + 1);
            return PacketStatus.DROPPED;
        }
        try
        {
            packet.transferTo(egress);
            stats.egress.lazySet(stats.egress.get() + 1);
            return PacketStatus.OKAY;
        }
        catch (final IOException ex)
        {
            stats.droppedWire.lazySet(stats.droppedWire.get() + 1);
            return PacketStatus.DROPPED;
        }
    }

    private static PacketStatus verify(final Packet packet, final StreamChecksum checksum, final Stats stats)
    {
        final boolean ok = DemoFrame.isIntact(packet, checksum);
        if (!ok)
        {
            stats.verifyFailures.lazySet(stats.verifyFailures.get() + 1);
        }
        return ok ? PacketStatus.OKAY : PacketStatus.ERROR;
    }
}

package dev.splitnet.mmap;

import dev.splitnet.api.Features;
import org.agrona.concurrent.AtomicBuffer;

/**
 * The byte format of a device's two ring regions, fixed for a connection by the negotiated
 * features: Xen's netif shared ring, or ring v2 (feature {@code ring-v2}). The frontend lays its
 * rings out in it before its HELLO, so it learns the backend's features first (Xen's order: the
 * backend advertises, then the frontend initialises; a PROBE answered by an ADVERTISE, {@link Handshake.Advertise}).
 */
public enum RingFormat
{
    /** Xen's {@code io/ring.h} shared ring with {@code io/netif.h} entries (SharedRingDescriptor, NetifDescriptor). */
    XEN("xen-netif"),
    /** Ring v2 (RingV2Descriptor, NetifV2Entries). */
    V2("ring-v2");

    private final String label;

    RingFormat(final String label)
    {
        this.label = label;
    }

    /** The format the negotiated {@code features} select. */
    public static RingFormat of(final long features)
    {
        return (features & Features.RING_V2) != 0 ? V2 : XEN;
    }

    /** As {@code splitnet layout} and the logs print it. */
    public String label()
    {
        return label;
    }

    /** Entries of the TX ({@code tx}) or RX ring of a region of {@code regionBytes}. */
    public int entries(final int regionBytes, final boolean tx)
    {
        if (this == XEN)
        {
            return SharedRingDescriptor.ringSize(regionBytes, tx ? NetifDescriptor.TX_ENTRY_LENGTH : NetifDescriptor.RX_ENTRY_LENGTH);
        }
        return RingV2Descriptor.ringSize(regionBytes, tx ? RingV2Descriptor.TX_REQUEST_LENGTH : RingV2Descriptor.RX_REQUEST_LENGTH);
    }

    /** The frontend's end of a ring region, laid out for a first index of {@code start}. */
    public FrontendRing initFrontend(final AtomicBuffer region, final boolean tx, final int start)
    {
        if (this == XEN)
        {
            final FrontendRingV1 ring = new FrontendRingV1(region, tx);
            ring.init(start);
            return ring;
        }
        final FrontendRingV2 ring = new FrontendRingV2(region, tx);
        ring.init(start);
        return ring;
    }

    /** The backend's end of a ring region the frontend laid out. */
    public BackendRing attachBackend(final AtomicBuffer region, final boolean tx)
    {
        return this == XEN ? new BackendRingV1(region, tx) : new BackendRingV2(region, tx);
    }
}

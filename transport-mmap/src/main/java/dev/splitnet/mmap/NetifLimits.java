package dev.splitnet.mmap;

import dev.splitnet.api.NetifConstants;

/** Per-packet limits both sides enforce, derived from Xen's netif constants. */
public final class NetifLimits
{
    /** Payload fragments in one TX packet (Xen's XEN_NETIF_NR_SLOTS_MIN). */
    public static final int MAX_PAYLOAD_FRAGMENTS = NetifConstants.XEN_NETIF_NR_SLOTS_MIN;
    /** Ring requests one TX packet may use: the header request and its payload fragments. */
    public static final int MAX_TX_REQUESTS_PER_PACKET = MAX_PAYLOAD_FRAGMENTS + 1;
    /** Receive buffers one packet of the largest size needs. */
    public static final int MAX_RX_BUFFERS_PER_PACKET = (NetifConstants.XEN_NETIF_MAX_TX_SIZE + DeviceLayout.PAGE_SIZE - 1) / DeviceLayout.PAGE_SIZE;

    /**
     * Frames one RX buffer may span (feature rx-spans): 7, the most whole frames whose bytes a
     * response's 16-bit signed status can count (7 x 4096 = 28672; 8 frames would be 32768).
     */
    public static final int MAX_RX_SPAN_FRAMES = 7;

    private NetifLimits()
    {
    }
}

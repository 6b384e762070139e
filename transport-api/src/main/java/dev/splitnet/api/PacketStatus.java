package dev.splitnet.api;

/**
 * The fate of one transmitted packet, reported exactly once to its sender. The first three carry
 * the netif response status of Xen's {@code io/netif.h}; {@link #DISCONNECTED} is local: the peer
 * went away before it answered.
 */
public enum PacketStatus
{
    /** Delivered, forwarded or consumed ({@code NETIF_RSP_OKAY}). */
    OKAY(NetifConstants.NETIF_RSP_OKAY),
    /** Rejected as malformed or failed in the backend ({@code NETIF_RSP_ERROR}). */
    ERROR(NetifConstants.NETIF_RSP_ERROR),
    /** Well-formed but dropped, e.g. no receive buffer at the destination ({@code NETIF_RSP_DROPPED}). */
    DROPPED(NetifConstants.NETIF_RSP_DROPPED),
    /** The connection ended before the backend answered; no netif code exists for it. */
    DISCONNECTED(Short.MIN_VALUE);

    private static final PacketStatus[] BY_NETIF_CODE = { DROPPED, ERROR, OKAY };

    private final short netifCode;

    PacketStatus(final int netifCode)
    {
        this.netifCode = (short)netifCode;
    }

    /** The int16 status written into a {@code netif_tx_response}. */
    public short netifCode()
    {
        return netifCode;
    }

    /**
     * The status for a netif response code read from a ring.
     *
     * @return the status, or {@code null} when the code is not one a TX response may carry.
     */
    public static PacketStatus fromNetifCode(final int code)
    {
        final int index = code - NetifConstants.NETIF_RSP_DROPPED;
        return index >= 0 && index < BY_NETIF_CODE.length ? BY_NETIF_CODE[index] : null;
    }
}

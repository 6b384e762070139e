package dev.splitnet.api;

/**
 * Protocol constants of Xen's {@code io/netif.h} (x86-64), and the splitnet extension bits, which
 * use only bits Xen leaves unused. A test compiles the real header and compares every value.
 */
public final class NetifConstants
{
    /** Packet's protocol checksum is blank. */
    public static final int NETTXF_CSUM_BLANK = 1;
    /** Packet data validated against its checksum. */
    public static final int NETTXF_DATA_VALIDATED = 1 << 1;
    /** Packet continues in the next request. */
    public static final int NETTXF_MORE_DATA = 1 << 2;
    /** Packet followed by extra-info descriptors. */
    public static final int NETTXF_EXTRA_INFO = 1 << 3;
    /**
     * splitnet extension (feature header-slots): the request's gref field holds a header-slot
     * index and its offset the offset inside that slot. Xen defines TX flags bits 0-3 only.
     */
    public static final int NETTXF_SPLITNET_HEADER_SLOT = 1 << 15;
    /**
     * splitnet extension (feature frame-spans, with header-slots): the first request of a packet
     * carries its header in the header slot numbered by the request's {@code id}, {@code offset}
     * bytes long, and its own gref and data from offset 0 of that frame: the header and the first
     * payload fragment in one request. {@code size} stays the whole packet, as in Xen.
     */
    public static final int NETTXF_SPLITNET_HEADER_BY_ID = 1 << 14;

    public static final int NETRXF_DATA_VALIDATED = 1;
    public static final int NETRXF_CSUM_BLANK = 1 << 1;
    public static final int NETRXF_MORE_DATA = 1 << 2;
    public static final int NETRXF_EXTRA_INFO = 1 << 3;

    public static final int NETIF_RSP_DROPPED = -2;
    public static final int NETIF_RSP_ERROR = -1;
    public static final int NETIF_RSP_OKAY = 0;
    public static final int NETIF_RSP_NULL = 1;

    /** Largest packet a TX request chain may describe (its first request's uint16 size). */
    public static final int XEN_NETIF_MAX_TX_SIZE = 0xFFFF;
    /** Largest number of ring slots a packet may use, header included. */
    public static final int XEN_NETIF_NR_SLOTS_MIN = 18;

    private NetifConstants()
    {
    }
}

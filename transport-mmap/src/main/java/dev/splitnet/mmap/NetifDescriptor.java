package dev.splitnet.mmap;

/**
 * Byte layouts of the netif ring entries of Xen's {@code io/netif.h} on x86-64. A ring slot holds
 * the union of a request and a response, so its size is the larger of the two.
 *
 * <pre>
 * netif_tx_request (12)   gref:u32 @0 | offset:u16 @4 | flags:u16 @6 | id:u16 @8 | size:u16 @10
 * netif_tx_response (4)   id:u16 @0 | status:i16 @2
 * netif_rx_request (8)    id:u16 @0 | pad:u16 @2 | gref:u32 @4
 * netif_rx_response (8)   id:u16 @0 | offset:u16 @2 | flags:u16 @4 | status:i16 @6
 * </pre>
 */
public final class NetifDescriptor
{
    public static final int TX_REQ_GREF_OFFSET = 0;
    public static final int TX_REQ_OFFSET_OFFSET = 4;
    public static final int TX_REQ_FLAGS_OFFSET = 6;
    public static final int TX_REQ_ID_OFFSET = 8;
    public static final int TX_REQ_SIZE_OFFSET = 10;
    public static final int TX_REQUEST_LENGTH = 12;

    public static final int TX_RSP_ID_OFFSET = 0;
    public static final int TX_RSP_STATUS_OFFSET = 2;
    public static final int TX_RESPONSE_LENGTH = 4;

    /** Slot size of the TX ring: {@code union netif_tx_sring_entry}. */
    public static final int TX_ENTRY_LENGTH = Math.max(TX_REQUEST_LENGTH, TX_RESPONSE_LENGTH);

    public static final int RX_REQ_ID_OFFSET = 0;
    public static final int RX_REQ_PAD_OFFSET = 2;
    public static final int RX_REQ_GREF_OFFSET = 4;
    public static final int RX_REQUEST_LENGTH = 8;

    public static final int RX_RSP_ID_OFFSET = 0;
    public static final int RX_RSP_OFFSET_OFFSET = 2;
    public static final int RX_RSP_FLAGS_OFFSET = 4;
    public static final int RX_RSP_STATUS_OFFSET = 6;
    public static final int RX_RESPONSE_LENGTH = 8;

    /** Slot size of the RX ring: {@code union netif_rx_sring_entry}. */
    public static final int RX_ENTRY_LENGTH = Math.max(RX_REQUEST_LENGTH, RX_RESPONSE_LENGTH);

    private NetifDescriptor()
    {
    }
}

package dev.splitnet.backend.fuzz;

/** The parts of a device file the hostile writer corrupts, for choosing and for accounting. */
public enum Region
{
    /** req_prod, req_event, rsp_prod, rsp_event and pvt of the TX shared ring. */
    TX_RING_INDEX,
    /** Fields of netif_tx entries (requests and the responses written over them). */
    TX_RING_ENTRY,
    /** Requests forged at the TX producer and published by moving req_prod. */
    TX_FORGED_REQUEST,
    /** req_prod, req_event, rsp_prod, rsp_event and pvt of the RX shared ring. */
    RX_RING_INDEX,
    /** Fields of netif_rx entries. */
    RX_RING_ENTRY,
    /** RX buffers forged at the RX producer and published by moving req_prod. */
    RX_FORGED_REQUEST,
    /** Bytes of header slots. */
    HEADER_SLOT,
    /** flags, domid, the flags+domid word and frame of grant_entry_v1. */
    GRANT_ENTRY,
    /** Fields of the control page, both sides' lines included. */
    CONTROL,
    /** Entries of the P2M table. */
    P2M
}

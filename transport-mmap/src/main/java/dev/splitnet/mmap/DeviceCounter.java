package dev.splitnet.mmap;

/**
 * The counters every device file holds, in allocation order (counter id = ordinal). Each has one
 * writer, the frontend or the backend, so a release-ordered increment is enough; readers outside
 * the process (splitnet stat) see them through Agrona's CountersReader.
 */
public enum DeviceCounter
{
    // written by the frontend
    TX_PACKETS("tx_packets", "frontend: packets put on the TX ring", Side.FRONTEND),
    TX_BYTES("tx_bytes", "frontend: bytes put on the TX ring", Side.FRONTEND),
    TX_OKAY("tx_okay", "frontend: TX completions okay", Side.FRONTEND),
    TX_ERROR("tx_error", "frontend: TX completions error", Side.FRONTEND),
    TX_DROPPED("tx_dropped", "frontend: TX completions dropped", Side.FRONTEND),
    TX_DISCONNECTED("tx_disconnected", "frontend: TX completions disconnected", Side.FRONTEND),
    TX_BACK_PRESSURED("tx_back_pressured", "frontend: sends and claims refused for want of ring, slot or frame", Side.FRONTEND),
    RX_PACKETS("rx_packets", "frontend: packets received", Side.FRONTEND),
    RX_BYTES("rx_bytes", "frontend: bytes received", Side.FRONTEND),
    FRONTEND_DOORBELLS_SENT("fe_doorbells_sent", "frontend: doorbells sent", Side.FRONTEND),
    FRONTEND_DOORBELLS_RECEIVED("fe_doorbells_received", "frontend: doorbells received", Side.FRONTEND),
    // written by the backend
    BACKEND_TX_PACKETS("be_tx_packets", "backend: packets taken off the TX ring", Side.BACKEND),
    BACKEND_TX_BYTES("be_tx_bytes", "backend: bytes taken off the TX ring", Side.BACKEND),
    HEADER_BYTES_COPIED("header_bytes_copied", "backend: header bytes copied out of slots", Side.BACKEND),
    PAYLOAD_FAULTS("payload_faults", "backend: first CPU accesses to an unmapped fragment", Side.BACKEND),
    GRANT_MAPS("grant_maps", "backend: grants mapped for the CPU", Side.BACKEND),
    GRANT_PINS("grant_pins", "backend: grants pinned for a zero-copy transfer", Side.BACKEND),
    GRANT_UNMAPS("grant_unmaps", "backend: grants unmapped or unpinned", Side.BACKEND),
    PAYLOAD_BYTES_COPIED("payload_bytes_copied", "backend: payload bytes copied out through Fragment.getBytes (and deliver)", Side.BACKEND),
    ZERO_COPY_BYTES("zero_copy_bytes", "backend: payload bytes sent from the mapping without a CPU copy", Side.BACKEND),
    EGRESS_PACKETS("egress_packets", "backend: packets written whole to a channel by zero-copy transfer", Side.BACKEND),
    RX_DELIVERED("rx_delivered", "backend: packets copied into RX buffers", Side.BACKEND),
    RX_DELIVERED_BYTES("rx_delivered_bytes", "backend: bytes copied into RX buffers", Side.BACKEND),
    RX_DROPPED_NO_BUFFER("rx_dropped_no_buffer", "backend: deliveries dropped for want of posted RX buffers", Side.BACKEND),
    BACKEND_DOORBELLS_SENT("be_doorbells_sent", "backend: doorbells sent", Side.BACKEND),
    BACKEND_DOORBELLS_RECEIVED("be_doorbells_received", "backend: doorbells received", Side.BACKEND),
    ERROR_BAD_GREF("error_bad_gref", "backend: requests with a gref outside the table or not granted", Side.BACKEND),
    ERROR_BAD_OFFSET("error_bad_offset", "backend: requests with offset+size past the frame or slot", Side.BACKEND),
    ERROR_BAD_SLOT("error_bad_slot", "backend: requests naming a header slot out of range", Side.BACKEND),
    ERROR_TOO_MANY_FRAGMENTS("error_too_many_fragments", "backend: packets with too many fragments", Side.BACKEND),
    ERROR_SIZE_MISMATCH("error_size_mismatch", "backend: packets whose fragment sizes do not add up", Side.BACKEND),
    ERROR_UNSUPPORTED("error_unsupported", "backend: requests using flags or features not negotiated", Side.BACKEND),
    ERROR_HANDLER("error_handler", "backend: packets the handler failed on", Side.BACKEND),
    ERROR_FATAL("error_fatal", "backend: protocol violations that disconnected the frontend", Side.BACKEND),
    // added with permanent grants (after the error counters so that earlier ids never move)
    PERMANENT_GRANTS("permanent_grants", "backend: permanent grants kept mapped now", Side.BACKEND),
    GRANT_REUSES("grant_reuses", "backend: permanent-grant requests whose grants were all kept already", Side.BACKEND),
    // added with the hostile-frontend hardening (appended: earlier ids never move)
    ERROR_GRANT_UNSTABLE("error_grant_unstable",
        "backend: grant operations given up after the frontend rewrote the entry under " + GrantTable.MAX_CAS_ATTEMPTS + " CAS attempts",
        Side.BACKEND),
    RX_SOURCE_ERROR("rx_source_error", "backend: deliveries answered with an error because the source packet could not be read",
        Side.BACKEND),
    BACKEND_DOORBELL_FLOODS("be_doorbell_floods", "backend: doorbell drains cut short at their bound (a doorbell flood)",
        Side.BACKEND),
    FRONTEND_DOORBELL_FLOODS("fe_doorbell_floods", "frontend: doorbell drains cut short at their bound (a doorbell flood)",
        Side.FRONTEND),
    // added with held packets, no netloop (appended: earlier ids never move)
    HELD_PACKETS("held_packets", "backend: packets a consumer held past its handler, without a copy", Side.BACKEND),
    HELD_COMPLETED_NO_COPY("held_completed_no_copy", "backend: held packets completed before any copy was needed", Side.BACKEND),
    HELD_COPIED_DEADLINE("held_copied_deadline", "backend: held packets copied late because they were held past the copy deadline",
        Side.BACKEND),
    HELD_COPIED_PRESSURE("held_copied_pressure", "backend: held packets copied late because their frontend ran short of ring",
        Side.BACKEND),
    HELD_COPIED_DISCONNECT("held_copied_disconnect", "backend: held packets copied because their frontend disconnected",
        Side.BACKEND),
    HELD_DROPPED_BOUND("held_dropped_bound", "backend: held packets dropped because the backend's copy memory was full",
        Side.BACKEND),
    HELD_DROPPED_LIMIT("held_dropped_limit", "backend: held packets dropped because their holder kept them past the drop limit",
        Side.BACKEND),
    HELD_NOW("held_now", "backend: packets held now (gauge)", Side.BACKEND),
    COPY_MEMORY_BYTES("copy_memory_bytes", "backend: bytes of late copies in the backend's copy memory now (gauge)",
        Side.BACKEND),
    // added with the RX queues (forwarding without instant drops)
    RX_QUEUED("rx_queued", "backend: deliveries queued because too few RX buffers were posted (delivered later, or dropped)",
        Side.BACKEND),
    RX_DROPPED_QUEUE_FULL("rx_dropped_queue_full", "backend: deliveries dropped because the RX queue was full (bytes or packets)",
        Side.BACKEND),
    RX_DROPPED_DRAIN_TIMEOUT("rx_dropped_drain_timeout", "backend: queued deliveries dropped because no RX buffer came within the drain timeout",
        Side.BACKEND),
    RX_DROPPED_STALLED("rx_dropped_stalled", "backend: deliveries dropped at once because the frontend posted no RX buffer for the stall timeout",
        Side.BACKEND),
    RX_DROPPED_DISCONNECT("rx_dropped_disconnect", "backend: queued deliveries dropped because the frontend disconnected",
        Side.BACKEND),
    TX_QUEUED_DROPPED_PRESSURE("tx_queued_dropped_pressure",
        "backend: this frontend's packets not queued for another's RX buffers because half its TX ring waited in RX queues "
            + "past the sender pause", Side.BACKEND),
    TX_SENDER_PAUSES("tx_sender_pauses",
        "backend: times the backend left this frontend's TX ring unread because half of it waited in slower frontends' RX queues",
        Side.BACKEND),
    // added with ring v2
    RX_BUFFERS_REORDERED("rx_buffers_reordered",
        "backend: RX buffers filled out of posting order (ring v2, --rx-order shuffle)", Side.BACKEND),
    TX_IDS_COMPLETED_IN_RUNS("tx_ids_completed_in_runs",
        "frontend: TX ids completed by a ring v2 response that answered a run of more than one id", Side.FRONTEND),
    RX_FLIPS("rx_flips",
        "backend: RX buffers answered by lending a backend frame through the P2M instead of copying (lazy-rx)", Side.BACKEND),
    RX_FRAMES_LENT("rx_frames_lent",
        "backend: backend frames lent to the frontend now (a gauge)", Side.BACKEND),
    RX_COPIES_AVOIDED("rx_copies_avoided",
        "backend: lent buffers (a P2M entry each: one frame, or a run with rx-spans) the frontend gave back by posting its buffer again, never copied", Side.BACKEND),
    RX_LAZY_COPIES_PRESSURE("rx_lazy_copies_pressure",
        "backend: lent buffers copied into the frontend's own because the backend's frames ran low (lazy mode)", Side.BACKEND),
    RX_LAZY_COPIES_DEADLINE("rx_lazy_copies_deadline",
        "backend: lent buffers copied into the frontend's own because it held them past the lend deadline (lazy mode)", Side.BACKEND),
    RX_LENT_DROPPED("rx_lent_dropped",
        "backend: lent buffers taken back uncopied past the lend deadline (flip mode): their packets were lost", Side.BACKEND),
    RX_NO_BACKEND_FRAME("rx_no_backend_frame",
        "backend: RX claims refused because every backend frame of the frontend was lent or claimed", Side.BACKEND),
    ERROR_P2M("error_p2m",
        "backend: frontends disconnected for writing their P2M under a lent frame or posting a buffer twice", Side.BACKEND),
    RX_LENT_READS("rx_lent_reads",
        "frontend: RX buffers read through the P2M from a backend frame (no copy)", Side.FRONTEND),
    RX_LAZY_COPIES_WRITE("rx_lazy_copies_write",
        "frontend: lent buffers copied into the frontend's own because the application asked to write the packet", Side.FRONTEND);

    /** Which side writes a counter. */
    public enum Side
    {
        FRONTEND, BACKEND
    }

    /** Number of counters in a device file. */
    public static final int COUNT = values().length;

    /** Agrona counter type id of splitnet device counters. */
    public static final int TYPE_ID = 0x534E;

    private final String key;
    private final String label;
    private final Side writer;

    DeviceCounter(final String key, final String label, final Side writer)
    {
        this.key = key;
        this.label = label;
        this.writer = writer;
    }

    /** The short name used as a JSON key. */
    public String key()
    {
        return key;
    }

    /** The label stored in the counters metadata. */
    public String label()
    {
        return label;
    }

    public Side writer()
    {
        return writer;
    }
}

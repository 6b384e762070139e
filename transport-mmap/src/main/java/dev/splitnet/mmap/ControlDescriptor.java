package dev.splitnet.mmap;

import java.nio.charset.StandardCharsets;
import org.agrona.concurrent.AtomicBuffer;

/**
 * Byte layout of the control page at offset 0 of a device file: the splitnet counterpart of the
 * xenstore entries of a vif. Each side writes only its own fields; the frontend's and backend's
 * states sit on cache lines of their own.
 *
 * <pre>
 *    0 magic "SPLITNET":u64 | 8 layout_version:u32 (written last) | 12 page_size:u32 | 16 file_length:u64
 *   24 ring_pages:u32 | 28 tx_ring_entries:u32 | 32 rx_ring_entries:u32 | 36 header_slot_size:u32
 *   40 header_slot_count:u32 | 44 grant_entries:u32 | 48 frame_count:u32 | 52 tx_frame_count:u32
 *   56 counter_count:u32 | 60 initial_ring_index:u32
 *   64 tx_ring_offset:u64 | 72 rx_ring_offset | 80 header_slots_offset | 88 grant_table_offset
 *   96 p2m_offset | 104 counters_metadata_offset | 112 counters_values_offset | 120 frames_offset
 *  128 frontend_features_offered:u64 | 136 device_name_length:u32 | 140 device_name (up to 116 bytes)
 *  256 frontend_state:u32  (frontend's line)
 *  384 backend_state:u32 | 388 domain_id:u32 | 392 features_negotiated:u64
 *  400 backend_heartbeat:u64 (backend's line)
 *  4096 end of control page
 * </pre>
 *
 * <p>{@code backend_heartbeat} is a counter the backend advances from its duty cycle's housekeeping
 * (at least every 250 ms, even while it blocks); a frontend that sees it stand still for its
 * {@code backendTimeoutMs} treats the backend as gone (stopped or hung: the socket cannot tell).
 */
public final class ControlDescriptor
{
    /** "SPLITNET" read as a little-endian 64-bit word. */
    public static final long MAGIC = 0x54454E54494C5053L;
    /**
     * Major version in the high 16 bits, minor in the low 16 bits. 2: P2M entries are 64-bit
     * (state, sequence, frame: {@link P2mDescriptor}) for lazy receive, where 1 had a u32 frame.
     * 2.1: a P2M entry may carry a run of frames (rx-spans) in bits 29..31 of its frame field, zero
     * in 2.0; without rx-spans every entry is bit for bit as in 2.0, so the two connect.
     */
    public static final int LAYOUT_VERSION = 2 << 16 | 1;

    public static final int MAGIC_OFFSET = 0;
    public static final int LAYOUT_VERSION_OFFSET = 8;
    public static final int PAGE_SIZE_OFFSET = 12;
    public static final int FILE_LENGTH_OFFSET = 16;
    public static final int RING_PAGES_OFFSET = 24;
    public static final int TX_RING_ENTRIES_OFFSET = 28;
    public static final int RX_RING_ENTRIES_OFFSET = 32;
    public static final int HEADER_SLOT_SIZE_OFFSET = 36;
    public static final int HEADER_SLOT_COUNT_OFFSET = 40;
    public static final int GRANT_ENTRIES_OFFSET = 44;
    public static final int FRAME_COUNT_OFFSET = 48;
    public static final int TX_FRAME_COUNT_OFFSET = 52;
    public static final int COUNTER_COUNT_OFFSET = 56;
    public static final int INITIAL_RING_INDEX_OFFSET = 60;
    public static final int TX_RING_OFFSET_OFFSET = 64;
    public static final int RX_RING_OFFSET_OFFSET = 72;
    public static final int HEADER_SLOTS_OFFSET_OFFSET = 80;
    public static final int GRANT_TABLE_OFFSET_OFFSET = 88;
    public static final int P2M_OFFSET_OFFSET = 96;
    public static final int COUNTERS_METADATA_OFFSET_OFFSET = 104;
    public static final int COUNTERS_VALUES_OFFSET_OFFSET = 112;
    public static final int FRAMES_OFFSET_OFFSET = 120;
    public static final int FEATURES_OFFERED_OFFSET = 128;
    public static final int DEVICE_NAME_LENGTH_OFFSET = 136;
    public static final int DEVICE_NAME_OFFSET = 140;
    public static final int DEVICE_NAME_MAX_LENGTH = 256 - DEVICE_NAME_OFFSET;

    public static final int FRONTEND_STATE_OFFSET = 256;

    public static final int BACKEND_STATE_OFFSET = 384;
    public static final int DOMAIN_ID_OFFSET = 388;
    public static final int FEATURES_NEGOTIATED_OFFSET = 392;
    public static final int BACKEND_HEARTBEAT_OFFSET = FEATURES_NEGOTIATED_OFFSET + Long.BYTES;

    public static final int CONTROL_LENGTH = 4096;

    private ControlDescriptor()
    {
    }

    /**
     * The backend's beat: advances {@code backend_heartbeat}. Only the backend writes it, so a plain
     * read and an ordered (release) store suffice; pairs with the acquire in {@link #backendHeartbeat}.
     */
    public static void beat(final AtomicBuffer control)
    {
        control.putLongRelease(BACKEND_HEARTBEAT_OFFSET, control.getLong(BACKEND_HEARTBEAT_OFFSET) + 1);
    }

    /**
     * The backend's heartbeat counter, read by the frontend. Acquire pairs with the release in
     * {@link #beat}; only a change matters, never the value.
     */
    public static long backendHeartbeat(final AtomicBuffer control)
    {
        return control.getLongAcquire(BACKEND_HEARTBEAT_OFFSET);
    }

    /** The major part of a layout version word. */
    public static int major(final int version)
    {
        return version >>> 16;
    }

    /** Validates a device name: short, and safe as a file name. */
    public static void checkDeviceName(final String name)
    {
        if (name.isEmpty() || name.getBytes(StandardCharsets.UTF_8).length > DEVICE_NAME_MAX_LENGTH
            || !name.matches("[A-Za-z0-9._-]+") || name.startsWith("."))
        {
            throw new IllegalArgumentException("device name=" + name
                + " must be 1-" + DEVICE_NAME_MAX_LENGTH + " characters of [A-Za-z0-9._-], not starting with '.'");
        }
    }
}

package dev.splitnet.mmap;

/**
 * Byte layout of one P2M entry (the device file's P2M region: one per frame, guest frame to the
 * frame that backs it). Xen's P2M maps a guest's pseudo-physical frame to a machine frame; here
 * it maps a frontend frame either to itself or, while the backend lends it a frame of its own
 * (lazy receive, {@link dev.splitnet.api.Features#LAZY_RX}), to a frame of the backend's pool.
 *
 * <pre>
 *  63    61 60                         32 31  29 28                      0
 * +--------+-----------------------------+------+-------------------------+
 * | state  | seq (29 bits)               | run-1| frame (29 bits)         |
 * +--------+-----------------------------+------+-------------------------+
 * </pre>
 *
 * <p>One 64-bit word, so one atomic load gives state, frame and sequence together, and one
 * compare-and-set moves an entry from one state to the next. {@code frame} is the frontend's own
 * frame in {@link #OWN}, {@link #TAKEN} and {@link #VOID}, and a pool frame in {@link #LENT},
 * {@link #PINNED} and {@link #RECLAIMING}. {@code seq} advances on every transition, so an entry
 * lent, reclaimed and lent the same pool frame again never reads as unchanged (no ABA).
 * {@code run} (1 to 8) is how many consecutive frames the entry covers in LENT, PINNED and
 * RECLAIMING: the entry of an RX buffer's first frame lends the whole buffer (feature rx-spans: a
 * buffer of up to seven frames), frontend frames {@code f .. f+run-1} backed by pool frames
 * {@code frame .. frame+run-1}, and the entries of the buffer's other frames are not touched. It
 * is 1 in every other state, and then the entry is bit for bit what layout 2.0 wrote (run bits
 * zero, frames below 2^29): a peer without rx-spans never sees a run.
 *
 * <p>Who moves an entry (docs/PROTOCOL.md, "Lazy receive"):
 * <pre>
 *  OWN --backend lends--> LENT --frontend reads it--> PINNED --frontend writes it--> TAKEN
 *   ^                      |  \                        |                              |
 *   |        backend needs |   backend, flip mode:     | deadline                     |
 *   |          it back     |   VOID (packet dropped)   v                              |
 *   |                      +-----> RECLAIMING --copied back--> OWN                    |
 *   +------------------------- backend, when the frontend posts the buffer again -----+
 * </pre>
 */
public final class P2mDescriptor
{
    /** Bytes per entry. */
    public static final int ENTRY_LENGTH = 8;

    /** The frontend's own frame backs it (the initial, identity state). */
    public static final int OWN = 0;
    /** A backend pool frame backs it, lent with an RX response; nobody is reading it yet. */
    public static final int LENT = 1;
    /** The frontend is reading the lent pool frame (its receive view points there). */
    public static final int PINNED = 2;
    /** The backend is copying the lent frame back into the frontend's own frame. */
    public static final int RECLAIMING = 3;
    /** The frontend copied the lent frame into its own to write it: its own frame backs it again. */
    public static final int TAKEN = 4;
    /** The backend took its frame back without copying (flip mode, deadline): the packet is gone. */
    public static final int VOID = 5;

    private static final String[] STATE_NAMES = { "OWN", "LENT", "PINNED", "RECLAIMING", "TAKEN", "VOID", "state6", "state7" };

    static final int STATE_SHIFT = 61;
    static final int SEQ_SHIFT = 32;
    /** Sequence values wrap at 2^29. */
    public static final int SEQ_MASK = (1 << 29) - 1;
    static final int RUN_SHIFT = 29;
    static final int RUN_MASK = 0x7;
    /** Frame numbers are below 2^29. */
    public static final int FRAME_MASK = (1 << RUN_SHIFT) - 1;
    /** The most frames one entry covers. */
    public static final int MAX_RUN = RUN_MASK + 1;

    private P2mDescriptor()
    {
    }

    /** The entry of {@code frame} in the P2M region. */
    public static int offset(final int frame)
    {
        return frame * ENTRY_LENGTH;
    }

    /** An entry covering one frame. */
    public static long encode(final int state, final int seq, final int frame)
    {
        return ((long)state << STATE_SHIFT) | ((long)(seq & SEQ_MASK) << SEQ_SHIFT) | (frame & FRAME_MASK);
    }

    /** An entry covering {@code run} (1 to {@link #MAX_RUN}) consecutive frames from {@code frame}. */
    public static long encode(final int state, final int seq, final int frame, final int run)
    {
        return encode(state, seq, frame) | (long)((run - 1) & RUN_MASK) << RUN_SHIFT;
    }

    /** {@code entry} moved to {@code state}: the same frame and run, the next sequence. */
    public static long moved(final long entry, final int state)
    {
        return encode(state, next(seq(entry)), frame(entry), run(entry));
    }

    /** The frames the entry covers, 1 to {@link #MAX_RUN}. */
    public static int run(final long entry)
    {
        return ((int)(entry >>> RUN_SHIFT) & RUN_MASK) + 1;
    }

    public static int state(final long entry)
    {
        return (int)(entry >>> STATE_SHIFT);
    }

    public static int seq(final long entry)
    {
        return (int)(entry >>> SEQ_SHIFT) & SEQ_MASK;
    }

    public static int frame(final long entry)
    {
        return (int)entry & FRAME_MASK;
    }

    /** The sequence after {@code seq}. */
    public static int next(final int seq)
    {
        return (seq + 1) & SEQ_MASK;
    }

    /** An entry as {@code STATE(frame, seq)}, for error messages. */
    public static String describe(final long entry)
    {
        return STATE_NAMES[state(entry)] + "(frame=" + Integer.toUnsignedString(frame(entry)) + (run(entry) > 1 ? ", run=" + run(entry) : "")
            + ", seq=" + seq(entry) + ")";
    }
}

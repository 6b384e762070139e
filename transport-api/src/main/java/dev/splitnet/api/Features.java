package dev.splitnet.api;

/**
 * Feature bits a frontend offers and a backend accepts at connect time. With none set, the rings
 * carry plain Xen netif traffic. {@link #HEADER_SLOTS}, {@link #PERMANENT_GRANTS},
 * {@link #FRAME_SPANS}, {@link #RING_V2}, {@link #LAZY_RX} and {@link #RX_SPANS} are implemented; the other bits are reserved for the
 * extensions of the seed thread so that their numbers never move.
 */
public final class Features
{
    /** First TX request of a packet names a header slot instead of a grant. */
    public static final long HEADER_SLOTS = 1L;
    /**
     * A gref bit ({@link GrantConstants#GREF_PERMANENT}) lets the backend keep the grant mapped
     * from its first use until disconnect; the frontend never ends access to such a grant while
     * connected and reuses its frame as soon as the response is in.
     */
    public static final long PERMANENT_GRANTS = 1L << 1;
    /**
     * Ring v2 (docs/PROTOCOL.md, "Ring v2"): both ring regions in a format of one-way rings whose
     * entries carry a lap tag, so each side writes only lines of its own and a consumer polls the
     * entry itself; responses name their ids and come back in any order, a TX response may answer
     * a run of ids. The frontend learns whether the backend takes it before laying its rings out
     * (a PROBE before the HELLO). Not in {@link #DEFAULT}: offer it explicitly.
     */
    public static final long RING_V2 = 1L << 2;
    /**
     * Lazy receive (docs/PROTOCOL.md, "Lazy receive"): the backend may answer an RX buffer by
     * lending a frame of its own, a pool it creates for this frontend and sends read-only with its
     * WELCOME, and pointing the buffer's P2M entry at it; the frontend's receive view reads through
     * the P2M. The backend lends in rx mode lazy (its default) or flip ({@code --rx-mode}); in copy
     * mode it does not accept the bit. Needs {@link #PERMANENT_GRANTS} (a lent buffer stays granted, so the
     * backend can copy into it later). Not in {@link #DEFAULT}: offer it explicitly.
     */
    public static final long LAZY_RX = 1L << 3;
    /**
     * A TX payload request with a permanent gref may span consecutive grefs whose frames are
     * consecutive ({@code offset + size} up to 65535 instead of one frame): a 64 KiB payload is
     * one request instead of sixteen. Needs {@link #PERMANENT_GRANTS}, whose held range makes the
     * check a range check.
     */
    public static final long FRAME_SPANS = 1L << 4;

    /**
     * An RX buffer posted with a permanent gref may span up to seven consecutive grefs whose frames
     * are consecutive ({@link GrantConstants#GREF_SPAN_BITS} holds its frames less one), answered
     * by one response of up to 28672 bytes: a 64 KiB packet is three buffers and three responses
     * instead of sixteen. The frontend chooses the span ({@code FrontendContext.rxSpanFrames});
     * like lazy-rx it learns whether the backend takes it from a PROBE before posting. Needs
     * {@link #PERMANENT_GRANTS}. Not in {@link #DEFAULT}: offer it explicitly.
     */
    public static final long RX_SPANS = 1L << 5;

    /** What a frontend offers unless told otherwise. */
    public static final long DEFAULT = HEADER_SLOTS | PERMANENT_GRANTS | FRAME_SPANS;

    /** Everything this build can negotiate (a backend accepts all of it unless told otherwise). */
    public static final long SUPPORTED = DEFAULT | RING_V2 | LAZY_RX | RX_SPANS;

    private static final String[] NAMES = { "header-slots", "permanent-grants", "ring-v2", "lazy-rx", "frame-spans", "rx-spans" };

    private Features()
    {
    }

    /** Drops the bits whose prerequisite is missing: frame spans, lazy receive and RX spans need permanent grants. */
    public static long consistent(final long features)
    {
        return (features & PERMANENT_GRANTS) == 0 ? features & ~(FRAME_SPANS | LAZY_RX | RX_SPANS) : features;
    }

    /** A comma-separated list of the names of the bits set in {@code features}, for logs and JSON. */
    public static String describe(final long features)
    {
        final StringBuilder sb = new StringBuilder();
        for (int bit = 0; bit < 64; bit++)
        {
            if ((features & (1L << bit)) != 0)
            {
                if (sb.length() > 0)
                {
                    sb.append(',');
                }
                sb.append(bit < NAMES.length ? NAMES[bit] : "bit" + bit);
            }
        }
        return sb.toString();
    }

    /** The feature bit for a name used on the command line. */
    public static long parse(final String name)
    {
        for (int bit = 0; bit < NAMES.length; bit++)
        {
            if (NAMES[bit].equals(name))
            {
                return 1L << bit;
            }
        }
        throw new IllegalArgumentException("unknown feature=" + name + "; known: " + String.join(",", NAMES));
    }
}

package dev.splitnet.api;

/**
 * Feature bits a frontend offers and a backend accepts at connect time. With none set, the rings
 * carry plain Xen netif traffic. Only {@link #HEADER_SLOTS} is implemented so far; the other bits
 * are reserved for the extensions of the seed thread so that their numbers never move.
 */
public final class Features
{
    /** First TX request of a packet names a header slot instead of a grant. */
    public static final long HEADER_SLOTS = 1L;
    /** Reserved: a gref bit lets the backend keep the grant mapped. */
    public static final long PERMANENT_GRANTS = 1L << 1;
    /** Reserved: ring v2, buffer ids in RX responses allow out-of-order return. */
    public static final long RING_V2 = 1L << 2;
    /** Reserved: receive through the P2M table without an immediate copy. */
    public static final long LAZY_RX = 1L << 3;

    /** Everything this build can negotiate. */
    public static final long SUPPORTED = HEADER_SLOTS;

    private static final String[] NAMES = { "header-slots", "permanent-grants", "ring-v2", "lazy-rx" };

    private Features()
    {
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

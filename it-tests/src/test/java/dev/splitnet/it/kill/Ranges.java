package dev.splitnet.it.kill;

import java.util.BitSet;

/** A set of sequence numbers as text: {@code a-b,c-d,...} (empty: {@code -}), for the harness's reports. */
final class Ranges
{
    private Ranges()
    {
    }

    static String encode(final BitSet set)
    {
        if (set.isEmpty())
        {
            return "-";
        }
        final StringBuilder sb = new StringBuilder();
        int from = set.nextSetBit(0);
        while (from >= 0)
        {
            final int to = set.nextClearBit(from) - 1;
            sb.append(sb.length() == 0 ? "" : ",").append(from).append('-').append(to);
            from = set.nextSetBit(to + 1);
        }
        return sb.toString();
    }

    static BitSet decode(final String text)
    {
        final BitSet set = new BitSet();
        if (text.equals("-") || text.isEmpty())
        {
            return set;
        }
        for (final String range : text.split(","))
        {
            final int dash = range.indexOf('-');
            set.set(Integer.parseInt(range.substring(0, dash)), Integer.parseInt(range.substring(dash + 1)) + 1);
        }
        return set;
    }
}

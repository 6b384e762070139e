package dev.splitnet.cli;

import dev.splitnet.mmap.NetifLimits;
import java.util.SplittableRandom;

/**
 * How a payload is cut into fragments of at most {@code maxFragment} bytes (one frame, or 65535
 * with frame spans): as few as possible, or a random cut.
 */
public final class FragmentSplit
{
    private FragmentSplit()
    {
    }

    /**
     * Fills {@code lengths} with fragment sizes adding up to {@code payload}, each 1 to
     * {@code maxFragment} bytes, at most 18 of them; as few as possible when {@code random} is false.
     *
     * @return the number of fragments.
     */
    public static int split(final SplittableRandom random, final int payload, final boolean randomCut, final int maxFragment,
        final int[] lengths)
    {
        final int minimum = (payload + maxFragment - 1) / maxFragment;
        if (!randomCut || payload == 0)
        {
            for (int i = 0, left = payload; i < minimum; i++, left -= maxFragment)
            {
                lengths[i] = Math.min(left, maxFragment);
            }
            return minimum;
        }
        final int count = minimum + random.nextInt(Math.min(NetifLimits.MAX_PAYLOAD_FRAGMENTS, payload) - minimum + 1);
        int left = payload;
        for (int i = 0; i < count; i++)
        {
            final int remaining = count - i - 1;
            // every later fragment needs at least 1 byte and can take at most maxFragment
            final int lo = Math.max(1, left - remaining * maxFragment);
            final int hi = Math.min(maxFragment, left - remaining);
            lengths[i] = remaining == 0 ? left : lo + random.nextInt(hi - lo + 1);
            left -= lengths[i];
        }
        return count;
    }
}

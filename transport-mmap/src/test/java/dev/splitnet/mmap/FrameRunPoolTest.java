package dev.splitnet.mmap;

import java.util.ArrayDeque;
import java.util.Random;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class FrameRunPoolTest
{
    @Test
    void runsAreConsecutiveAndHandedOutNextFit()
    {
        final FrameRunPool pool = new FrameRunPool(100, 130);
        assertEquals(100, pool.acquire(16));
        assertEquals(116, pool.acquire(1));
        assertEquals(117, pool.acquire(64));
        assertEquals(130 - 81, pool.available());
        pool.release(100, 16);
        // next fit: the cursor is past 181, so the freed run at the start is found only after wrapping
        assertEquals(181, pool.acquire(40));
        // 221..229 are free but too short for 10: wraps to the start
        assertEquals(100, pool.acquire(10), "wraps to the start");
        for (int f = 100; f < 230; f++)
        {
            assertEquals(f < 110 || f >= 116 && f < 221, pool.isHeld(f), "frame " + f);
        }
    }

    @Test
    void aRunLongerThanAnyFreeGapIsRefusedThoughEnoughFramesAreFree()
    {
        final FrameRunPool pool = new FrameRunPool(0, 64);
        for (int i = 0; i < 8; i++)
        {
            assertEquals(i * 8, pool.acquire(8));
        }
        pool.release(8, 8);
        pool.release(40, 8);
        assertEquals(16, pool.available());
        assertEquals(-1, pool.acquire(9), "two gaps of 8 are not a run of 9");
        // the cursor wrapped to 0 after the pool filled: the first gap is found first
        assertEquals(8, pool.acquire(8));
        assertEquals(40, pool.acquire(8));
        assertEquals(-1, pool.acquire(1));
    }

    @Test
    void wrongReleasesAreRejectedAndChangeNothing()
    {
        final FrameRunPool pool = new FrameRunPool(10, 20);
        final int first = pool.acquire(5);
        assertThrows(IllegalStateException.class, () -> pool.release(first, 6), "longer than taken");
        assertThrows(IllegalStateException.class, () -> pool.release(9, 1), "below the pool");
        assertThrows(IllegalStateException.class, () -> pool.release(28, 3), "past the end");
        assertThrows(IllegalStateException.class, () -> pool.release(first, 0), "empty run");
        assertEquals(15, pool.available());
        pool.release(first, 5);
        final IllegalStateException twice = assertThrows(IllegalStateException.class, () -> pool.release(first, 5));
        assertTrue(twice.getMessage().contains("not held"), twice.getMessage());
        assertEquals(20, pool.available());
        assertEquals(-1, pool.acquire(0));
        assertEquals(-1, pool.acquire(21));
    }

    /** Random runs taken and given back in random order against a plain boolean model, across word boundaries. */
    @Test
    void randomWorkloadMatchesAModel()
    {
        final int capacity = 1000;
        final FrameRunPool pool = new FrameRunPool(0, capacity);
        final boolean[] model = new boolean[capacity];
        final ArrayDeque<int[]> held = new ArrayDeque<>();
        final Random random = new Random(7);
        for (int step = 0; step < 200_000; step++)
        {
            if (random.nextInt(3) > 0 || held.isEmpty())
            {
                final int length = 1 + random.nextInt(random.nextBoolean() ? 3 : 17);
                final int first = pool.acquire(length);
                if (first >= 0)
                {
                    for (int f = first; f < first + length; f++)
                    {
                        assertFalse(model[f], "frame " + f + " handed out twice");
                        model[f] = true;
                    }
                    held.add(new int[] { first, length });
                }
                else
                {
                    assertFalse(hasFreeRun(model, length), "a free run of " + length + " existed");
                }
            }
            else
            {
                final int[] run = random.nextBoolean() ? held.pollFirst() : held.pollLast();
                pool.release(run[0], run[1]);
                for (int f = run[0]; f < run[0] + run[1]; f++)
                {
                    model[f] = false;
                }
            }
        }
        int free = 0;
        for (final boolean used : model)
        {
            free += used ? 0 : 1;
        }
        assertEquals(free, pool.available());
    }

    private static boolean hasFreeRun(final boolean[] model, final int length)
    {
        int run = 0;
        for (final boolean used : model)
        {
            run = used ? 0 : run + 1;
            if (run >= length)
            {
                return true;
            }
        }
        return false;
    }
}

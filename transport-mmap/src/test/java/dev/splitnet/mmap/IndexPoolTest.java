package dev.splitnet.mmap;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** IndexPool: the free-list of header slots, frames and ring ids. */
class IndexPoolTest
{
    @Test
    void shouldHandOutEveryValueOnceLowestFirst()
    {
        final IndexPool pool = new IndexPool(100, 8);
        assertEquals(8, pool.capacity());
        assertEquals(8, pool.available());
        for (int i = 0; i < 8; i++)
        {
            assertEquals(100 + i, pool.acquire());
            assertEquals(7 - i, pool.available());
        }
    }

    @Test
    void shouldReturnMinusOneWhenEmpty()
    {
        final IndexPool pool = new IndexPool(0, 2);
        pool.acquire();
        pool.acquire();
        assertEquals(-1, pool.acquire());
        assertEquals(-1, pool.acquire());
        assertEquals(0, pool.available());
        assertEquals(-1, new IndexPool(5, 0).acquire(), "an empty pool has nothing to hand out");
    }

    @Test
    void shouldHandOutReleasedValueAgain()
    {
        final IndexPool pool = new IndexPool(0, 4);
        final Set<Integer> taken = new HashSet<>();
        for (int i = 0; i < 4; i++)
        {
            taken.add(pool.acquire());
        }
        assertEquals(Set.of(0, 1, 2, 3), taken);
        pool.release(2);
        assertEquals(1, pool.available());
        assertEquals(2, pool.acquire());
        pool.release(3);
        pool.release(0);
        assertEquals(3, pool.acquire(), "first released, first handed out");
        assertEquals(0, pool.acquire());
        assertEquals(-1, pool.acquire());
    }

    @Test
    void shouldTrackWhichValuesAreHeld()
    {
        final IndexPool pool = new IndexPool(10, 3);
        assertFalse(pool.isHeld(10));
        final int value = pool.acquire();
        assertTrue(pool.isHeld(value));
        assertFalse(pool.isHeld(11));
        pool.release(value);
        assertFalse(pool.isHeld(value));
        assertFalse(pool.isHeld(9), "below the pool");
        assertFalse(pool.isHeld(13), "above the pool");
        assertFalse(pool.isHeld(-1));
    }

    @Test
    void shouldRejectDoubleReleaseNamingTheValue()
    {
        final IndexPool pool = new IndexPool(10, 3);
        final int value = pool.acquire();
        pool.release(value);
        final IllegalStateException ex = assertThrows(IllegalStateException.class, () -> pool.release(value));
        assertTrue(ex.getMessage().contains("index=" + value), ex.getMessage());
        assertEquals(3, pool.available(), "a rejected release changes nothing");
        assertThrows(IllegalStateException.class, () -> pool.release(11), "never handed out");
    }

    @Test
    void shouldRejectReleaseOfForeignValueNamingTheValue()
    {
        final IndexPool pool = new IndexPool(10, 3);
        pool.acquire();
        for (final int foreign : new int[] {9, 13, -1, Integer.MIN_VALUE, Integer.MAX_VALUE})
        {
            final IllegalStateException ex = assertThrows(IllegalStateException.class, () -> pool.release(foreign));
            assertTrue(ex.getMessage().contains("index=" + foreign), ex.getMessage());
            assertTrue(ex.getMessage().contains("[10, 13)"), ex.getMessage());
        }
        assertEquals(2, pool.available());
    }

    @Test
    void shouldSurviveManyCyclesWithoutLosingValues()
    {
        final IndexPool pool = new IndexPool(0, 16);
        final int[] held = new int[16];
        for (int round = 0; round < 1000; round++)
        {
            final int n = 1 + round % 16;
            for (int i = 0; i < n; i++)
            {
                held[i] = pool.acquire();
                assertTrue(held[i] >= 0 && held[i] < 16);
            }
            for (int i = n - 1; i >= 0; i -= 2)
            {
                pool.release(held[i]);
            }
            for (int i = n - 2; i >= 0; i -= 2)
            {
                pool.release(held[i]);
            }
            assertEquals(16, pool.available());
        }
    }
}

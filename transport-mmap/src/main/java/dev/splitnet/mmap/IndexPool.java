package dev.splitnet.mmap;

/**
 * A queue of free small integers (header slots, ring ids), private to one thread: the value given
 * back longest ago is handed out first. With ids that name header slots, FIFO reuse makes the
 * frontend write the slots in ring order, a stream the hardware prefetches, instead of rewriting at
 * once the slot whose line the backend just read (a stack's order), which stalls on that line
 * coming back. Allocation-free after construction; double free and foreign values are rejected.
 */
public final class IndexPool
{
    private final int[] free;
    private final boolean[] isFree;
    private final int base;
    // free values are free[head], free[head+1], ... (mod capacity), available of them
    private int head;
    private int available;

    /** A pool holding {@code base, base+1, ..., base+count-1}, handed out lowest first. */
    public IndexPool(final int base, final int count)
    {
        this.base = base;
        this.free = new int[count];
        this.isFree = new boolean[count];
        for (int i = 0; i < count; i++)
        {
            free[i] = base + i;
            isFree[i] = true;
        }
        available = count;
    }

    public int capacity()
    {
        return free.length;
    }

    public int available()
    {
        return available;
    }

    /** Takes one index, or returns -1 when none is free. */
    public int acquire()
    {
        if (available == 0)
        {
            return -1;
        }
        final int value = free[head];
        head = head + 1 == free.length ? 0 : head + 1;
        available--;
        isFree[value - base] = false;
        return value;
    }

    /** Gives an index back. */
    public void release(final int value)
    {
        final int i = value - base;
        if (i < 0 || i >= free.length || isFree[i])
        {
            throw new IllegalStateException("index=" + value + " is not held from pool [" + base + ", " + (base + free.length) + ")");
        }
        isFree[i] = true;
        int tail = head + available;
        if (tail >= free.length)
        {
            tail -= free.length;
        }
        free[tail] = value;
        available++;
    }

    /** Whether {@code value} is currently handed out. */
    public boolean isHeld(final int value)
    {
        final int i = value - base;
        return i >= 0 && i < free.length && !isFree[i];
    }
}

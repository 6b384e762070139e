package dev.splitnet.mmap;

/**
 * A stack of free small integers (header slots, frames, ring ids), private to one thread.
 * Allocation-free after construction; double free and foreign values are rejected.
 */
public final class IndexPool
{
    private final int[] free;
    private final boolean[] isFree;
    private final int base;
    private int top;

    /** A pool holding {@code base, base+1, ..., base+count-1}, handed out lowest first. */
    public IndexPool(final int base, final int count)
    {
        this.base = base;
        this.free = new int[count];
        this.isFree = new boolean[count];
        for (int i = 0; i < count; i++)
        {
            free[i] = base + count - 1 - i;
            isFree[i] = true;
        }
        top = count;
    }

    public int capacity()
    {
        return free.length;
    }

    public int available()
    {
        return top;
    }

    /** Takes one index, or returns -1 when none is free. */
    public int acquire()
    {
        if (top == 0)
        {
            return -1;
        }
        final int value = free[--top];
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
        free[top++] = value;
    }

    /** Whether {@code value} is currently handed out. */
    public boolean isHeld(final int value)
    {
        final int i = value - base;
        return i >= 0 && i < free.length && !isFree[i];
    }
}

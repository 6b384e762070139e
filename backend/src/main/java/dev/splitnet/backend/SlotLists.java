package dev.splitnet.backend;

import java.util.Arrays;

/**
 * A few intrusive doubly linked lists over the slots of one pool, oldest first: each slot is on
 * at most one list, and appending, unlinking and finding the oldest are O(1) with nothing
 * allocated (the links are two int arrays indexed by slot). The pending table keeps its held,
 * queued and copied packets on them, so the oldest of each is the next to copy or drop.
 * One thread only.
 */
final class SlotLists
{
    /** No slot: the end of a list, or an empty one. */
    static final int NONE = -1;

    private final int[] head;
    private final int[] tail;
    private final int[] prev;
    private final int[] next;

    SlotLists(final int lists, final int slots)
    {
        this.head = new int[lists];
        this.tail = new int[lists];
        Arrays.fill(head, NONE);
        Arrays.fill(tail, NONE);
        this.prev = new int[slots];
        this.next = new int[slots];
    }

    /** The oldest slot on {@code list}, or {@link #NONE}. */
    int oldest(final int list)
    {
        return head[list];
    }

    /** Puts {@code slot}, on no list now, at the young end of {@code list}. */
    void append(final int list, final int slot)
    {
        final int last = tail[list];
        prev[slot] = last;
        next[slot] = NONE;
        if (last == NONE)
        {
            head[list] = slot;
        }
        else
        {
            next[last] = slot;
        }
        tail[list] = slot;
    }

    /** Takes {@code slot} off {@code list}, the list it is on. */
    void unlink(final int list, final int slot)
    {
        final int p = prev[slot];
        final int n = next[slot];
        if (p == NONE)
        {
            head[list] = n;
        }
        else
        {
            next[p] = n;
        }
        if (n == NONE)
        {
            tail[list] = p;
        }
        else
        {
            prev[n] = p;
        }
    }
}

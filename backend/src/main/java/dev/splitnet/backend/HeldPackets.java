package dev.splitnet.backend;

import dev.splitnet.api.PacketStatus;

/**
 * The backend's index of held packets: every frontend's {@link PendingTable} under a table id,
 * so that a handle (table id, slot, generation) finds its packet, even after its frontend went
 * away, until the last of its packets is completed or dropped. Duty-cycle thread only.
 *
 * <p>A handle is {@code generation << 32 | tableId << 16 | slot}: positive (generations are 31
 * bits and never 0), so 0 and negative numbers are never handles.
 */
final class HeldPackets
{
    /** Table ids are 16 bits in a handle. */
    static final int MAX_TABLES = 1 << 16;

    private PendingTable[] tables = new PendingTable[64];
    // ids of tables forgotten (their frontend gone, their last packet completed or dropped): a handle
    // naming one reads as dropped, not as misuse, until the id is given out again; fresh ids are
    // given out first, so that is after 65,536 connections
    private final boolean[] forgotten = new boolean[MAX_TABLES];
    // the ids of registered tables, compact (swap-removed), so that a scan costs the live ones only
    private int[] liveIds = new int[64];
    private final int[] livePosition = new int[MAX_TABLES];
    private int liveCount;
    private int[] freeIds = new int[0];
    private int freeIdCount;
    private int nextId;

    static long handle(final int tableId, final int slot, final int generation)
    {
        return (long)generation << 32 | (long)tableId << 16 | slot;
    }

    /** Gives a newly adopted frontend's table its id (allocates only when the index grows). */
    void register(final PendingTable table)
    {
        final int id;
        if (nextId < MAX_TABLES)
        {
            id = nextId++;
        }
        else if (freeIdCount > 0)
        {
            id = freeIds[--freeIdCount];
        }
        else
        {
            throw new IllegalStateException("more than " + MAX_TABLES + " frontends' packets are held at once");
        }
        if (id >= tables.length)
        {
            tables = java.util.Arrays.copyOf(tables, Math.min(MAX_TABLES, tables.length * 2));
        }
        tables[id] = table;
        forgotten[id] = false;
        if (liveCount == liveIds.length)
        {
            liveIds = java.util.Arrays.copyOf(liveIds, liveIds.length * 2);
        }
        livePosition[id] = liveCount;
        liveIds[liveCount++] = id;
        table.registered(id);
    }

    /** The frontend disconnected: its table stays while copies of its packets are held. */
    void detached(final PendingTable table)
    {
        if (table.heldCount() == 0)
        {
            forget(table);
        }
    }

    private void forget(final PendingTable table)
    {
        final int id = table.tableId();
        if (id < 0 || tables[id] != table)
        {
            return;
        }
        tables[id] = null;
        forgotten[id] = true;
        removeLive(id);
        if (freeIdCount == freeIds.length)
        {
            freeIds = java.util.Arrays.copyOf(freeIds, Math.max(16, freeIds.length * 2));
        }
        freeIds[freeIdCount++] = id;
    }

    BackendPacket held(final long handle)
    {
        if (isForgotten(handle))
        {
            return null;
        }
        return table(handle, "held").held(slotOf(handle), generationOf(handle), handle);
    }

    boolean complete(final long handle, final PacketStatus status)
    {
        if (isForgotten(handle))
        {
            return false;
        }
        final PendingTable table = table(handle, "complete");
        final boolean completed = table.complete(slotOf(handle), generationOf(handle), handle, status);
        if (table.isDetached() && table.heldCount() == 0)
        {
            forget(table);
        }
        return completed;
    }

    /** Copies and drops on the clock in every table, live or detached ({@link PendingTable#expire}). */
    int expire(final long now)
    {
        int work = 0;
        // backwards: forget() swap-removes the current id only
        for (int i = liveCount - 1; i >= 0; i--)
        {
            final PendingTable table = tables[liveIds[i]];
            if (table.heldCount() > 0)
            {
                work += table.expire(now);
                if (table.isDetached() && table.heldCount() == 0)
                {
                    forget(table);
                }
            }
        }
        return work;
    }

    int heldCount()
    {
        int held = 0;
        for (int i = 0; i < liveCount; i++)
        {
            held += tables[liveIds[i]].heldCount();
        }
        return held;
    }

    /** The backend is closing: every held packet is dropped. */
    void dropAll()
    {
        while (liveCount > 0)
        {
            final PendingTable table = tables[liveIds[liveCount - 1]];
            table.dropAll();
            forget(table);
        }
    }

    private void removeLive(final int id)
    {
        final int at = livePosition[id];
        final int last = liveIds[--liveCount];
        liveIds[at] = last;
        livePosition[last] = at;
    }

    /** Whether the handle names a table forgotten since (its packets all completed or dropped). */
    private boolean isForgotten(final long handle)
    {
        final int id = (int)(handle >>> 16) & 0xFFFF;
        return handle > 0 && forgotten[id];
    }

    private PendingTable table(final long handle, final String call)
    {
        final int id = (int)(handle >>> 16) & 0xFFFF;
        final int slot = slotOf(handle);
        final PendingTable table = handle > 0 && id < tables.length ? tables[id] : null;
        if (table == null || slot >= table.slots())
        {
            throw new IllegalStateException(call + ": handle=0x" + Long.toHexString(handle) + " names no held packet (table="
                + id + " slot=" + slot + "): pass a handle Packet.hold() returned, until it is completed");
        }
        return table;
    }

    private static int slotOf(final long handle)
    {
        return (int)handle & 0xFFFF;
    }

    private static int generationOf(final long handle)
    {
        return (int)(handle >>> 32);
    }
}

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
        if (freeIdCount > 0)
        {
            id = freeIds[--freeIdCount];
        }
        else if (nextId < MAX_TABLES)
        {
            id = nextId++;
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
        if (freeIdCount == freeIds.length)
        {
            freeIds = java.util.Arrays.copyOf(freeIds, Math.max(16, freeIds.length * 2));
        }
        freeIds[freeIdCount++] = id;
    }

    BackendPacket held(final long handle)
    {
        return table(handle, "held").held(slotOf(handle), generationOf(handle), handle);
    }

    boolean complete(final long handle, final PacketStatus status)
    {
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
        for (int id = 0; id < nextId; id++)
        {
            final PendingTable table = tables[id];
            if (table != null && table.heldCount() > 0)
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
        for (int id = 0; id < nextId; id++)
        {
            final PendingTable table = tables[id];
            if (table != null)
            {
                held += table.heldCount();
            }
        }
        return held;
    }

    /** The backend is closing: every held packet is dropped. */
    void dropAll()
    {
        for (int id = 0; id < nextId; id++)
        {
            final PendingTable table = tables[id];
            if (table != null)
            {
                table.dropAll();
                tables[id] = null;
            }
        }
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

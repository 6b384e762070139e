package dev.splitnet.backend;

import java.nio.ByteBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class HeaderSlotCopyTest
{
    private static final int SLOTS = 4096;

    /** A page of slots filled with a pattern no two neighbouring bytes share. */
    private static UnsafeBuffer slots()
    {
        final UnsafeBuffer slots = new UnsafeBuffer(ByteBuffer.allocateDirect(SLOTS + 4096));
        // page-aligned, as the device's header-slot region is
        final long address = slots.addressOffset();
        final int skip = (int)((4096 - (address & 4095)) & 4095);
        slots.wrap(address + skip, SLOTS);
        for (int i = 0; i < SLOTS; i++)
        {
            slots.putByte(i, (byte)(i * 31 + 7));
        }
        return slots;
    }

    @Test
    void copiesEveryByteAndLeavesTheSlotsAsTheyWere()
    {
        // ranges inside one line, across two and three, starting on a line and ending on one
        final int[][] ranges = { { 0, 64 }, { 128, 8 }, { 40, 100 }, { 63, 2 }, { 256, 128 }, { 4000, 96 }, { 10, 0 } };
        for (final int[] range : ranges)
        {
            final UnsafeBuffer slots = slots();
            final UnsafeBuffer header = new UnsafeBuffer(new byte[256]);
            HeaderSlotCopy.copyOut(slots, range[0], header, range[1]);
            for (int i = 0; i < range[1]; i++)
            {
                assertEquals((byte)((range[0] + i) * 31 + 7), header.getByte(i), "header byte " + i + " of range at " + range[0]);
            }
            for (int i = 0; i < SLOTS; i++)
            {
                assertEquals((byte)(i * 31 + 7), slots.getByte(i), "slot byte " + i + " changed by the copy of range at " + range[0]);
            }
        }
    }
}

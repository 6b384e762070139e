package dev.splitnet.mmap;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Each entry codec writes its fields at Xen's byte offsets (little-endian, checked byte by byte
 * here; the offsets themselves are checked against Xen's headers by XenAbiTest) and reads back
 * what it wrote, unsigned where Xen's field is, with no byte outside its entry touched.
 */
class NetifEntriesTest
{
    private static final int AT = 16;

    private static UnsafeBuffer ring()
    {
        final UnsafeBuffer ring = new UnsafeBuffer(new byte[64]);
        ring.setMemory(0, 64, (byte)0x5A);
        return ring;
    }

    private static void assertUntouchedOutside(final UnsafeBuffer ring, final int length)
    {
        for (int i = 0; i < 64; i++)
        {
            if (i < AT || i >= AT + length)
            {
                assertEquals((byte)0x5A, ring.getByte(i), "byte " + i + " outside the entry");
            }
        }
    }

    @Test
    void txRequest()
    {
        final UnsafeBuffer ring = ring();
        NetifEntries.TxRequest.write(ring, AT, 0x80000123, 0xFFFE, 0x0005, 0xBEEF, 0xFFFF);
        assertEquals(0x23, ring.getByte(AT) & 0xFF, "gref, low byte first at 0");
        assertEquals(0x80, ring.getByte(AT + 3) & 0xFF);
        assertEquals(0xFE, ring.getByte(AT + 4) & 0xFF, "offset at 4");
        assertEquals(0x05, ring.getByte(AT + 6) & 0xFF, "flags at 6");
        assertEquals(0xEF, ring.getByte(AT + 8) & 0xFF, "id at 8");
        assertEquals(0xFF, ring.getByte(AT + 11) & 0xFF, "size at 10");
        assertEquals(0x80000123, NetifEntries.TxRequest.gref(ring, AT));
        assertEquals(0xFFFE, NetifEntries.TxRequest.dataOffset(ring, AT));
        assertEquals(0x0005, NetifEntries.TxRequest.flags(ring, AT));
        assertEquals(0xBEEF, NetifEntries.TxRequest.id(ring, AT));
        assertEquals(0xFFFF, NetifEntries.TxRequest.size(ring, AT));
        assertUntouchedOutside(ring, NetifDescriptor.TX_REQUEST_LENGTH);
    }

    @Test
    void txResponse()
    {
        final UnsafeBuffer ring = ring();
        NetifEntries.TxResponse.write(ring, AT, 0xFFFF, (short)-2);
        assertEquals(0xFFFF, NetifEntries.TxResponse.id(ring, AT));
        assertEquals(-2, NetifEntries.TxResponse.status(ring, AT), "status is signed");
        assertEquals(0xFE, ring.getByte(AT + 2) & 0xFF, "status at 2");
        assertUntouchedOutside(ring, NetifDescriptor.TX_RESPONSE_LENGTH);
    }

    @Test
    void rxRequestZeroesItsPad()
    {
        final UnsafeBuffer ring = ring();
        NetifEntries.RxRequest.write(ring, AT, 0xABCD, 0x7FFFFFFF);
        assertEquals(0xABCD, NetifEntries.RxRequest.id(ring, AT));
        assertEquals(0, ring.getShort(AT + 2), "pad at 2 zeroed");
        assertEquals(0x7FFFFFFF, NetifEntries.RxRequest.gref(ring, AT));
        assertUntouchedOutside(ring, NetifDescriptor.RX_REQUEST_LENGTH);
    }

    @Test
    void rxResponse()
    {
        final UnsafeBuffer ring = ring();
        NetifEntries.RxResponse.write(ring, AT, 7, 4095, 0x0004, -1);
        assertEquals(7, NetifEntries.RxResponse.id(ring, AT));
        assertEquals(4095, NetifEntries.RxResponse.dataOffset(ring, AT));
        assertEquals(0x0004, NetifEntries.RxResponse.flags(ring, AT));
        assertEquals(-1, NetifEntries.RxResponse.status(ring, AT), "a negative status is an error code");
        NetifEntries.RxResponse.write(ring, AT, 7, 0, 0, 0x8000 - 1);
        assertEquals(0x7FFF, NetifEntries.RxResponse.status(ring, AT));
        assertUntouchedOutside(ring, NetifDescriptor.RX_RESPONSE_LENGTH);
    }
}

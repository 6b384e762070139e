package dev.splitnet.mmap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.*;

/** DeviceGeometry validation: every bad size is rejected with its name=value. */
class DeviceGeometryTest
{
    private static final int TX = NetifLimits.MAX_PAYLOAD_FRAGMENTS;
    private static final int RX = NetifLimits.MAX_RX_BUFFERS_PER_PACKET;

    private static void assertRejected(final String expectedInMessage, final Runnable construction)
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, construction::run);
        assertTrue(ex.getMessage().contains(expectedInMessage),
            () -> "message should name " + expectedInMessage + ": " + ex.getMessage());
    }

    @Test
    void shouldAcceptSmallestAndLargestValidGeometry()
    {
        final DeviceGeometry smallest = new DeviceGeometry(1, DeviceGeometry.MIN_HEADER_SLOT_SIZE, 1, TX, RX, 1);
        assertEquals(256, smallest.txRingEntries());
        assertEquals(256, smallest.rxRingEntries());
        final DeviceGeometry largest = new DeviceGeometry(DeviceGeometry.MAX_RING_PAGES, DeviceGeometry.MAX_HEADER_SLOT_SIZE,
            DeviceGeometry.MAX_FRAMES, DeviceGeometry.MAX_FRAMES - RX, RX, 1024);
        assertEquals(4096, largest.txRingEntries());
        assertEquals(4096, largest.rxRingEntries(), "8184 entries fit; the power of two below is 4096");
    }

    @Test
    void shouldGiveOneHeaderSlotPerTxRingEntry()
    {
        final DeviceGeometry geometry = DeviceGeometry.of(2, 128, 64, 32);
        assertEquals(geometry.txRingEntries(), geometry.headerSlotCount());
        assertEquals(512, geometry.headerSlotCount());
        assertEquals(DeviceCounter.COUNT, geometry.counterCount());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 3, 6, 32, Integer.MIN_VALUE, 1 << 20})
    void shouldRejectRingPagesNotAPowerOfTwoUpTo16(final int ringPages)
    {
        assertRejected("ringPages=" + ringPages, () -> new DeviceGeometry(ringPages, 128, 1, TX, RX, 1));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 3, 6, 32, Integer.MIN_VALUE, 1 << 20, 1 << 19})
    void shouldRejectRingPagesNamingThemWhenDerivingTheGeometry(final int ringPages)
    {
        assertRejected("ringPages=" + ringPages, () -> DeviceGeometry.of(ringPages, 128, 64, 32));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 32, 63, 100, 8192, -64})
    void shouldRejectHeaderSlotSizeNotAPowerOfTwoFrom64To4096(final int size)
    {
        assertRejected("headerSlotSize=" + size, () -> new DeviceGeometry(1, size, 1, TX, RX, 1));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, DeviceGeometry.MAX_FRAMES + 1})
    void shouldRejectHeaderSlotCountOutsideRange(final int count)
    {
        assertRejected("headerSlotCount=" + count, () -> new DeviceGeometry(1, 128, count, TX, RX, 1));
    }

    @ParameterizedTest
    @CsvSource({
        "17, 16",
        "18, 15",
        "-1, 16",
        "18, -5",
        "65520, 17",
        "2147483647, 2147483647",
        "18, 2147483647",
        "2147483647, 16"})
    void shouldRejectFrameCountsBelowPacketNeedsOrAboveMaxFrames(final int txFrames, final int rxFrames)
    {
        assertRejected("txFrames=" + txFrames + " rxFrames=" + rxFrames,
            () -> new DeviceGeometry(1, 128, 1, txFrames, rxFrames, 1));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 1025})
    void shouldRejectCounterCountOutsideRange(final int count)
    {
        assertRejected("counterCount=" + count, () -> new DeviceGeometry(1, 128, 1, TX, RX, count));
    }
}

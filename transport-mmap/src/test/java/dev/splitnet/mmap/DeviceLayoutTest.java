package dev.splitnet.mmap;

import org.agrona.BufferUtil;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;

import static dev.splitnet.mmap.ControlDescriptor.*;
import static dev.splitnet.mmap.DeviceLayout.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.*;

/** DeviceLayout: region placement, and the control page as untrusted input. */
class DeviceLayoutTest
{
    private static final String FILE = "/dev/shm/splitnet/vif0";
    private static final DeviceLayout LAYOUT = DeviceLayout.of(DeviceGeometry.of(2, 128, 64, 32));

    static Stream<DeviceGeometry> geometries()
    {
        return Stream.of(
            new DeviceGeometry(1, DeviceGeometry.MIN_HEADER_SLOT_SIZE, 1, NetifLimits.MAX_PAYLOAD_FRAGMENTS,
                NetifLimits.MAX_RX_BUFFERS_PER_PACKET, 1),
            DeviceGeometry.of(1, 128, 1024, 256),
            DeviceGeometry.of(2, 128, 64, 32),
            DeviceGeometry.of(4, 256, 300, 77),
            new DeviceGeometry(16, 4096, 65536, 65536 - 16, 16, 1024));
    }

    private record Region(String name, long offset, long length)
    {
        long end()
        {
            return offset + length;
        }
    }

    private static List<Region> regions(final DeviceLayout layout)
    {
        return List.of(
            new Region("control", 0, CONTROL_LENGTH),
            new Region("tx_ring", layout.txRingOffset(), layout.ringBytes()),
            new Region("rx_ring", layout.rxRingOffset(), layout.ringBytes()),
            new Region("header_slots", layout.headerSlotsOffset(), (long)layout.headerSlotCount() * layout.headerSlotSize()),
            new Region("grant_table", layout.grantTableOffset(), (long)layout.grantEntries() * GrantEntryDescriptor.ENTRY_LENGTH),
            new Region("p2m", layout.p2mOffset(), (long)layout.frameCount() * P2mDescriptor.ENTRY_LENGTH),
            new Region("counters_metadata", layout.countersMetadataOffset(), layout.countersMetadataLength()),
            new Region("counters_values", layout.countersValuesOffset(), layout.countersValuesLength()),
            new Region("frames", layout.framesOffset(), (long)layout.frameCount() * PAGE_SIZE));
    }

    private static AtomicBuffer controlPage(final DeviceLayout layout)
    {
        final AtomicBuffer control = new UnsafeBuffer(BufferUtil.allocateDirectAligned(CONTROL_LENGTH, 64));
        layout.writeTo(control, -10);
        control.putIntVolatile(LAYOUT_VERSION_OFFSET, LAYOUT_VERSION);
        return control;
    }

    private static String assertRejected(final AtomicBuffer control, final long fileLength, final String... expectedInMessage)
    {
        final DeviceFileException ex = assertThrows(DeviceFileException.class, () -> DeviceLayout.readFrom(control, fileLength, FILE));
        assertTrue(ex.getMessage().startsWith(FILE + ": "), () -> "message should name the file: " + ex.getMessage());
        for (final String expected : expectedInMessage)
        {
            assertTrue(ex.getMessage().contains(expected), () -> "message should contain '" + expected + "': " + ex.getMessage());
        }
        return ex.getMessage();
    }

    @ParameterizedTest
    @MethodSource("geometries")
    void shouldPlaceRegionsPageAlignedInOrderWithoutOverlap(final DeviceGeometry geometry)
    {
        final DeviceLayout layout = DeviceLayout.of(geometry);
        final List<Region> regions = regions(layout);
        for (int i = 0; i < regions.size(); i++)
        {
            final Region region = regions.get(i);
            assertEquals(0, region.offset() % PAGE_SIZE, () -> region + " is not page-aligned");
            assertTrue(region.length() > 0, () -> region + " is empty");
            if (i > 0)
            {
                final Region previous = regions.get(i - 1);
                assertTrue(region.offset() > previous.offset(), () -> region + " does not follow " + previous);
                assertTrue(previous.end() <= region.offset(), () -> previous + " overlaps " + region);
                assertTrue(region.offset() - previous.end() < PAGE_SIZE, () -> "more than alignment padding after " + previous);
            }
        }
        final Region frames = regions.get(regions.size() - 1);
        assertEquals(frames.end(), layout.fileLength(), "the file ends with the last frame");
        assertEquals(layout.framesOffset() + (long)layout.frameCount() * PAGE_SIZE, layout.fileLength());
        assertEquals(layout.frameOffset(layout.frameCount()), layout.fileLength());
        assertEquals(0, layout.fileLength() % PAGE_SIZE);
    }

    @ParameterizedTest
    @MethodSource("geometries")
    void shouldTakeSizesFromTheGeometry(final DeviceGeometry geometry)
    {
        final DeviceLayout layout = DeviceLayout.of(geometry);
        assertEquals(geometry.ringPages() * PAGE_SIZE, layout.ringBytes());
        assertEquals(geometry.txRingEntries(), layout.txRingEntries());
        assertEquals(geometry.rxRingEntries(), layout.rxRingEntries());
        assertEquals(geometry.txFrameCount() + geometry.rxFrameCount(), layout.frameCount());
        assertEquals(layout.frameCount(), layout.grantEntries(), "one grant entry per frame");
        assertEquals(geometry.txFrameCount(), layout.txFrameCount());
        assertEquals(geometry.rxFrameCount(), layout.rxFrameCount());
        assertEquals(geometry.counterCount() * CountersReader.METADATA_LENGTH, layout.countersMetadataLength());
        assertEquals(geometry.counterCount() * CountersReader.COUNTER_LENGTH, layout.countersValuesLength());
        assertTrue(SharedRingDescriptor.ENTRIES_OFFSET + layout.txRingEntries() * NetifDescriptor.TX_ENTRY_LENGTH <= layout.ringBytes());
        assertTrue(SharedRingDescriptor.ENTRIES_OFFSET + layout.rxRingEntries() * NetifDescriptor.RX_ENTRY_LENGTH <= layout.ringBytes());
    }

    @Test
    void shouldListEveryRegionInJson()
    {
        final String json = LAYOUT.toJson();
        for (final Region region : regions(LAYOUT))
        {
            assertTrue(json.contains("{\"name\":\"" + region.name() + "\",\"offset\":" + region.offset() + ",\"size\":" + region.length() + "}"),
                () -> region + " missing from " + json);
        }
        assertTrue(json.contains("\"file_length\":" + LAYOUT.fileLength()));
    }

    @ParameterizedTest
    @MethodSource("geometries")
    void shouldReadBackTheLayoutItWrote(final DeviceGeometry geometry)
    {
        final DeviceLayout layout = DeviceLayout.of(geometry);
        final AtomicBuffer control = controlPage(layout);
        assertEquals(layout, DeviceLayout.readFrom(control, layout.fileLength(), FILE));
        assertEquals(MAGIC, control.getLong(MAGIC_OFFSET));
        assertEquals(PAGE_SIZE, control.getInt(PAGE_SIZE_OFFSET));
        assertEquals(-10, control.getInt(INITIAL_RING_INDEX_OFFSET));
    }

    @Test
    void shouldWriteMagicAsSplitnetInAscii()
    {
        final AtomicBuffer control = controlPage(LAYOUT);
        final byte[] magic = new byte[8];
        control.getBytes(MAGIC_OFFSET, magic);
        assertEquals("SPLITNET", new String(magic, StandardCharsets.US_ASCII));
    }

    @Test
    void shouldNotWriteTheVersionWordWhichSignalsReady()
    {
        final AtomicBuffer control = new UnsafeBuffer(BufferUtil.allocateDirectAligned(CONTROL_LENGTH, 64));
        LAYOUT.writeTo(control, 0);
        assertEquals(0, control.getInt(LAYOUT_VERSION_OFFSET));
        assertRejected(control, LAYOUT.fileLength(), "layout version 0.0 is not supported");
    }

    @Test
    void shouldAcceptNewerMinorVersion()
    {
        final AtomicBuffer control = controlPage(LAYOUT);
        control.putIntVolatile(LAYOUT_VERSION_OFFSET, LAYOUT_VERSION + 3);
        assertEquals(LAYOUT, DeviceLayout.readFrom(control, LAYOUT.fileLength(), FILE));
    }

    @Test
    void shouldRejectWrongMagic()
    {
        final AtomicBuffer control = controlPage(LAYOUT);
        control.putLong(MAGIC_OFFSET, 0x1122334455667788L);
        assertRejected(control, LAYOUT.fileLength(), "not a splitnet device file", "magic=0x1122334455667788");
    }

    @Test
    void shouldRejectWrongMajorVersion()
    {
        final AtomicBuffer control = controlPage(LAYOUT);
        control.putIntVolatile(LAYOUT_VERSION_OFFSET, (major(LAYOUT_VERSION) + 1) << 16 | 2);
        assertRejected(control, LAYOUT.fileLength(),
            "layout version " + (major(LAYOUT_VERSION) + 1) + ".2 is not supported", "reads " + major(LAYOUT_VERSION) + ".x");
    }

    @Test
    void shouldRejectTamperedRegionOffset()
    {
        final AtomicBuffer control = controlPage(LAYOUT);
        final long tampered = LAYOUT.grantTableOffset() + PAGE_SIZE;
        control.putLong(GRANT_TABLE_OFFSET_OFFSET, tampered);
        assertRejected(control, LAYOUT.fileLength(), "region offsets do not match the geometry", "grantTableOffset=" + tampered);
    }

    @Test
    void shouldRejectEveryTamperedOffsetField()
    {
        for (final int field : new int[] {TX_RING_OFFSET_OFFSET, RX_RING_OFFSET_OFFSET, HEADER_SLOTS_OFFSET_OFFSET,
            GRANT_TABLE_OFFSET_OFFSET, P2M_OFFSET_OFFSET, COUNTERS_METADATA_OFFSET_OFFSET, COUNTERS_VALUES_OFFSET_OFFSET,
            FRAMES_OFFSET_OFFSET, FILE_LENGTH_OFFSET})
        {
            final AtomicBuffer control = controlPage(LAYOUT);
            control.putLong(field, control.getLong(field) - 8);
            assertRejected(control, LAYOUT.fileLength(), "region offsets do not match the geometry");
        }
        for (final int field : new int[] {TX_RING_ENTRIES_OFFSET, RX_RING_ENTRIES_OFFSET, GRANT_ENTRIES_OFFSET})
        {
            final AtomicBuffer control = controlPage(LAYOUT);
            control.putInt(field, control.getInt(field) * 2);
            assertRejected(control, LAYOUT.fileLength(), "region offsets do not match the geometry");
        }
    }

    @Test
    void shouldRejectCorruptGeometryNamingTheField()
    {
        final AtomicBuffer control = controlPage(LAYOUT);
        control.putInt(RING_PAGES_OFFSET, 3);
        assertRejected(control, LAYOUT.fileLength(), "corrupt geometry", "ringPages=3");

        final AtomicBuffer frames = controlPage(LAYOUT);
        frames.putInt(FRAME_COUNT_OFFSET, Integer.MIN_VALUE);
        frames.putInt(TX_FRAME_COUNT_OFFSET, NetifLimits.MAX_PAYLOAD_FRAGMENTS);
        assertRejected(frames, LAYOUT.fileLength(), "corrupt geometry", "txFrames=" + NetifLimits.MAX_PAYLOAD_FRAGMENTS);
    }

    @Test
    void shouldRejectFileLengthThatDiffersFromTheLayout()
    {
        final AtomicBuffer control = controlPage(LAYOUT);
        final long truncated = LAYOUT.fileLength() - PAGE_SIZE;
        assertRejected(control, truncated, "file is " + truncated + " bytes, its layout says " + LAYOUT.fileLength(), "truncated");
        assertRejected(control, LAYOUT.fileLength() + 1, "file is " + (LAYOUT.fileLength() + 1) + " bytes");
        assertRejected(control, 0, "file is 0 bytes");
    }
}

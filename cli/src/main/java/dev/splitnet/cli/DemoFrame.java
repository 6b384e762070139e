package dev.splitnet.cli;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The Ethernet-like header the demo, the CLI frontend and the tests put on every packet: MAC
 * addresses that name a domain, a sequence number and a checksum of the payload, so every
 * receiver can check every byte.
 *
 * <pre>
 *  0 dst MAC (6) | 6 src MAC (6) | 12 ethertype 0x88B5 (2) | 14 seq:u32 | 18 payload checksum:u64
 * 26 payload length:u32 | 30 .. 63 zero
 * </pre>
 *
 * A MAC of the form 02:00:00:00:HH:LL names domain 0xHHLL; anything else is off the host.
 */
public final class DemoFrame
{
    public static final int HEADER_LENGTH = 64;
    public static final int DST_OFFSET = 0;
    public static final int SRC_OFFSET = 6;
    public static final int ETHERTYPE_OFFSET = 12;
    public static final int SEQ_OFFSET = 14;
    public static final int CHECKSUM_OFFSET = 18;
    public static final int PAYLOAD_LENGTH_OFFSET = 26;
    /** IEEE 802 local experimental ethertype. */
    public static final short ETHERTYPE = (short)0x88B5;
    /** Destination for "somewhere on the wire". */
    public static final int WIRE = -1;
    /** The backend's own address (domain 0, Xen's dom0): frames to it are delivered locally. */
    public static final int BACKEND = dev.splitnet.api.GrantConstants.BACKEND_DOMAIN_ID;

    private DemoFrame()
    {
    }

    /** Writes a domain's MAC (or the wire's broadcast-like MAC for {@link #WIRE}). */
    public static void putMac(final MutableDirectBuffer buffer, final int offset, final int domainId)
    {
        if (domainId == WIRE)
        {
            for (int i = 0; i < 6; i++)
            {
                buffer.putByte(offset + i, (byte)0xFE);
            }
            return;
        }
        buffer.putByte(offset, (byte)0x02);
        buffer.putByte(offset + 1, (byte)0);
        buffer.putByte(offset + 2, (byte)0);
        buffer.putByte(offset + 3, (byte)0);
        buffer.putByte(offset + 4, (byte)(domainId >>> 8));
        buffer.putByte(offset + 5, (byte)domainId);
    }

    /** The domain a MAC names, or {@link #WIRE}. */
    public static int domainOf(final DirectBuffer buffer, final int offset)
    {
        if (buffer.getByte(offset) != 0x02 || buffer.getByte(offset + 1) != 0 || buffer.getByte(offset + 2) != 0
            || buffer.getByte(offset + 3) != 0)
        {
            return WIRE;
        }
        return ((buffer.getByte(offset + 4) & 0xFF) << 8) | (buffer.getByte(offset + 5) & 0xFF);
    }

    public static void writeHeader(final MutableDirectBuffer header, final int dst, final int src, final int seq,
        final long checksum, final int payloadLength)
    {
        header.setMemory(0, HEADER_LENGTH, (byte)0);
        putMac(header, DST_OFFSET, dst);
        putMac(header, SRC_OFFSET, src);
        header.putShort(ETHERTYPE_OFFSET, ETHERTYPE);
        header.putInt(SEQ_OFFSET, seq);
        header.putLong(CHECKSUM_OFFSET, checksum);
        header.putInt(PAYLOAD_LENGTH_OFFSET, payloadLength);
    }

    /** Fills {@code count} bytes with a pseudo-random pattern from {@code seed}, eight at a time. */
    public static long fill(final MutableDirectBuffer buffer, final int offset, final int count, final long seed)
    {
        long x = seed | 1;
        int i = 0;
        for (; i + 8 <= count; i += 8)
        {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            buffer.putLong(offset + i, x);
        }
        for (; i < count; i++)
        {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            buffer.putByte(offset + i, (byte)x);
        }
        return x;
    }

    /**
     * Whether a received frame is whole and intact: at least a header, and its payload's checksum
     * and length as the header says ({@code checksum} is reset and reused: nothing is allocated).
     */
    public static boolean isIntact(final dev.splitnet.api.ReceivedPacket packet, final StreamChecksum checksum)
    {
        final DirectBuffer first = packet.buffer(0);
        if (packet.length() < HEADER_LENGTH || first.capacity() < HEADER_LENGTH)
        {
            return false;
        }
        checksum.reset();
        checksum.update(first, HEADER_LENGTH, first.capacity() - HEADER_LENGTH);
        for (int i = 1; i < packet.bufferCount(); i++)
        {
            final DirectBuffer b = packet.buffer(i);
            checksum.update(b, 0, b.capacity());
        }
        return checksum.value() == first.getLong(CHECKSUM_OFFSET)
            && first.getInt(PAYLOAD_LENGTH_OFFSET) == packet.length() - HEADER_LENGTH;
    }

    /**
     * Whether a frame the backend took off a TX ring is intact: its payload fragments' checksum
     * and length as its header says. Reads every payload byte (faulting the fragments in, or
     * reading a held packet's late copy).
     */
    public static boolean isIntact(final dev.splitnet.api.Packet packet, final StreamChecksum checksum)
    {
        checksum.reset();
        for (int i = 0; i < packet.fragmentCount(); i++)
        {
            final var fragment = packet.fragment(i);
            checksum.update(fragment.buffer(), 0, fragment.length());
        }
        return packet.headerLength() >= HEADER_LENGTH
            && packet.header().getLong(CHECKSUM_OFFSET) == checksum.value()
            && packet.header().getInt(PAYLOAD_LENGTH_OFFSET) == packet.payloadLength();
    }
}

package dev.splitnet.backend.fuzz;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The bystander's packet format, shared by the bystander (which writes and checks echoes) and the
 * switch handler (which checks what the backend read): header and payload together are one byte
 * sequence of a magic, the correlation id, the total and header lengths, then bytes derived from
 * the id and their position, so any misplaced, stale or foreign byte shows.
 */
final class BystanderPacket
{
    static final int MAGIC = 0x54535942; // "BYST"
    static final int MAGIC_OFFSET = 0;
    static final int ID_OFFSET = 4;
    static final int TOTAL_OFFSET = 12;
    static final int HEADER_LENGTH_OFFSET = 16;
    /** The fixed fields; the smallest header. */
    static final int MIN_HEADER = 20;

    private BystanderPacket()
    {
    }

    /** The byte at position {@code i} (>= MIN_HEADER) of packet {@code id}. */
    static byte byteAt(final long id, final int i)
    {
        return (byte)(i * 131 + (i >>> 7) + id * 29 + (id >>> 8));
    }

    /** Whether packet {@code id} is echoed back into the bystander. */
    static boolean echoed(final long id)
    {
        return (mix(id) & 3) != 0;
    }

    /** Whether packet {@code id} is also copied into the offender's receive buffers (its fate is ignored). */
    static boolean copiedToOffender(final long id)
    {
        return (mix(id) & 0x30) == 0;
    }

    static long mix(final long id)
    {
        long z = id * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        return z ^ (z >>> 31);
    }

    /** Writes packet bytes [from, from + length) into {@code dst} at {@code at}. */
    static void fill(final long id, final int total, final int headerLength, final MutableDirectBuffer dst, final int at,
        final int from, final int length)
    {
        for (int i = 0; i < length; i++)
        {
            final int p = from + i;
            if (p >= MIN_HEADER)
            {
                dst.putByte(at + i, byteAt(id, p));
            }
        }
        if (from == 0)
        {
            dst.putInt(at + MAGIC_OFFSET, MAGIC);
            dst.putLong(at + ID_OFFSET, id);
            dst.putInt(at + TOTAL_OFFSET, total);
            dst.putInt(at + HEADER_LENGTH_OFFSET, headerLength);
        }
    }

    /** Whether {@code length} bytes at {@code at} start like a bystander packet. */
    static boolean looksLike(final DirectBuffer src, final int at, final int length)
    {
        return length >= MIN_HEADER && src.getInt(at + MAGIC_OFFSET) == MAGIC;
    }

    /**
     * Checks a whole packet held in {@code src}.
     *
     * @return null when every byte is right, or what is wrong.
     */
    static String check(final DirectBuffer src, final int at, final int length)
    {
        if (!looksLike(src, at, length))
        {
            return "not a bystander packet (length " + length + ")";
        }
        final long id = src.getLong(at + ID_OFFSET);
        final int total = src.getInt(at + TOTAL_OFFSET);
        if (total != length)
        {
            return "packet " + id + ": length " + length + ", its header says " + total;
        }
        for (int p = MIN_HEADER; p < length; p++)
        {
            if (src.getByte(at + p) != byteAt(id, p))
            {
                return "packet " + id + " (length " + length + "): byte " + p + " is " + src.getByte(at + p) + ", expected " + byteAt(id, p);
            }
        }
        return null;
    }
}

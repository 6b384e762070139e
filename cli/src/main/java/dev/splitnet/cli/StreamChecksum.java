package dev.splitnet.cli;

import org.agrona.DirectBuffer;

/**
 * A 64-bit checksum over a byte stream that may arrive in pieces of any size (fragments, receive
 * buffers): the same bytes give the same value however they are split. Eight bytes at a time
 * where the stream is word-aligned. Reusable and allocation-free.
 */
public final class StreamChecksum
{
    private static final long MULTIPLIER = 0x9E3779B97F4A7C15L;

    private long state;
    private long pending;
    private int pendingBytes;
    private long length;

    public StreamChecksum reset()
    {
        state = 0x6A09E667F3BCC909L;
        pending = 0;
        pendingBytes = 0;
        length = 0;
        return this;
    }

    public StreamChecksum update(final DirectBuffer buffer, final int offset, final int count)
    {
        int i = offset;
        final int end = offset + count;
        while (pendingBytes != 0 && i < end)
        {
            pushByte(buffer.getByte(i++));
        }
        for (; i + 8 <= end; i += 8)
        {
            mix(buffer.getLong(i));
        }
        while (i < end)
        {
            pushByte(buffer.getByte(i++));
        }
        length += count;
        return this;
    }

    private void pushByte(final byte b)
    {
        pending |= (b & 0xFFL) << (pendingBytes * 8);
        if (++pendingBytes == 8)
        {
            mix(pending);
            pending = 0;
            pendingBytes = 0;
        }
    }

    private void mix(final long word)
    {
        state = Long.rotateLeft((state ^ word) * MULTIPLIER, 29);
    }

    /** The checksum of everything fed since {@link #reset()}. */
    public long value()
    {
        long h = state ^ pending ^ (length * MULTIPLIER);
        h ^= h >>> 33;
        h *= 0xFF51AFD7ED558CCDL;
        return h ^ (h >>> 29);
    }
}

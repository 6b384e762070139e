package dev.splitnet.mmap;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static dev.splitnet.mmap.NetifDescriptor.*;

/**
 * The one place ring v2 entries are packed and unpacked ({@link RingV2Descriptor}). Each entry's
 * tagged word carries up to 48 bits of fields below its tag; {@link RingV2Producer#commit} adds
 * the tag and {@link RingV2Consumer#poll} strips it, so these methods deal in the 48 bits. Static
 * methods over longs and offsets: nothing is allocated per entry.
 *
 * <pre>
 *   TX request (16 B): gref u32 @0, offset u16 @4, flags u16 @6 (as netif_tx_request, plain
 *                      stores), then the word @8: id u16 | size u16 | reserved u16 | tag u16
 *   TX response (8 B): id u16 | status s16 | run u16 | tag u16
 *                      run: the response answers ids id, id+1, ..., id+run-1 (mod 2^16), all
 *                      with this status; 1 for a single packet. One word completes a batch.
 *   RX request  (8 B): gref u32 | id u16 | tag u16
 *   RX response (8 B): id u16 | offset u12 + flags u4 | status s16 | tag u16
 *                      the buffer it names by id, independent of its slot; flags are netif's
 *                      NETRXF_* low four bits, more_data among them: chains are linked by the
 *                      flag, never by borrowing an id.
 * </pre>
 */
public final class NetifV2Entries
{
    /** RX response offsets are 12 bits: a buffer is one 4096-byte frame. */
    public static final int RX_OFFSET_BITS = 12;
    /** RX response flags kept: NETRXF_data_validated, csum_blank, more_data, extra_info. */
    public static final int RX_FLAGS_MASK = 0xF;
    /** Offset of the TX request's tagged word. */
    public static final int TX_REQUEST_WORD_OFFSET = 8;

    private NetifV2Entries()
    {
    }

    /** TX request: written by the frontend, copied out once by the backend. */
    public static final class TxRequest
    {
        private TxRequest()
        {
        }

        /** The plain part; then commit {@link #word} through the producer. */
        public static void writeHead(final MutableDirectBuffer ring, final int offset, final int gref, final int dataOffset, final int flags)
        {
            ring.putInt(offset + TX_REQ_GREF_OFFSET, gref);
            ring.putShort(offset + TX_REQ_OFFSET_OFFSET, (short)dataOffset);
            ring.putShort(offset + TX_REQ_FLAGS_OFFSET, (short)flags);
        }

        public static long word(final int id, final int size)
        {
            return (id & 0xFFFFL) | (size & 0xFFFFL) << 16;
        }

        /**
         * The plain part as one little-endian long (gref @0, offset @4, flags @6, as
         * {@link #writeHead} lays them), for {@link RingV2Producer#commit(int, long, long)}.
         */
        public static long head(final int gref, final int dataOffset, final int flags)
        {
            return (gref & 0xFFFF_FFFFL) | (dataOffset & 0xFFFFL) << 32 | (flags & 0xFFFFL) << 48;
        }

        public static int gref(final DirectBuffer ring, final int offset)
        {
            return ring.getInt(offset + TX_REQ_GREF_OFFSET);
        }

        public static int dataOffset(final DirectBuffer ring, final int offset)
        {
            return ring.getShort(offset + TX_REQ_OFFSET_OFFSET) & 0xFFFF;
        }

        public static int flags(final DirectBuffer ring, final int offset)
        {
            return ring.getShort(offset + TX_REQ_FLAGS_OFFSET) & 0xFFFF;
        }

        public static int id(final long fields)
        {
            return (int)(fields & 0xFFFF);
        }

        public static int size(final long fields)
        {
            return (int)(fields >>> 16 & 0xFFFF);
        }

        /** The reserved 16 bits: 0 from an honest frontend. */
        public static int reserved(final long fields)
        {
            return (int)(fields >>> 32 & 0xFFFF);
        }
    }

    /** TX response: written by the backend, in any order, one word per run of ids. */
    public static final class TxResponse
    {
        private TxResponse()
        {
        }

        public static long word(final int id, final int status, final int run)
        {
            return (id & 0xFFFFL) | (status & 0xFFFFL) << 16 | (run & 0xFFFFL) << 32;
        }

        public static int id(final long fields)
        {
            return (int)(fields & 0xFFFF);
        }

        public static int status(final long fields)
        {
            return (short)(fields >>> 16);
        }

        public static int run(final long fields)
        {
            return (int)(fields >>> 32 & 0xFFFF);
        }
    }

    /** RX request: a buffer the frontend posts. */
    public static final class RxRequest
    {
        private RxRequest()
        {
        }

        public static long word(final int id, final int gref)
        {
            return (gref & 0xFFFF_FFFFL) | (id & 0xFFFFL) << 32;
        }

        public static int gref(final long fields)
        {
            return (int)fields;
        }

        public static int id(final long fields)
        {
            return (int)(fields >>> 32 & 0xFFFF);
        }
    }

    /** RX response: the buffer it filled, by id, in any order. */
    public static final class RxResponse
    {
        private RxResponse()
        {
        }

        public static long word(final int id, final int dataOffset, final int flags, final int status)
        {
            final int offsetAndFlags = (dataOffset & ((1 << RX_OFFSET_BITS) - 1)) | (flags & RX_FLAGS_MASK) << RX_OFFSET_BITS;
            return (id & 0xFFFFL) | (offsetAndFlags & 0xFFFFL) << 16 | (status & 0xFFFFL) << 32;
        }

        public static int id(final long fields)
        {
            return (int)(fields & 0xFFFF);
        }

        public static int dataOffset(final long fields)
        {
            return (int)(fields >>> 16) & ((1 << RX_OFFSET_BITS) - 1);
        }

        public static int flags(final long fields)
        {
            return (int)(fields >>> 16 + RX_OFFSET_BITS) & RX_FLAGS_MASK;
        }

        public static int status(final long fields)
        {
            return (short)(fields >>> 32);
        }
    }
}

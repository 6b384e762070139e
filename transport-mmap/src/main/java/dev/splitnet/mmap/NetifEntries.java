package dev.splitnet.mmap;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static dev.splitnet.mmap.NetifDescriptor.*;

/**
 * The one place ring entries are read and written: a codec per entry type of Xen's netif rings
 * ({@code netif_tx_request}, {@code netif_tx_response}, {@code netif_rx_request},
 * {@code netif_rx_response}; byte offsets in {@link NetifDescriptor}), as static methods over the
 * ring's buffer and an entry's offset, so nothing is allocated per entry. Readers get unsigned
 * fields as ints (a status is signed: negative values are error codes). These are plain accesses:
 * the ring's index protocol ({@link FrontRing}, {@link BackRing}) orders them.
 */
public final class NetifEntries
{
    private NetifEntries()
    {
    }

    /** {@code struct netif_tx_request}: written by the frontend, copied out once by the backend. */
    public static final class TxRequest
    {
        private TxRequest()
        {
        }

        public static void write(final MutableDirectBuffer ring, final int offset, final int gref, final int dataOffset, final int flags,
            final int id, final int size)
        {
            ring.putInt(offset + TX_REQ_GREF_OFFSET, gref);
            ring.putShort(offset + TX_REQ_OFFSET_OFFSET, (short)dataOffset);
            ring.putShort(offset + TX_REQ_FLAGS_OFFSET, (short)flags);
            ring.putShort(offset + TX_REQ_ID_OFFSET, (short)id);
            ring.putShort(offset + TX_REQ_SIZE_OFFSET, (short)size);
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

        public static int id(final DirectBuffer ring, final int offset)
        {
            return ring.getShort(offset + TX_REQ_ID_OFFSET) & 0xFFFF;
        }

        public static int size(final DirectBuffer ring, final int offset)
        {
            return ring.getShort(offset + TX_REQ_SIZE_OFFSET) & 0xFFFF;
        }
    }

    /** {@code struct netif_tx_response}: written by the backend, copied out once by the frontend. */
    public static final class TxResponse
    {
        private TxResponse()
        {
        }

        public static void write(final MutableDirectBuffer ring, final int offset, final int id, final short status)
        {
            ring.putShort(offset + TX_RSP_ID_OFFSET, (short)id);
            ring.putShort(offset + TX_RSP_STATUS_OFFSET, status);
        }

        public static int id(final DirectBuffer ring, final int offset)
        {
            return ring.getShort(offset + TX_RSP_ID_OFFSET) & 0xFFFF;
        }

        public static short status(final DirectBuffer ring, final int offset)
        {
            return ring.getShort(offset + TX_RSP_STATUS_OFFSET);
        }
    }

    /** {@code struct netif_rx_request}: written by the frontend (the pad zeroed), copied out once by the backend. */
    public static final class RxRequest
    {
        private RxRequest()
        {
        }

        public static void write(final MutableDirectBuffer ring, final int offset, final int id, final int gref)
        {
            ring.putShort(offset + RX_REQ_ID_OFFSET, (short)id);
            ring.putShort(offset + RX_REQ_PAD_OFFSET, (short)0);
            ring.putInt(offset + RX_REQ_GREF_OFFSET, gref);
        }

        public static int id(final DirectBuffer ring, final int offset)
        {
            return ring.getShort(offset + RX_REQ_ID_OFFSET) & 0xFFFF;
        }

        public static int gref(final DirectBuffer ring, final int offset)
        {
            return ring.getInt(offset + RX_REQ_GREF_OFFSET);
        }
    }

    /** {@code struct netif_rx_response}: written by the backend, copied out once by the frontend. */
    public static final class RxResponse
    {
        private RxResponse()
        {
        }

        public static void write(final MutableDirectBuffer ring, final int offset, final int id, final int dataOffset, final int flags,
            final int status)
        {
            ring.putShort(offset + RX_RSP_ID_OFFSET, (short)id);
            ring.putShort(offset + RX_RSP_OFFSET_OFFSET, (short)dataOffset);
            ring.putShort(offset + RX_RSP_FLAGS_OFFSET, (short)flags);
            ring.putShort(offset + RX_RSP_STATUS_OFFSET, (short)status);
        }

        public static int id(final DirectBuffer ring, final int offset)
        {
            return ring.getShort(offset + RX_RSP_ID_OFFSET) & 0xFFFF;
        }

        public static int dataOffset(final DirectBuffer ring, final int offset)
        {
            return ring.getShort(offset + RX_RSP_OFFSET_OFFSET) & 0xFFFF;
        }

        public static int flags(final DirectBuffer ring, final int offset)
        {
            return ring.getShort(offset + RX_RSP_FLAGS_OFFSET) & 0xFFFF;
        }

        /** A byte count, or a negative {@code NETIF_RSP_*} error code. */
        public static int status(final DirectBuffer ring, final int offset)
        {
            return ring.getShort(offset + RX_RSP_STATUS_OFFSET);
        }
    }
}

package dev.splitnet.concurrency;

import dev.splitnet.mmap.BackRing;
import dev.splitnet.mmap.FrontRing;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

import static dev.splitnet.mmap.NetifDescriptor.*;
import static dev.splitnet.mmap.SharedRingDescriptor.*;

/**
 * A real {@link FrontRing} and {@link BackRing} over one TX shared ring in fresh off-heap memory,
 * brought to the state in which the notify/final-check handshake matters: each side has already
 * been woken once and done its work, so both event indices lag behind and neither side will be
 * notified unless the other re-arms its event index.
 */
final class RingPair
{
    /** Free-running indices start just below 2^32, so every test also crosses the wrap. */
    static final int START = -2;
    /** What a consumer reports when its final check found nothing. */
    static final int NOTHING = -1;

    private static final int RING_BYTES = ENTRIES_OFFSET + 4 * TX_ENTRY_LENGTH;
    private static final int SIZE = ringSize(RING_BYTES, TX_ENTRY_LENGTH);

    final AtomicBuffer sring = new UnsafeBuffer(ByteBuffer.allocateDirect(RING_BYTES));
    final FrontRing front = new FrontRing(sring, SIZE, TX_ENTRY_LENGTH);
    final BackRing back = new BackRing(sring, SIZE, TX_ENTRY_LENGTH);

    RingPair()
    {
        front.init(START);
        back.attach();
    }

    /** Frontend: writes one request with {@code id} and pushes it. */
    boolean sendRequest(final int id)
    {
        sring.putShort(front.nextRequestOffset(0) + TX_REQ_ID_OFFSET, (short)id);
        front.produce(1);
        return front.pushRequestsAndCheckNotify();
    }

    /** Backend: final check for requests; the id of the first one it then sees, or {@link #NOTHING}. */
    int finalCheckForRequests()
    {
        return back.finalCheckForRequests() ? sring.getShort(back.requestOffset(0) + TX_REQ_ID_OFFSET) : NOTHING;
    }

    /** Backend: consumes every request published so far. */
    void consumeRequests()
    {
        back.consumeRequests(back.availableRequests());
    }

    /** Backend: writes one response with {@code id} and pushes it. */
    boolean sendResponse(final int id)
    {
        sring.putShort(back.nextResponseOffset() + TX_RSP_ID_OFFSET, (short)id);
        back.produceResponse();
        return back.pushResponsesAndCheckNotify();
    }

    /** Frontend: final check for responses; the id of the first one it then sees, or {@link #NOTHING}. */
    int finalCheckForResponses()
    {
        return front.finalCheckForResponses() ? sring.getShort(front.nextResponseOffset() + TX_RSP_ID_OFFSET) : NOTHING;
    }

    /** Frontend: consumes every response published so far. */
    void consumeResponses()
    {
        for (int n = front.unconsumedResponses(); n > 0; n--)
        {
            front.consumeResponse();
        }
    }
}

package dev.splitnet.mmap;

import org.agrona.BufferUtil;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static dev.splitnet.mmap.NetifDescriptor.*;
import static dev.splitnet.mmap.SharedRingDescriptor.*;
import static org.junit.jupiter.api.Assertions.*;

/** FrontRing and BackRing over one 4096-byte TX shared ring: index arithmetic, notify rules, hostile indices. */
class SharedRingTest
{
    private static final int RING_BYTES = 4096;
    private static final int SIZE = ringSize(RING_BYTES, TX_ENTRY_LENGTH);

    private AtomicBuffer sring;
    private FrontRing front;
    private BackRing back;

    @BeforeEach
    void setUp()
    {
        sring = new UnsafeBuffer(BufferUtil.allocateDirectAligned(RING_BYTES, 64));
        front = new FrontRing(sring, SIZE, TX_ENTRY_LENGTH);
        back = new BackRing(sring, SIZE, TX_ENTRY_LENGTH);
    }

    private void init(final int start)
    {
        front.init(start);
        back.attach();
    }

    /** Frontend writes {@code n} requests whose id is their sequence number and publishes them. */
    private boolean sendRequests(final int n, final int firstId)
    {
        for (int i = 0; i < n; i++)
        {
            sring.putShort(front.nextRequestOffset(i) + TX_REQ_ID_OFFSET, (short)(firstId + i));
        }
        front.produce(n);
        return front.pushRequestsAndCheckNotify();
    }

    /** Backend consumes {@code n} requests, answers each with its id, and publishes the responses. */
    private boolean answerRequests(final int n, final int firstId)
    {
        final int[] ids = new int[n];
        for (int i = 0; i < n; i++)
        {
            ids[i] = sring.getShort(back.requestOffset(i) + TX_REQ_ID_OFFSET) & 0xFFFF;
            assertEquals((firstId + i) & 0xFFFF, ids[i], "request id read by the backend");
        }
        back.consumeRequests(n);
        for (int i = 0; i < n; i++)
        {
            final int offset = back.nextResponseOffset();
            sring.putShort(offset + TX_RSP_ID_OFFSET, (short)ids[i]);
            sring.putShort(offset + TX_RSP_STATUS_OFFSET, (short)0);
            back.produceResponse();
        }
        return back.pushResponsesAndCheckNotify();
    }

    /** Frontend consumes {@code n} responses, checking their ids. */
    private void consumeResponses(final int n, final int firstId)
    {
        for (int i = 0; i < n; i++)
        {
            assertEquals((firstId + i) & 0xFFFF, sring.getShort(front.nextResponseOffset() + TX_RSP_ID_OFFSET) & 0xFFFF,
                "response id read by the frontend");
            front.consumeResponse();
        }
    }

    @Test
    void shouldUseXenRingSizeOf256TxEntriesInOnePage()
    {
        assertEquals(256, SIZE);
        assertEquals(SIZE, front.size());
        assertEquals(SIZE, back.size());
    }

    @Test
    void shouldStartWithAFreeRingAndXenInitialEvents()
    {
        init(0);
        assertEquals(SIZE, front.freeRequests());
        assertEquals(0, back.availableRequests());
        assertEquals(0, front.unconsumedResponses());
        assertEquals(0, back.unansweredRequests());
        assertEquals(1, sring.getInt(REQ_EVENT_OFFSET), "SHARED_RING_INIT sets req_event to 1");
        assertEquals(1, sring.getInt(RSP_EVENT_OFFSET), "SHARED_RING_INIT sets rsp_event to 1");
    }

    @Test
    void shouldCountFreeRequestsUntilResponsesAreConsumed()
    {
        init(0);
        sendRequests(10, 0);
        assertEquals(SIZE - 10, front.freeRequests());
        answerRequests(10, 0);
        assertEquals(SIZE - 10, front.freeRequests(), "a slot holding an unconsumed response is not free");
        assertEquals(10, front.unconsumedResponses());
        consumeResponses(4, 0);
        assertEquals(SIZE - 6, front.freeRequests());
        consumeResponses(6, 4);
        assertEquals(SIZE, front.freeRequests());
        assertEquals(0, front.unconsumedResponses());
    }

    @Test
    void shouldNotPublishProducedRequestsBeforePush()
    {
        init(0);
        sring.putShort(front.nextRequestOffset(0) + TX_REQ_ID_OFFSET, (short)7);
        front.produce(1);
        assertEquals(SIZE - 1, front.freeRequests());
        assertEquals(0, back.availableRequests(), "the private producer index is not visible");
        assertEquals(0, sring.getInt(REQ_PROD_OFFSET));
        front.pushRequestsAndCheckNotify();
        assertEquals(1, back.availableRequests());
        assertEquals(1, sring.getInt(REQ_PROD_OFFSET));
    }

    @Test
    void shouldPlaceEntriesAtIndexMaskedSlotsAfterTheHeader()
    {
        init(0);
        assertEquals(ENTRIES_OFFSET, front.nextRequestOffset(0));
        assertEquals(ENTRIES_OFFSET + 3 * TX_ENTRY_LENGTH, front.nextRequestOffset(3));
        assertEquals(ENTRIES_OFFSET, front.nextRequestOffset(SIZE), "index SIZE wraps to slot 0");
        assertEquals(ENTRIES_OFFSET + (SIZE - 1) * TX_ENTRY_LENGTH, entryOffset(-1, SIZE - 1, TX_ENTRY_LENGTH));
        assertTrue(ENTRIES_OFFSET + SIZE * TX_ENTRY_LENGTH <= RING_BYTES, "the last entry ends inside the ring");
        sendRequests(3, 0);
        assertEquals(front.nextResponseOffset(), back.requestOffset(0), "a response overwrites the request it answers");
        assertEquals(back.requestOffset(0), back.nextResponseOffset());
    }

    @Test
    void shouldNotifyIdleBackendExactlyOnceForABurstOfRequests()
    {
        init(0);
        assertTrue(sendRequests(1, 0), "req_event = 1 after init: the first request wakes the backend");
        assertFalse(sendRequests(1, 1), "busy ring with req_event not re-armed: no notify");
        assertFalse(sendRequests(5, 2), "busy ring with req_event not re-armed: no notify");
        assertEquals(7, back.availableRequests());

        answerRequests(7, 0);
        assertFalse(back.finalCheckForRequests(), "nothing waiting: the backend may sleep");
        assertEquals(8, sring.getInt(REQ_EVENT_OFFSET), "armed for the next request");

        assertTrue(sendRequests(3, 7), "armed consumer is notified once for the batch");
        assertFalse(sendRequests(2, 10), "and not again until it re-arms");
        assertEquals(5, back.availableRequests());
    }

    @Test
    void shouldNotNotifyWhenPushingNothing()
    {
        init(0);
        assertFalse(front.pushRequestsAndCheckNotify());
        assertFalse(back.pushResponsesAndCheckNotify());
    }

    @Test
    void shouldNotifyWhenArmedEventLiesInsideTheBatch()
    {
        init(0);
        sendRequests(2, 0);
        answerRequests(2, 0);
        assertFalse(back.finalCheckForRequests());
        // req_event = req_cons + 1: wake the backend when req_prod moves past 2.
        assertEquals(3, sring.getInt(REQ_EVENT_OFFSET));
        assertTrue(sendRequests(4, 2), "req_event 3 within the pushed range (2, 6]");
        sring.putInt(REQ_EVENT_OFFSET, 100);
        assertFalse(sendRequests(4, 6), "req_event 100 beyond the pushed range (6, 10]");
        assertTrue(sendRequests(90, 10), "req_event 100 reached exactly by the last request pushed");
    }

    @Test
    void shouldNotifyFrontendOnceForResponsesAfterItArms()
    {
        init(0);
        sendRequests(6, 0);
        assertTrue(answerRequests(1, 0), "rsp_event = 1 after init: the first response wakes the frontend");
        assertFalse(answerRequests(2, 1), "frontend busy, rsp_event not re-armed: no notify");

        consumeResponses(3, 0);
        assertFalse(front.finalCheckForResponses(), "nothing waiting: the frontend may sleep");
        assertEquals(4, sring.getInt(RSP_EVENT_OFFSET), "armed for the next response");

        assertTrue(answerRequests(2, 3), "armed frontend is notified once for the batch");
        assertFalse(answerRequests(1, 5), "and not again until it re-arms");
        assertEquals(3, front.unconsumedResponses());
    }

    @Test
    void shouldReportRequestsThatRacedTheFinalCheck()
    {
        init(0);
        assertFalse(back.finalCheckForRequests());
        sendRequests(1, 0);
        assertTrue(back.finalCheckForRequests(), "a waiting request is reported without re-arming");
        assertEquals(1, sring.getInt(REQ_EVENT_OFFSET), "req_event untouched when work is waiting");
    }

    @Test
    void shouldReportResponsesThatRacedTheFinalCheck()
    {
        init(0);
        sendRequests(1, 0);
        assertFalse(front.finalCheckForResponses());
        answerRequests(1, 0);
        assertTrue(front.finalCheckForResponses());
        consumeResponses(1, 0);
        assertFalse(front.finalCheckForResponses());
        assertEquals(2, sring.getInt(RSP_EVENT_OFFSET));
    }

    @Test
    void shouldFillTheRingExactlyWithoutOverflow()
    {
        init(0);
        sendRequests(SIZE, 0);
        assertEquals(0, front.freeRequests());
        assertEquals(SIZE, back.availableRequests(), "exactly a ring of requests is legal");
        answerRequests(SIZE, 0);
        assertEquals(0, front.freeRequests());
        consumeResponses(SIZE, 0);
        assertEquals(SIZE, front.freeRequests());
    }

    @Test
    void shouldKeepCountsRightWhenIndicesWrapPast2To32()
    {
        final int start = -10;
        init(start);
        assertEquals(0xFFFFFFF6L, Integer.toUnsignedLong(sring.getInt(REQ_PROD_OFFSET)));
        int id = 0;
        int inFlight = 0;
        long total = 0;
        for (int round = 0; round < 4000; round++)
        {
            final int batch = 1 + round % 7;
            final int send = Math.min(batch + 1, front.freeRequests());
            sendRequests(send, id + inFlight);
            inFlight += send;
            assertEquals(inFlight, back.availableRequests(), "requests visible to the backend");
            final int answer = Math.min(batch, inFlight);
            answerRequests(answer, id);
            assertEquals(answer, front.unconsumedResponses(), "responses visible to the frontend");
            consumeResponses(answer, id);
            id += answer;
            inFlight -= answer;
            total += answer;
            assertEquals(SIZE - inFlight, front.freeRequests());
            assertEquals(0, back.unansweredRequests());
        }
        assertTrue(total > 10_000, "several thousand requests went round");
        assertEquals(Integer.toUnsignedLong(start) + total + inFlight - (1L << 32), Integer.toUnsignedLong(front.requestProducer()),
            "the producer index wrapped past 2^32 exactly once");
        assertEquals(front.requestProducer(), sring.getInt(REQ_PROD_OFFSET));
        assertEquals(back.responseProducer(), sring.getInt(RSP_PROD_OFFSET));
        assertEquals(front.responseConsumer(), back.responseProducer());
        answerRequests(inFlight, id);
        consumeResponses(inFlight, id);
        assertEquals(SIZE, front.freeRequests());
        assertEquals(0, back.availableRequests());
    }

    @Test
    void shouldNotifyAcrossTheWrapOf2To32()
    {
        init(-2);
        assertTrue(sendRequests(1, 0));
        answerRequests(1, 0);
        assertFalse(back.finalCheckForRequests());
        assertEquals(0, sring.getInt(REQ_EVENT_OFFSET), "armed for index 0, after 0xFFFFFFFF");
        assertTrue(sendRequests(4, 1), "batch 0xFFFFFFFF..2 crosses 2^32 and req_event 0");
        assertFalse(sendRequests(1, 5));
    }

    @Test
    void shouldReportOverflowWhenHostileReqProdIsMoreThanARingAhead()
    {
        init(0);
        sring.putInt(REQ_PROD_OFFSET, SIZE);
        assertEquals(SIZE, back.availableRequests());
        sring.putInt(REQ_PROD_OFFSET, SIZE + 1);
        assertEquals(BackRing.OVERFLOW, back.availableRequests());
        sring.putInt(REQ_PROD_OFFSET, Integer.MIN_VALUE);
        assertEquals(BackRing.OVERFLOW, back.availableRequests());
        assertTrue(back.finalCheckForRequests(), "a corrupt ring is reported as work, for the next poll to fail");
    }

    @Test
    void shouldReportOverflowAgainstUnansweredRequestsNotJustConsumedOnes()
    {
        init(0);
        sendRequests(100, 0);
        back.consumeRequests(100);
        // 100 requests consumed but unanswered still occupy their slots: only SIZE - 100 more may follow.
        sring.putInt(REQ_PROD_OFFSET, SIZE);
        assertEquals(SIZE - 100, back.availableRequests());
        sring.putInt(REQ_PROD_OFFSET, SIZE + 1);
        assertEquals(BackRing.OVERFLOW, back.availableRequests());
    }

    @Test
    void shouldReportOverflowWhenHostileReqProdIsMoreThanARingAheadAcrossTheWrap()
    {
        init(-10);
        sring.putInt(REQ_PROD_OFFSET, -10 + SIZE);
        assertEquals(SIZE, back.availableRequests());
        sring.putInt(REQ_PROD_OFFSET, -10 + SIZE + 1);
        assertEquals(BackRing.OVERFLOW, back.availableRequests());
    }

    @Test
    void shouldReportOverflowWhenHostileReqProdMovesBehindTheConsumer()
    {
        init(0);
        sendRequests(10, 0);
        back.consumeRequests(10);
        back.produceResponse();
        back.produceResponse();
        // The frontend rewinds req_prod below req_cons (10) though still ahead of rsp_prod_pvt (2).
        sring.putInt(REQ_PROD_OFFSET, 5);
        assertEquals(BackRing.OVERFLOW, back.availableRequests(), "a producer index that went backwards is impossible");
        sring.putInt(REQ_PROD_OFFSET, 1);
        assertEquals(BackRing.OVERFLOW, back.availableRequests());
        sring.putInt(REQ_PROD_OFFSET, 10);
        assertEquals(0, back.availableRequests());
    }
}

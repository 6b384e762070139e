package dev.splitnet.mmap;

import dev.splitnet.api.NetifConstants;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import static dev.splitnet.mmap.RingV2Descriptor.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Ring v2's mechanics on one thread: entries found by their tag across 2^32, full and empty,
 * event suppression, the entry codecs, and the hostile cases (a tag flipped, a producer a lap
 * ahead, a consumer index behind or ahead).
 */
class RingV2Test
{
    private static final int REGION = 4096;

    private final UnsafeBuffer region = new UnsafeBuffer(BufferUtil.allocateDirectAligned(REGION, 64));
    private final int size = ringSize(REGION, TX_REQUEST_LENGTH);
    private final RingV2Producer requests = new RingV2Producer(region, size, ENTRIES_OFFSET, TX_REQUEST_LENGTH,
        NetifV2Entries.TX_REQUEST_WORD_OFFSET, REQ_CONS_OFFSET, REQ_EVENT_OFFSET);
    private final RingV2Consumer backend = new RingV2Consumer(region, size, ENTRIES_OFFSET, TX_REQUEST_LENGTH,
        NetifV2Entries.TX_REQUEST_WORD_OFFSET, REQ_CONS_OFFSET, REQ_EVENT_OFFSET);
    private final int responsesOffset = responsesOffset(size, TX_REQUEST_LENGTH);
    private final RingV2Producer responses = new RingV2Producer(region, size, responsesOffset, RESPONSE_LENGTH, 0,
        RSP_CONS_OFFSET, RSP_EVENT_OFFSET);
    private final RingV2Consumer frontend = new RingV2Consumer(region, size, responsesOffset, RESPONSE_LENGTH, 0,
        RSP_CONS_OFFSET, RSP_EVENT_OFFSET);

    private void init(final int start)
    {
        requests.init(start);
        responses.init(start);
        backend.attachAt(start);
        frontend.attachAt(start);
    }

    @Test
    void shouldSizeAPageAsTwoRingsOf128AfterTheControlLines()
    {
        assertEquals(128, ringSize(4096, TX_REQUEST_LENGTH), "(4096 - 512) / (16 + 8) = 149, rounded down to a power of two");
        assertEquals(128, ringSize(4096, RX_REQUEST_LENGTH));
        assertEquals(256, ringSize(8192, TX_REQUEST_LENGTH));
        assertEquals(ENTRIES_OFFSET + 128 * 16, responsesOffset(128, TX_REQUEST_LENGTH));
        assertTrue(responsesOffset(128, TX_REQUEST_LENGTH) + 128 * RESPONSE_LENGTH <= 4096);
        // 128 bytes apart, not 64: the adjacent-line prefetcher fetches lines in 128-byte pairs, so
        // a word sharing a pair with one the other side writes would be pulled away from it
        assertEquals(4, java.util.stream.IntStream.of(RSP_CONS_OFFSET, RSP_EVENT_OFFSET, REQ_CONS_OFFSET, REQ_EVENT_OFFSET)
            .map(offset -> offset / 128).distinct().count(), "each control word on a 128-byte line pair of its own");
        assertEquals(4 * 128, ENTRIES_OFFSET);
    }

    @ParameterizedTest
    @ValueSource(ints = { 0, 0x7FFF_FF00, 0xFFFF_FF00, 0xFFFF_FFFF - 37 })
    void shouldCarryEveryRequestAndResponseAcrossTheIndexWrap(final int start)
    {
        init(start);
        int nextId = 0;
        int expectId = 0;
        for (int round = 0; round < 5_000; round++)
        {
            final int batch = 1 + round % size;
            for (int i = 0; i < batch; i++)
            {
                final int at = requests.claim();
                assertTrue(at >= 0, "room for a request, round " + round);
                // both ways of writing the plain part: by the caller, or held by the producer
                if ((round & 1) == 0)
                {
                    NetifV2Entries.TxRequest.writeHead(region, at, 1000 + nextId, nextId & 0xFFF, NetifConstants.NETTXF_MORE_DATA);
                    requests.commit(at, NetifV2Entries.TxRequest.word(nextId, nextId * 7));
                }
                else
                {
                    requests.commit(at, NetifV2Entries.TxRequest.head(1000 + nextId, nextId & 0xFFF, NetifConstants.NETTXF_MORE_DATA),
                        NetifV2Entries.TxRequest.word(nextId, nextId * 7));
                }
                nextId = (nextId + 1) & 0xFFFF;
            }
            requests.pushAndCheckNotify();
            for (int i = 0; i < batch; i++)
            {
                final long fields = backend.poll();
                assertTrue(fields >= 0, "request " + i + " of round " + round + ": " + fields);
                final int at = backend.entryOffset();
                assertEquals(1000 + expectId, NetifV2Entries.TxRequest.gref(region, at));
                assertEquals(expectId & 0xFFF, NetifV2Entries.TxRequest.dataOffset(region, at));
                assertEquals(NetifConstants.NETTXF_MORE_DATA, NetifV2Entries.TxRequest.flags(region, at));
                assertEquals(expectId, NetifV2Entries.TxRequest.id(fields));
                assertEquals((expectId * 7) & 0xFFFF, NetifV2Entries.TxRequest.size(fields));
                backend.consume();
                // one response word answers the whole batch: a run of ids
                if (i == batch - 1)
                {
                    final int rsp = responses.claim();
                    assertTrue(rsp >= 0);
                    responses.commit(rsp, NetifV2Entries.TxResponse.word(expectId - batch + 1, NetifConstants.NETIF_RSP_OKAY, batch));
                }
                expectId = (expectId + 1) & 0xFFFF;
            }
            assertEquals(RingV2Consumer.EMPTY, backend.poll(), "nothing past the batch");
            backend.publish();
            responses.pushAndCheckNotify();
            final long rsp = frontend.poll();
            assertTrue(rsp >= 0);
            assertEquals((expectId - batch) & 0xFFFF, NetifV2Entries.TxResponse.id(rsp));
            assertEquals(batch, NetifV2Entries.TxResponse.run(rsp));
            assertEquals(NetifConstants.NETIF_RSP_OKAY, NetifV2Entries.TxResponse.status(rsp));
            frontend.consume();
            frontend.publish();
        }
        assertEquals(start + requests.producer() - start, backend.consumer());
    }

    @Test
    void shouldReportFullUntilTheConsumerPublishes()
    {
        init(5);
        for (int i = 0; i < size; i++)
        {
            requests.commit(requests.claim(), NetifV2Entries.TxRequest.word(i, 0));
        }
        assertEquals(RingV2Consumer.EMPTY, backend.poll(), "a batch shows from its first entry, written at the push");
        requests.pushAndCheckNotify();
        assertEquals(RingV2Producer.FULL, requests.claim());
        for (int i = 0; i < size; i++)
        {
            assertTrue(backend.poll() >= 0);
            backend.consume();
        }
        assertEquals(RingV2Producer.FULL, requests.claim(), "consumed but not published: the slots may still be read");
        backend.publish();
        assertTrue(requests.claim() >= 0);
    }

    @Test
    void shouldRingOnlyForAConsumerThatArmedItsEvent()
    {
        init(0);
        // the initial event is start + 1: the first entry rings, as Xen's rings do
        requests.commit(requests.claim(), 1);
        assertTrue(requests.pushAndCheckNotify());
        for (int i = 0; i < 100; i++)
        {
            requests.commit(requests.claim(), 1);
            assertFalse(requests.pushAndCheckNotify(), "a polling consumer never armed: no doorbell on a busy ring");
            assertTrue(backend.poll() >= 0);
            backend.consume();
            backend.publish();
        }
        assertTrue(backend.poll() >= 0);
        backend.consume();
        assertFalse(backend.finalCheck(), "nothing waits: the consumer arms and may sleep");
        requests.commit(requests.claim(), 1);
        assertTrue(requests.pushAndCheckNotify(), "the consumer armed its event: the next entry rings");
        assertTrue(backend.finalCheck(), "an entry waits: no sleeping");
    }

    @Test
    void shouldHoldABatchsFirstEntryWholeUntilThePush()
    {
        init(0);
        final int first = requests.claim();
        requests.commit(first, NetifV2Entries.TxRequest.head(0x1234_5678, 99, NetifConstants.NETTXF_MORE_DATA),
            NetifV2Entries.TxRequest.word(1, 100));
        // entries 1 to 3 share the first's cache line (16 bytes each); entry 4 starts the next
        final int[] at = new int[6];
        at[0] = first;
        for (int i = 1; i < at.length; i++)
        {
            at[i] = requests.claim();
            requests.commit(at[i], NetifV2Entries.TxRequest.head(100 + i, 0, 0), NetifV2Entries.TxRequest.word(1 + i, 10));
        }
        assertEquals(first / 64, at[3] / 64);
        assertEquals(first / 64 + 1, at[4] / 64);
        for (int i = 0; i < 4; i++)
        {
            assertEquals(0, region.getLong(at[i]), "entry " + i + ", on the polled line, is not written before the push");
        }
        assertEquals(RingV2Consumer.EMPTY, backend.poll(), "the consumer sees no part of the batch");
        assertEquals(104, NetifV2Entries.TxRequest.gref(region, at[4]), "entries on later lines are written at once");
        requests.pushAndCheckNotify();
        for (int i = 1; i < 4; i++)
        {
            assertEquals(100 + i, NetifV2Entries.TxRequest.gref(region, at[i]), "held entry " + i + " written at the push");
        }
        assertEquals(1, NetifV2Entries.TxRequest.id(backend.poll()));
        assertEquals(0x1234_5678, NetifV2Entries.TxRequest.gref(region, backend.entryOffset()));
        assertEquals(99, NetifV2Entries.TxRequest.dataOffset(region, backend.entryOffset()));
        assertEquals(NetifConstants.NETTXF_MORE_DATA, NetifV2Entries.TxRequest.flags(region, backend.entryOffset()));
    }

    @Test
    void shouldCallAFlippedTagOrAProducerALapAheadCorrupt()
    {
        init(0);
        final int word = ENTRIES_OFFSET + NetifV2Entries.TX_REQUEST_WORD_OFFSET;
        assertEquals(RingV2Consumer.EMPTY, backend.poll());
        region.putLong(word, region.getLong(word) ^ 1L << 63);
        assertEquals(RingV2Consumer.CORRUPT, backend.poll(), "a tag bit flipped by the peer");
        region.putLong(word, (long)tag(size, 7) << TAG_SHIFT);
        assertEquals(RingV2Consumer.CORRUPT, backend.poll(), "an entry tagged for the next lap: the producer raced a lap ahead");
        region.putLong(word, (long)tag(0, 7) << TAG_SHIFT | 42);
        assertEquals(42, backend.poll(), "tagged for this lap: there");
    }

    @Test
    void shouldCallAConsumerIndexAheadOfTheProducerOrBackwardsCorrupt()
    {
        fill();
        region.putInt(REQ_CONS_OFFSET, 100 + size + 1);
        assertEquals(RingV2Producer.CORRUPT, requests.claim(), "consumed more than was produced");
        assertEquals(100 + size + 1, requests.badConsumer());
        region.putInt(REQ_CONS_OFFSET, 100 + 3);
        assertEquals(RingV2Producer.CORRUPT, requests.claim(), "once corrupt, for good: the peer is disconnected");
        assertFalse(requests.hasRoomFor(1));
        fill();
        region.putInt(REQ_CONS_OFFSET, 99);
        assertEquals(RingV2Producer.CORRUPT, requests.claim(), "cons went backwards");
        fill();
        region.putInt(REQ_CONS_OFFSET, 100 + 3);
        assertTrue(requests.claim() >= 0, "an honest cons frees its slots");
        assertTrue(requests.hasRoomFor(3));
        assertFalse(requests.hasRoomFor(4));
    }

    /** A ring from index 100 with every slot produced. */
    private void fill()
    {
        init(100);
        for (int i = 0; i < size; i++)
        {
            requests.commit(requests.claim(), 0);
        }
        assertFalse(requests.hasRoomFor(1));
    }

    @Test
    void shouldPackTheRxEntries()
    {
        final long req = NetifV2Entries.RxRequest.word(513, 0xFEDC_BA98);
        assertEquals(513, NetifV2Entries.RxRequest.id(req));
        assertEquals(0xFEDC_BA98, NetifV2Entries.RxRequest.gref(req));
        final long rsp = NetifV2Entries.RxResponse.word(65535, 4095, NetifConstants.NETRXF_MORE_DATA, -1);
        assertEquals(65535, NetifV2Entries.RxResponse.id(rsp));
        assertEquals(4095, NetifV2Entries.RxResponse.dataOffset(rsp));
        assertEquals(NetifConstants.NETRXF_MORE_DATA, NetifV2Entries.RxResponse.flags(rsp));
        assertEquals(-1, NetifV2Entries.RxResponse.status(rsp));
        assertEquals(0, rsp >>> TAG_SHIFT, "the codec leaves the tag bits to the producer");
        final long full = NetifV2Entries.RxResponse.word(1, 0, 0, 4096);
        assertEquals(4096, NetifV2Entries.RxResponse.status(full));
        assertEquals(-7, NetifV2Entries.TxResponse.status(NetifV2Entries.TxResponse.word(3, -7, 1)));
    }
}

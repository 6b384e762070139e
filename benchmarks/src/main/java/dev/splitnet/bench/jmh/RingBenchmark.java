package dev.splitnet.bench.jmh;

import dev.splitnet.mmap.BackRing;
import dev.splitnet.mmap.FrontRing;
import dev.splitnet.mmap.NetifDescriptor;
import java.util.concurrent.TimeUnit;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.*;

import static dev.splitnet.mmap.NetifDescriptor.*;

/**
 * The ring hot path on one thread: netfront writes a TX request and pushes req_prod (volatile
 * store + event check), netback takes it (acquire), answers and pushes rsp_prod, netfront consumes
 * the response. Two volatile stores per packet bound the cost from below.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RingBenchmark
{
    private UnsafeBuffer sring;
    private FrontRing front;
    private BackRing back;

    @Setup
    public void setUp()
    {
        sring = new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64));
        front = new FrontRing(sring, 256, NetifDescriptor.TX_ENTRY_LENGTH);
        back = new BackRing(sring, 256, NetifDescriptor.TX_ENTRY_LENGTH);
        front.init(0);
        back.attach();
    }

    @Benchmark
    public int produceConsumeRespond()
    {
        final int req = front.nextRequestOffset(0);
        sring.putInt(req + TX_REQ_GREF_OFFSET, 7);
        sring.putShort(req + TX_REQ_FLAGS_OFFSET, (short)0);
        sring.putShort(req + TX_REQ_ID_OFFSET, (short)1);
        sring.putShort(req + TX_REQ_SIZE_OFFSET, (short)64);
        front.produce(1);
        front.pushRequestsAndCheckNotify();
        final int available = back.availableRequests();
        final int id = sring.getShort(back.requestOffset(0) + TX_REQ_ID_OFFSET);
        back.consumeRequests(available);
        final int rsp = back.nextResponseOffset();
        sring.putShort(rsp + TX_RSP_ID_OFFSET, (short)id);
        sring.putShort(rsp + TX_RSP_STATUS_OFFSET, (short)0);
        back.produceResponse();
        back.pushResponsesAndCheckNotify();
        final int responses = front.unconsumedResponses();
        final int got = sring.getShort(front.nextResponseOffset() + TX_RSP_ID_OFFSET);
        front.consumeResponse();
        return responses + got;
    }
}

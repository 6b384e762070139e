package dev.splitnet.concurrency;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import static org.openjdk.jcstress.annotations.Expect.*;

/**
 * Ring v2's slot reuse on a one-entry ring: the consumer reads request 5 and publishes its cons
 * while the producer tries to write request 6 into the same slot. The producer may overwrite only
 * after the consumer's cons, so the consumer always reads request 5 whole. r1: what the consumer
 * read; r2: 6 when the producer wrote, -1 when it found the ring full.
 */
@JCStressTest
@Outcome(id = "5, 6", expect = ACCEPTABLE, desc = "the consumer published in time; the producer reused the slot after it")
@Outcome(id = "5, -1", expect = ACCEPTABLE, desc = "the producer found the ring still full")
@Outcome(expect = FORBIDDEN, desc = "the consumer read request 6, or a mix of 5 and 6: the slot was reused before its cons")
@State
public class RingV2SlotReuseTest
{
    private final RingV2Pair ring = new RingV2Pair(1);

    public RingV2SlotReuseTest()
    {
        ring.write(5);
        // a batch's first entry is stored at the push
        ring.producer.pushAndCheckNotify();
    }

    @Actor
    public void consumer(final II_Result r)
    {
        r.r1 = ring.read();
    }

    @Actor
    public void producer(final II_Result r)
    {
        final boolean wrote = ring.write(6);
        ring.producer.pushAndCheckNotify();
        r.r2 = wrote ? 6 : -1;
    }
}

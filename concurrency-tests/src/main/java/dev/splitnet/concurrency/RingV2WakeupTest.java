package dev.splitnet.concurrency;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import static org.openjdk.jcstress.annotations.Expect.*;

/**
 * Ring v2's doorbell handshake: the producer commits a request and checks the consumer's event
 * (after its fence) while the consumer, having consumed everything, arms its event and looks at
 * the next entry's tag again. r1: whether the producer notifies; r2: the id the consumer's final
 * check found (its head checked), or -1 when it found none and sleeps.
 */
@JCStressTest
@Outcome(id = "1, -1", expect = ACCEPTABLE, desc = "consumer armed first and sleeps; the producer saw the event and notifies")
@Outcome(id = "0, 43", expect = ACCEPTABLE, desc = "no notification; the final check saw the entry")
@Outcome(id = "1, 43", expect = ACCEPTABLE, desc = "both: a spurious, harmless wake-up")
@Outcome(id = "0, -1", expect = FORBIDDEN, desc = "lost wake-up: no notification and the consumer sleeps with an entry on the ring")
@Outcome(expect = FORBIDDEN, desc = "the consumer saw the tag but not the request's head written before it")
@State
public class RingV2WakeupTest
{
    private final RingV2Pair ring = new RingV2Pair(4);

    public RingV2WakeupTest()
    {
        // one request sent, notified (the initial event) and consumed: the event now lags behind
        ring.write(7);
        ring.producer.pushAndCheckNotify();
        ring.read();
    }

    @Actor
    public void producer(final II_Result r)
    {
        ring.write(43);
        r.r1 = ring.producer.pushAndCheckNotify() ? 1 : 0;
    }

    @Actor
    public void consumer(final II_Result r)
    {
        r.r2 = ring.consumer.finalCheck() ? ring.read() : RingV2Pair.NOTHING;
    }
}

package dev.splitnet.concurrency;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import static org.openjdk.jcstress.annotations.Expect.*;

/**
 * The response handshake: the backend pushes a response (RING_PUSH_RESPONSES_AND_CHECK_NOTIFY)
 * while the frontend, having consumed every response, arms rsp_event and looks again
 * (RING_FINAL_CHECK_FOR_RESPONSES). r1: whether the backend notifies; r2: the id of the response
 * the frontend's final check found, or -1 when it found none and goes to sleep.
 */
@JCStressTest
@Outcome(id = "1, -1", expect = ACCEPTABLE, desc = "frontend armed rsp_event first and sleeps; the backend saw it and notifies")
@Outcome(id = "0, 43", expect = ACCEPTABLE, desc = "no notification; the frontend's final check saw the response")
@Outcome(id = "1, 43", expect = ACCEPTABLE, desc = "both: a spurious, harmless wake-up")
@Outcome(id = "0, -1", expect = FORBIDDEN, desc = "lost wake-up: no notification and the frontend sleeps with a response on the ring")
@Outcome(expect = FORBIDDEN, desc = "the frontend saw rsp_prod but not the response entry written before it")
@State
public class TxResponseWakeupTest
{
    private static final int FIRST_ID = 7;
    private static final int ID = 43;

    private final RingPair rings = new RingPair();

    public TxResponseWakeupTest()
    {
        // Two requests in flight; the frontend was woken for the first response and consumed it,
        // so rsp_event is now behind.
        rings.sendRequest(FIRST_ID);
        rings.sendRequest(FIRST_ID + 1);
        rings.consumeRequests();
        rings.sendResponse(FIRST_ID);
        rings.consumeResponses();
    }

    @Actor
    public void backend(final II_Result r)
    {
        r.r1 = rings.sendResponse(ID) ? 1 : 0;
    }

    @Actor
    public void frontend(final II_Result r)
    {
        r.r2 = rings.finalCheckForResponses();
    }
}

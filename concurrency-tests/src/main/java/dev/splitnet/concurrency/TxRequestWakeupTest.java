package dev.splitnet.concurrency;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import static org.openjdk.jcstress.annotations.Expect.*;

/**
 * The TX request handshake: the frontend pushes a request (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY)
 * while the backend, having found the ring empty, arms req_event and looks again
 * (RING_FINAL_CHECK_FOR_REQUESTS). r1: whether the frontend notifies; r2: the id of the request
 * the backend's final check found, or -1 when it found none and goes to sleep.
 */
@JCStressTest
@Outcome(id = "1, -1", expect = ACCEPTABLE, desc = "backend armed req_event first and sleeps; the frontend saw it and notifies")
@Outcome(id = "0, 42", expect = ACCEPTABLE, desc = "no notification; the backend's final check saw the request")
@Outcome(id = "1, 42", expect = ACCEPTABLE, desc = "both: a spurious, harmless wake-up")
@Outcome(id = "0, -1", expect = FORBIDDEN, desc = "lost wake-up: no notification and the backend sleeps with a request on the ring")
@Outcome(expect = FORBIDDEN, desc = "the backend saw req_prod but not the request entry written before it")
@State
public class TxRequestWakeupTest
{
    private static final int FIRST_ID = 7;
    private static final int ID = 42;

    private final RingPair rings = new RingPair();

    public TxRequestWakeupTest()
    {
        // The backend was woken for a first request and consumed it: req_event is now behind.
        rings.sendRequest(FIRST_ID);
        rings.consumeRequests();
    }

    @Actor
    public void frontend(final II_Result r)
    {
        r.r1 = rings.sendRequest(ID) ? 1 : 0;
    }

    @Actor
    public void backend(final II_Result r)
    {
        r.r2 = rings.finalCheckForRequests();
    }
}

package dev.splitnet.concurrency;

import dev.splitnet.mmap.GrantEntryDescriptor;
import dev.splitnet.mmap.GrantTable;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.I_Result;

import java.nio.ByteBuffer;

import static dev.splitnet.api.GrantConstants.BACKEND_DOMAIN_ID;
import static org.openjdk.jcstress.annotations.Expect.*;

/**
 * The granter publishes a grant ({@link GrantTable#grantAccess}: frame, then a release store of
 * the flags) while the grantee acquires it: a grantee that sees the flags sees the frame. r1: what
 * acquire returned (the frame 5, or -2 ACQUIRE_NOT_GRANTED when it came too early).
 */
@JCStressTest
@Outcome(id = "-2", expect = ACCEPTABLE, desc = "acquire came before the grant")
@Outcome(id = "5", expect = ACCEPTABLE, desc = "acquire saw the grant and its frame")
@Outcome(id = "0", expect = FORBIDDEN, desc = "acquire saw the flags but not the frame written before them")
@Outcome(expect = FORBIDDEN, desc = "any other result")
@State
public class GrantPublicationTest
{
    private static final int GREF = 1;
    private static final int FRAME = 5;
    private static final int FRAMES = 8;

    private final GrantTable table = new GrantTable(
        new UnsafeBuffer(ByteBuffer.allocateDirect(2 * GrantEntryDescriptor.ENTRY_LENGTH)), 2, FRAMES);

    @Actor
    public void granter()
    {
        table.grantAccess(GREF, BACKEND_DOMAIN_ID, FRAME, true);
    }

    @Actor
    public void grantee(final I_Result r)
    {
        r.r1 = table.acquire(GREF, BACKEND_DOMAIN_ID, false);
    }
}

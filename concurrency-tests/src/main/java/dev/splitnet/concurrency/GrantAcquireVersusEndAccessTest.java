package dev.splitnet.concurrency;

import dev.splitnet.mmap.GrantEntryDescriptor;
import dev.splitnet.mmap.GrantTable;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.nio.ByteBuffer;

import static dev.splitnet.api.GrantConstants.BACKEND_DOMAIN_ID;
import static org.openjdk.jcstress.annotations.Expect.*;

/**
 * The grantee takes a grant's in-use flag ({@link GrantTable#acquire}) while the granter revokes it
 * ({@link GrantTable#endForeignAccess}): exactly one of them wins. r1: what acquire returned (the
 * frame 5, or -2 ACQUIRE_NOT_GRANTED); r2: whether endForeignAccess revoked (1) or found the grant
 * in use (0); r3: the entry's flags afterwards.
 */
@JCStressTest
@Outcome(id = "5, 0, 13", expect = ACCEPTABLE, desc = "grantee won: it holds the frame (permit|readonly|reading), revoke refused")
@Outcome(id = "-2, 1, 0", expect = ACCEPTABLE, desc = "granter won: the entry is invalid, acquire refused")
@Outcome(id = "5, 1, .*", expect = FORBIDDEN, desc = "both won: the grantee maps a frame the granter has reused")
@Outcome(id = "-2, 0, .*", expect = FORBIDDEN, desc = "neither won")
@Outcome(expect = FORBIDDEN, desc = "any other result or final entry state")
@State
public class GrantAcquireVersusEndAccessTest
{
    private static final int GREF = 1;
    private static final int FRAME = 5;
    private static final int FRAMES = 8;

    private final GrantTable table = new GrantTable(
        new UnsafeBuffer(ByteBuffer.allocateDirect(2 * GrantEntryDescriptor.ENTRY_LENGTH)), 2, FRAMES);

    public GrantAcquireVersusEndAccessTest()
    {
        table.grantAccess(GREF, BACKEND_DOMAIN_ID, FRAME, true);
    }

    @Actor
    public void grantee(final III_Result r)
    {
        r.r1 = table.acquire(GREF, BACKEND_DOMAIN_ID, false);
    }

    @Actor
    public void granter(final III_Result r)
    {
        r.r2 = table.endForeignAccess(GREF) ? 1 : 0;
    }

    @Arbiter
    public void entry(final III_Result r)
    {
        r.r3 = table.flags(GREF);
    }
}

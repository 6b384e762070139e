package dev.splitnet.concurrency;

import dev.splitnet.mmap.P2mDescriptor;
import dev.splitnet.mmap.P2mTable;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import static org.openjdk.jcstress.annotations.Expect.*;

/**
 * Lazy receive's hand-over (docs/PROTOCOL.md 6.5), through the production P2M moves: a buffer's
 * entry is LENT, naming a backend frame that holds the packet (5, 5). The frontend reads it as
 * {@code RxPath} does (pin LENT to PINNED, then read the backend frame; OWN: read its own frame;
 * RECLAIMING: wait for OWN). The backend meanwhile takes the frame back under pressure as
 * {@code LentFrames} does (only from LENT: RECLAIMING, copy into the frontend's frame, OWN) and at
 * once reuses the backend frame for another packet (99, 99). Whatever the interleaving the
 * frontend reads the packet whole: r1, r2 the two words it read; r3 1 when the backend took the
 * frame back (0: the frontend had pinned it first).
 */
@JCStressTest
@Outcome(id = "5, 5, 0", expect = ACCEPTABLE, desc = "the frontend pinned first; the backend left the frame lent")
@Outcome(id = "5, 5, 1", expect = ACCEPTABLE, desc = "the backend took it back first; the frontend read its own frame's copy")
@Outcome(expect = FORBIDDEN, desc = "the frontend read the reused frame, its own frame before the copy, or a mix")
@State
public class LentHandOverTest
{
    private static final int FRAME = 0;
    private final UnsafeBuffer entries = new UnsafeBuffer(BufferUtil.allocateDirectAligned(64, 64));
    private final P2mTable p2m = new P2mTable(entries, 1);
    private final UnsafeBuffer backendFrame = new UnsafeBuffer(BufferUtil.allocateDirectAligned(64, 64));
    private final UnsafeBuffer ownFrame = new UnsafeBuffer(BufferUtil.allocateDirectAligned(64, 64));

    public LentHandOverTest()
    {
        backendFrame.putLong(0, 5);
        backendFrame.putLong(8, 5);
        entries.putLongVolatile(0, P2mDescriptor.encode(P2mDescriptor.LENT, 1, 7));
    }

    @Actor
    public void frontend(final III_Result r)
    {
        long entry = p2m.load(FRAME);
        while (true)
        {
            final int state = P2mDescriptor.state(entry);
            if (state == P2mDescriptor.LENT)
            {
                if (p2m.pin(FRAME, entry) != 0)
                {
                    r.r1 = (int)backendFrame.getLong(0);
                    r.r2 = (int)backendFrame.getLong(8);
                    return;
                }
            }
            else if (state == P2mDescriptor.OWN)
            {
                r.r1 = (int)ownFrame.getLong(0);
                r.r2 = (int)ownFrame.getLong(8);
                return;
            }
            Thread.onSpinWait();
            entry = p2m.load(FRAME);
        }
    }

    @Actor
    public void backend(final III_Result r)
    {
        final long entry = p2m.load(FRAME);
        if (P2mDescriptor.state(entry) != P2mDescriptor.LENT)
        {
            return;
        }
        final long reclaiming = p2m.beginReclaim(FRAME, entry);
        if (reclaiming == 0)
        {
            return;
        }
        ownFrame.putLong(0, backendFrame.getLong(0));
        ownFrame.putLong(8, backendFrame.getLong(8));
        p2m.finishReclaim(FRAME, reclaiming);
        // the backend frame is free: the next packet is written into it at once
        backendFrame.putLong(0, 99);
        backendFrame.putLong(8, 99);
        r.r3 = 1;
    }
}

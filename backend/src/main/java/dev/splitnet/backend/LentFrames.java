package dev.splitnet.backend;

import dev.splitnet.mmap.BackendFrames;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.DeviceCounters;
import dev.splitnet.mmap.DeviceLayout;
import dev.splitnet.mmap.FrameRunPool;
import dev.splitnet.mmap.P2mTable;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;

import static dev.splitnet.mmap.P2mDescriptor.*;

/**
 * Lazy receive for one frontend (docs/PROTOCOL.md, "Lazy receive"): the backend's frames for it
 * ({@link BackendFrames}), which of them are free, and the backend's own record of every frame it
 * lent: which frontend frame, which pool frame, the P2M entry it wrote last, and when. The P2M
 * lives in the frontend's file, so the record decides: an entry is only read back to learn which
 * of the few moves the frontend may make it made, and any other value is the frontend's protocol
 * violation ({@link #violation()}). Duty-cycle thread only; nothing allocated after construction.
 *
 * <p>A pool frame is reused only once nobody can read it: the frontend posted the buffer again
 * (its handler returned before its repost, whose request the backend read with acquire), or the
 * backend moved the entry away from LENT before the frontend pinned it (the frontend's pin is a
 * compare-and-set from LENT that then fails), or the lend deadline passed.
 */
final class LentFrames implements AutoCloseable
{
    // the backend's record of a frontend frame
    private static final byte NOT_POSTED = 0;      // not posted: never, or answered by copy
    private static final byte POSTED = 1;    // in a request copied out of the ring, not yet answered
    private static final byte LENT_OUT = 2;      // answered by lending pool frame lentFrame[f]
    private static final byte TAKEN_BACK = 3; // answered by a lend the backend took back; waits for the repost

    private final BackendFrames pool;
    private final FrameRunPool free;
    private final P2mTable p2m;
    private final long frontFramesAddress;
    private final boolean copyBack;
    private final long deadlineNs;
    private final int copybreak;
    private final byte[] state;
    private final int[] lentFrame;
    // frames the lend covers (rx-spans: a buffer of several frames is lent by one entry)
    private final byte[] lentRun;
    private final int[] seq;
    private final long[] lentAtNs;
    private int lentCount;
    private int pressureCursor;
    // a lend is not stamped with a clock read per packet: the first housekeeping after it stamps
    // it (a time it was lent before), so a deadline is never cut short, at most one tick late
    private static final long UNSTAMPED = Long.MIN_VALUE;
    private String violation;
    // the frontend frame a lazy copy writes
    private final UnsafeBuffer frontFrame = new UnsafeBuffer(0, 0);

    private final AtomicCounter flips;
    private final AtomicCounter framesLent;
    private final AtomicCounter copiesAvoided;
    private final AtomicCounter pressureCopies;
    private final AtomicCounter deadlineCopies;
    private final AtomicCounter lentDropped;
    private final AtomicCounter noFrame;
    private final AtomicCounter errorP2m;

    /**
     * @param frontFramesAddress where the frontend's frames are mapped in this process.
     * @param mode               {@link RxMode#FLIP} or {@link RxMode#LAZY}.
     */
    LentFrames(final BackendFrames pool, final P2mTable p2m, final long frontFramesAddress, final RxMode mode,
        final long deadlineNs, final int copybreak, final DeviceCounters counters)
    {
        this.copybreak = copybreak;
        if (mode == RxMode.COPY)
        {
            throw new IllegalArgumentException("copy mode lends no frames");
        }
        this.pool = pool;
        this.free = new FrameRunPool(0, pool.frameCount());
        this.p2m = p2m;
        this.frontFramesAddress = frontFramesAddress;
        this.copyBack = mode == RxMode.LAZY;
        this.deadlineNs = deadlineNs;
        final int frames = p2m.entries();
        this.state = new byte[frames];
        this.lentFrame = new int[frames];
        this.lentRun = new byte[frames];
        this.seq = new int[frames];
        this.lentAtNs = new long[frames];
        this.flips = counters.get(DeviceCounter.RX_FLIPS);
        this.framesLent = counters.get(DeviceCounter.RX_FRAMES_LENT);
        this.copiesAvoided = counters.get(DeviceCounter.RX_COPIES_AVOIDED);
        this.pressureCopies = counters.get(DeviceCounter.RX_LAZY_COPIES_PRESSURE);
        this.deadlineCopies = counters.get(DeviceCounter.RX_LAZY_COPIES_DEADLINE);
        this.lentDropped = counters.get(DeviceCounter.RX_LENT_DROPPED);
        this.noFrame = counters.get(DeviceCounter.RX_NO_BACKEND_FRAME);
        this.errorP2m = counters.get(DeviceCounter.ERROR_P2M);
    }

    /** The frames, as the backend writes them. */
    BackendFrames pool()
    {
        return pool;
    }

    /** Whether a claim of {@code length} bytes is lent (at least the copybreak) or copied in. */
    boolean lends(final int length)
    {
        return length >= copybreak;
    }

    /** Backend frames lent now. */
    int lentCount()
    {
        return lentCount;
    }

    /** Why the frontend must be disconnected, or null. */
    String violation()
    {
        return violation;
    }

    /**
     * Takes {@code frames} consecutive pool frames for a claim. The caller has collected the
     * buffers posted again first ({@link RxDelivery#collectPosted}): their frames are free then.
     * In lazy mode, when none are free, lent frames the frontend has not started reading are
     * copied back to make room (pressure).
     *
     * @return the first pool frame, or -1 (counted).
     */
    int claim(final int frames)
    {
        int first = free.acquire(frames);
        if (first < 0 && copyBack)
        {
            first = reclaimUnderPressure(frames);
        }
        if (first < 0)
        {
            noFrame.incrementRelease();
        }
        return first;
    }

    /** Takes {@code frames} consecutive free pool frames if there are: -1, uncounted, when not. */
    int tryClaim(final int frames)
    {
        return free.acquire(frames);
    }

    /** Gives back pool frames claimed and not lent. */
    void release(final int first, final int frames)
    {
        free.release(first, frames);
    }

    /**
     * A request posting frontend frame {@code frame} was copied out of the ring: a buffer lent
     * before comes back, its pool frame free again.
     *
     * @return false on a protocol violation (the frame was posted already, or its P2M entry holds
     *         a value the frontend may not write).
     */
    boolean posted(final int frame)
    {
        switch (state[frame])
        {
            case NOT_POSTED:
                state[frame] = POSTED;
                return true;
            case POSTED:
                return violate("frame " + frame + " was posted as a receive buffer again before its response: "
                    + "a buffer may be posted once until it is answered");
            case LENT_OUT:
                return giveBack(frame);
            default:
                return afterReclaim(frame);
        }
    }

    /**
     * The buffer of {@code frame} was answered by a copy into it (no lend).
     *
     * @return false when the backend's record has no posted buffer there (the frontend's grant named
     *         another frame at the delivery than when it was posted): a violation.
     */
    boolean answeredByCopy(final int frame)
    {
        if (state[frame] != POSTED)
        {
            return violate("frame " + frame + " was filled as a receive buffer it was not posted as (its grant changed "
                + "between posting and delivery; backend record " + state[frame] + ")");
        }
        state[frame] = NOT_POSTED;
        return true;
    }

    /**
     * Answers the posted buffer of {@code frame} by lending pool frames {@code poolFrame ..
     * poolFrame+run-1} to its frames {@code frame .. frame+run-1}: the entry of its first frame
     * moves from OWN to LENT, covering the run (the other frames' entries are not touched). A
     * release store, published with the frames' bytes by the RX response pushed after it (the
     * frontend reads the entry after its acquire of rsp_prod). A value the frontend wrote into the
     * entry of a posted buffer is overwritten, not detected: it harms only that frontend.
     *
     * @return false on a protocol violation (the backend's record has no posted buffer there).
     */
    boolean lend(final int frame, final int poolFrame, final int run)
    {
        if (state[frame] != POSTED)
        {
            return violate("frame " + frame + " was answered without being posted (backend record " + state[frame] + ")");
        }
        // a plain store, no compare-and-set: a posted buffer's entry is the backend's to write (an
        // honest frontend touches it only after the response), and a value a hostile frontend put
        // there is overwritten, which harms no one. The frame's bytes and this entry are published
        // by the RX response pushed after it (a release store the frontend's acquire load pairs with).
        final int next = next(seq[frame]);
        p2m.storeRelease(frame, encode(LENT, next, poolFrame, run));
        state[frame] = LENT_OUT;
        lentFrame[frame] = poolFrame;
        lentRun[frame] = (byte)run;
        seq[frame] = next;
        lentAtNs[frame] = UNSTAMPED;
        lentCount += run;
        flips.incrementRelease();
        framesLent.setRelease(lentCount);
        return true;
    }

    /**
     * Takes back, at the lend deadline, what the frontend did not give back in time: copied into
     * its own frame in lazy mode, dropped in flip mode. Housekeeping, on the duty thread.
     *
     * @return false on a protocol violation.
     */
    boolean expire(final long nowNs)
    {
        if (lentCount == 0)
        {
            return true;
        }
        for (int frame = 0; frame < state.length && lentCount > 0; frame++)
        {
            if (state[frame] != LENT_OUT)
            {
                continue;
            }
            if (lentAtNs[frame] == UNSTAMPED)
            {
                lentAtNs[frame] = nowNs;
            }
            else if (nowNs - lentAtNs[frame] > deadlineNs && !takeBack(frame, true))
            {
                return false;
            }
        }
        return true;
    }

    /** Disconnect: every lent frame goes with the pool. */
    @Override
    public void close()
    {
        lentCount = 0;
        framesLent.setRelease(0);
        pool.close();
    }

    private int reclaimUnderPressure(final int frames)
    {
        for (int tried = 0; tried < state.length && lentCount > 0; tried++)
        {
            final int frame = pressureCursor;
            pressureCursor = pressureCursor + 1 == state.length ? 0 : pressureCursor + 1;
            // only frames the frontend is not reading: a pinned one stays until its deadline
            if (state[frame] == LENT_OUT && state(p2m.load(frame)) == LENT && !takeBack(frame, false))
            {
                return -1;
            }
            final int first = free.acquire(frames);
            if (first >= 0)
            {
                return first;
            }
        }
        return -1;
    }

    /**
     * Moves a lent entry away from the pool frame: LENT (not read yet) or, at the deadline, PINNED
     * (read past its deadline) to RECLAIMING, the frame copied into the frontend's own, then OWN
     * with a release store (pairs with the frontend's acquire load: it reads the copied bytes);
     * or, in flip mode, to VOID. A frontend that took the frame (TAKEN) has it already. The pool
     * frame is free after.
     */
    private boolean takeBack(final int frame, final boolean deadline)
    {
        final int poolFrame = lentFrame[frame];
        final int run = lentRun[frame];
        final int s = seq[frame];
        final long lent = encode(LENT, s, poolFrame, run);
        final long pinned = encode(PINNED, next(s), poolFrame, run);
        final long taken = encode(TAKEN, next(next(s)), frame);
        // the frontend may pin (LENT to PINNED) or take (PINNED to TAKEN) between the load and the
        // CAS: a failed CAS reads the entry again and goes on from the frontend's move; only a
        // value no move makes is its violation. Each failure is one of those two forward moves.
        for (int attempt = 0; attempt < 3; attempt++)
        {
            final long entry = p2m.load(frame);
            if (entry == taken)
            {
                // the frontend has the bytes in its own frame already
                seq[frame] = seq(entry);
                return takenBack(frame, poolFrame);
            }
            if (entry == pinned && !deadline)
            {
                // being read, and no deadline yet: not taken under pressure
                return true;
            }
            if (entry != lent && entry != pinned)
            {
                return notAMove(frame, entry, lent);
            }
            if (copyBack)
            {
                final long reclaiming = p2m.beginReclaim(frame, entry);
                if (reclaiming == 0)
                {
                    continue;
                }
                // the run's frames are consecutive on both sides (checked when the buffer was taken)
                frontFrame.wrap(frontFramesAddress + (long)frame * DeviceLayout.PAGE_SIZE, run * DeviceLayout.PAGE_SIZE);
                frontFrame.putBytes(0, pool.frames(), poolFrame * DeviceLayout.PAGE_SIZE, run * DeviceLayout.PAGE_SIZE);
                seq[frame] = seq(p2m.finishReclaim(frame, reclaiming));
                (deadline ? deadlineCopies : pressureCopies).incrementRelease();
            }
            else
            {
                final int at = next(seq(entry));
                if (!p2m.compareAndSet(frame, entry, encode(VOID, at, frame)))
                {
                    continue;
                }
                seq[frame] = at;
                lentDropped.incrementRelease();
            }
            return takenBack(frame, poolFrame);
        }
        return changedUnder(frame, lent);
    }

    private boolean takenBack(final int frame, final int poolFrame)
    {
        state[frame] = TAKEN_BACK;
        freeLent(frame, poolFrame);
        return true;
    }


    /** The repost of a lent buffer: its entry back to OWN, its pool frame free. */
    private boolean giveBack(final int frame)
    {
        final int poolFrame = lentFrame[frame];
        final int run = lentRun[frame];
        final int s = seq[frame];
        // the repost says the frontend's handler returned: it touches the entry no more until the
        // next response, so a load and a plain store do (no locked instruction). The load only
        // checks the frontend made moves it may: read (PINNED), never read (LENT) or copied (TAKEN).
        final long entry = p2m.load(frame);
        if (entry != encode(PINNED, next(s), poolFrame, run) && entry != encode(LENT, s, poolFrame, run)
            && entry != encode(TAKEN, next(next(s)), frame))
        {
            return notAMove(frame, entry, encode(LENT, s, poolFrame, run));
        }
        final int at = next(seq(entry));
        p2m.storeRelease(frame, encode(OWN, at, frame));
        if (state(entry) != TAKEN)
        {
            copiesAvoided.incrementRelease();
        }
        seq[frame] = at;
        state[frame] = POSTED;
        freeLent(frame, poolFrame);
        return true;
    }

    /** The repost of a buffer whose lend the backend took back (copied: OWN; dropped: VOID; taken: TAKEN). */
    private boolean afterReclaim(final int frame)
    {
        final long entry = p2m.load(frame);
        final int s = seq[frame];
        if (entry != encode(OWN, s, frame) && entry != encode(VOID, s, frame) && entry != encode(TAKEN, s, frame))
        {
            return notAMove(frame, entry, encode(OWN, s, frame));
        }
        if (state(entry) != OWN)
        {
            final int at = next(s);
            if (!p2m.compareAndSet(frame, entry, encode(OWN, at, frame)))
            {
                return changedUnder(frame, entry);
            }
            seq[frame] = at;
        }
        state[frame] = POSTED;
        return true;
    }

    private void freeLent(final int frame, final int poolFrame)
    {
        free.release(poolFrame, lentRun[frame]);
        lentCount -= lentRun[frame];
        framesLent.setRelease(lentCount);
    }

    private boolean notAMove(final int frame, final long entry, final long wrote)
    {
        return violate("P2M entry of frame " + frame + " is " + describe(entry) + " under a lent backend frame; the backend wrote "
            + describe(wrote) + " and a frontend may only pin it, then take it (a P2M pointing elsewhere is the frontend's write)");
    }

    private boolean changedUnder(final int frame, final long entry)
    {
        return violate("P2M entry of frame " + frame + " changed from " + describe(entry) + " to " + describe(p2m.load(frame))
            + " while the backend moved it (a frontend may not write an entry the backend owns)");
    }

    private boolean violate(final String reason)
    {
        if (violation == null)
        {
            violation = reason;
            errorP2m.incrementRelease();
        }
        return false;
    }
}

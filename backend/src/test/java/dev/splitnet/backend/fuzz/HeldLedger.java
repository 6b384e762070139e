package dev.splitnet.backend.fuzz;

import dev.splitnet.api.PacketStatus;
import java.util.HashMap;
import java.util.Map;

/**
 * What the holding switch did with each bystander packet it held, and what the bystander heard,
 * so that each side checks the other: the backend's thread records the hold and the holder's
 * decision (before it completes, so the bystander always finds it), the bystander's thread records
 * the status its TX response carried. A held packet's status is the one its holder chose, or OKAY
 * when the backend copied it late before the completion, or DROPPED when the backend dropped it at
 * the copy bound (the holder then reads it as dropped: {@code held()} null, {@code complete()}
 * false). A copy the backend dropped later (drop limit, pool short) was answered OKAY already.
 */
final class HeldLedger
{
    /** The holder's side of one held packet. */
    private enum Decision { PENDING, OKAY, ERROR, DROPPED, DROPPED_BY_BACKEND }

    private static final class Entry
    {
        Decision decision = Decision.PENDING;
        PacketStatus heard;
    }

    private final FuzzAccounting accounting;
    private final Map<Long, Entry> entries = new HashMap<>();
    private long held;
    private long asChosen;
    private long okayBeforeCompletion;
    private long droppedByBackend;
    private long completedByHolder;

    HeldLedger(final FuzzAccounting accounting)
    {
        this.accounting = accounting;
    }

    /** The backend's thread held bystander packet {@code id}. */
    synchronized void held(final long id)
    {
        if (entries.putIfAbsent(id, new Entry()) != null)
        {
            accounting.violation("the holder held bystander packet " + id + " twice (the backend handed it over twice)");
            return;
        }
        held++;
    }

    /** The holder is about to complete {@code id} with {@code status}. */
    synchronized void chose(final long id, final PacketStatus status)
    {
        final Entry e = pendingEntry(id, "chose " + status);
        if (e != null)
        {
            e.decision = Decision.valueOf(status.name());
            completedByHolder++;
            settleIfDone(id, e);
        }
    }

    /** The holder found {@code id} dropped by the backend ({@code held()} null or {@code complete()} false). */
    synchronized void droppedByBackend(final long id)
    {
        Entry e = entries.get(id);
        if (e == null)
        {
            accounting.violation("bystander packet " + id + " was reported dropped by the backend but was never held");
            return;
        }
        if (e.decision != Decision.PENDING && e.decision != Decision.OKAY && e.decision != Decision.ERROR && e.decision != Decision.DROPPED)
        {
            accounting.violation("bystander packet " + id + " was dropped by the backend twice");
            return;
        }
        if (e.decision != Decision.PENDING)
        {
            // chose() ran and complete() then returned false: take the choice back
            completedByHolder--;
        }
        e.decision = Decision.DROPPED_BY_BACKEND;
        droppedByBackend++;
        settleIfDone(id, e);
    }

    /** Whether bystander packet {@code id} was held (its status then follows the holder, not the switch rules). */
    synchronized boolean isHeld(final long id)
    {
        return entries.containsKey(id);
    }

    /** The bystander heard {@code status} for held packet {@code id}: checks it against the holder's decision. */
    synchronized void heard(final long id, final PacketStatus status)
    {
        final Entry e = entries.get(id);
        if (e == null)
        {
            accounting.violation("bystander packet " + id + " heard " + status + " as a held packet, but it was never held");
            return;
        }
        if (e.heard != null)
        {
            accounting.violation("held bystander packet " + id + " heard a second status " + status + " (first " + e.heard + ")");
            return;
        }
        e.heard = status;
        if (status != PacketStatus.OKAY && status != PacketStatus.DROPPED && status != PacketStatus.ERROR)
        {
            accounting.violation("held bystander packet " + id + " completed " + status);
        }
        else if (e.decision == Decision.PENDING && status == PacketStatus.ERROR)
        {
            accounting.violation("held bystander packet " + id + " completed ERROR before its holder completed it"
                + " (only a late copy's OKAY or a drop at the copy bound may come first)");
        }
        settleIfDone(id, e);
    }

    /** Both sides have spoken: the status must be the holder's choice, or a late copy's OKAY, or the backend's drop. */
    private void settleIfDone(final long id, final Entry e)
    {
        if (e.heard == null || e.decision == Decision.PENDING)
        {
            return;
        }
        entries.remove(id);
        final PacketStatus heard = e.heard;
        if (e.decision == Decision.DROPPED_BY_BACKEND)
        {
            // dropped while held (answered DROPPED) or as a late copy (answered OKAY at the copy)
            if (heard == PacketStatus.ERROR)
            {
                accounting.violation("held bystander packet " + id + " was dropped by the backend but completed ERROR");
            }
            else if (heard == PacketStatus.OKAY)
            {
                okayBeforeCompletion++;
            }
            return;
        }
        if (heard.name().equals(e.decision.name()))
        {
            asChosen++;
        }
        else if (heard == PacketStatus.OKAY)
        {
            okayBeforeCompletion++;
        }
        else
        {
            accounting.violation("held bystander packet " + id + ": its holder completed it " + e.decision + " but the bystander heard "
                + heard + (heard == PacketStatus.DROPPED ? " (a drop by the backend, yet the holder's complete() returned true)" : ""));
        }
    }

    private Entry pendingEntry(final long id, final String what)
    {
        final Entry e = entries.get(id);
        if (e == null || e.decision != Decision.PENDING)
        {
            accounting.violation("the holder " + what + " for bystander packet " + id + " which is "
                + (e == null ? "not held (completed already, or never held)" : "decided already: " + e.decision));
            return null;
        }
        return e;
    }

    synchronized long heldCount()
    {
        return held;
    }

    synchronized long completedByHolder()
    {
        return completedByHolder;
    }

    synchronized long okayBeforeCompletion()
    {
        return okayBeforeCompletion;
    }

    synchronized long droppedByBackendCount()
    {
        return droppedByBackend;
    }

    synchronized long asChosen()
    {
        return asChosen;
    }

    /** Held packets one side has not yet spoken for. */
    synchronized int open()
    {
        return entries.size();
    }

    synchronized String summary()
    {
        return String.format("held=%,d completed by holder=%,d (as chosen %,d), okay before completion (late copy)=%,d,"
            + " dropped by backend=%,d, open=%d", held, completedByHolder, asChosen, okayBeforeCompletion, droppedByBackend, entries.size());
    }
}

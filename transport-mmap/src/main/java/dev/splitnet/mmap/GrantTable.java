package dev.splitnet.mmap;

import org.agrona.concurrent.AtomicBuffer;

import static dev.splitnet.api.GrantConstants.*;
import static dev.splitnet.mmap.GrantEntryDescriptor.*;

/**
 * Operations on a grant table v1 in shared memory, for both sides. The frontend (granter) grants
 * and ends access; the backend (grantee) acquires an entry's in-use flag before it touches the
 * frame and clears it after. Every transition is a CAS on the 32-bit flags+domid word, so a grant
 * the backend holds cannot be ended and an ended grant cannot be acquired.
 */
public final class GrantTable
{
    /** {@link #acquire} result: the gref is outside the table. */
    public static final int ACQUIRE_OUT_OF_RANGE = -1;
    /** {@link #acquire} result: the entry does not permit access. */
    public static final int ACQUIRE_NOT_GRANTED = -2;
    /** {@link #acquire} result: the entry grants access to another domain. */
    public static final int ACQUIRE_WRONG_DOMAIN = -3;
    /** {@link #acquire} result: write access asked of a read-only grant. */
    public static final int ACQUIRE_READ_ONLY = -4;
    /** {@link #acquire} result: the entry names a frame outside the device. */
    public static final int ACQUIRE_BAD_FRAME = -5;
    /** {@link #acquire} result: the entry kept changing under the CAS; the peer is rewriting it. */
    public static final int ACQUIRE_UNSTABLE = -6;

    /**
     * How many times a CAS on one entry is tried before giving up. The peer can change the word
     * between our read and our CAS forever (flipping a bit nobody checks); Xen's
     * {@code _set_status_v1} gives up after the same number: "Shared grant entry is unstable".
     */
    public static final int MAX_CAS_ATTEMPTS = 4;

    private final AtomicBuffer table;
    private final int entries;
    private final int frameCount;

    public GrantTable(final AtomicBuffer table, final int entries, final int frameCount)
    {
        this.table = table;
        this.entries = entries;
        this.frameCount = frameCount;
    }

    public int entries()
    {
        return entries;
    }

    private static int offset(final int gref)
    {
        return gref * ENTRY_LENGTH;
    }

    /**
     * Granter: lets {@code domid} access {@code frame} (gnttab_grant_foreign_access_ref). The frame
     * is written first; the release store of the flags word pairs with the acquire in
     * {@link #acquire}, so a grantee that sees the flags sees the frame.
     */
    public void grantAccess(final int gref, final int domid, final int frame, final boolean readOnly)
    {
        final int offset = offset(gref);
        table.putInt(offset + FRAME_OFFSET, frame);
        table.putIntRelease(offset + FLAGS_OFFSET, word(GTF_PERMIT_ACCESS | (readOnly ? GTF_READONLY : 0), domid));
    }

    /**
     * Granter: revokes a grant the grantee no longer uses (gnttab_end_foreign_access_ref).
     *
     * @return false when the grantee still holds it (reading or writing set), or kept changing the
     *         entry for {@link #MAX_CAS_ATTEMPTS} tries; nothing changed then.
     */
    public boolean endForeignAccess(final int gref)
    {
        final int offset = offset(gref);
        for (int attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++)
        {
            final int current = table.getIntVolatile(offset + FLAGS_OFFSET);
            if ((flagsOf(current) & (GTF_READING | GTF_WRITING)) != 0)
            {
                return false;
            }
            // CAS, not a plain store: the grantee may set its in-use flag between our read and write.
            if (table.compareAndSetInt(offset + FLAGS_OFFSET, current, word(GTF_INVALID, domidOf(current))))
            {
                return true;
            }
        }
        return false;
    }

    /**
     * Grantee: checks the entry and sets its reading (or writing) flag, as Xen does when it maps or
     * copies a grant. The entry's word is read once per attempt into a local and checked there.
     *
     * @return the granted frame, or a negative {@code ACQUIRE_*} reason ({@link #ACQUIRE_UNSTABLE}
     *         after {@link #MAX_CAS_ATTEMPTS} lost CASes).
     */
    public int acquire(final int gref, final int domid, final boolean write)
    {
        if (gref < 0 || gref >= entries)
        {
            return ACQUIRE_OUT_OF_RANGE;
        }
        final int offset = offset(gref);
        for (int attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++)
        {
            // Acquire load pairs with the granter's release in grantAccess.
            final int current = table.getIntAcquire(offset + FLAGS_OFFSET);
            final int flags = flagsOf(current);
            if ((flags & GTF_TYPE_MASK) != GTF_PERMIT_ACCESS)
            {
                return ACQUIRE_NOT_GRANTED;
            }
            if (domidOf(current) != domid)
            {
                return ACQUIRE_WRONG_DOMAIN;
            }
            if (write && (flags & GTF_READONLY) != 0)
            {
                return ACQUIRE_READ_ONLY;
            }
            final int inUse = write ? GTF_WRITING : GTF_READING;
            if (table.compareAndSetInt(offset + FLAGS_OFFSET, current, word(flags | inUse, domid)))
            {
                // Read after the flag is held: a well-behaved granter cannot change it any more.
                final int frame = table.getInt(offset + FRAME_OFFSET);
                if (frame < 0 || frame >= frameCount)
                {
                    release(gref, write);
                    return ACQUIRE_BAD_FRAME;
                }
                return frame;
            }
        }
        return ACQUIRE_UNSTABLE;
    }

    /**
     * Grantee: a read-only check that the entry grants access to {@code domid}, without taking it.
     *
     * @return 0 when it does, else a negative {@code ACQUIRE_*} reason.
     */
    public int check(final int gref, final int domid, final boolean write)
    {
        if (gref < 0 || gref >= entries)
        {
            return ACQUIRE_OUT_OF_RANGE;
        }
        final int current = table.getIntAcquire(offset(gref) + FLAGS_OFFSET);
        if ((flagsOf(current) & GTF_TYPE_MASK) != GTF_PERMIT_ACCESS)
        {
            return ACQUIRE_NOT_GRANTED;
        }
        if (domidOf(current) != domid)
        {
            return ACQUIRE_WRONG_DOMAIN;
        }
        return write && (flagsOf(current) & GTF_READONLY) != 0 ? ACQUIRE_READ_ONLY : 0;
    }

    /**
     * Grantee: clears the in-use flag taken by {@link #acquire}.
     *
     * @return false when the granter kept rewriting the entry for {@link #MAX_CAS_ATTEMPTS} tries:
     *         the flag is still set (the granter only harms itself: it cannot end access), and the
     *         caller treats the granter as broken.
     */
    public boolean release(final int gref, final boolean write)
    {
        final int offset = offset(gref);
        final int inUse = write ? GTF_WRITING : GTF_READING;
        for (int attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++)
        {
            final int current = table.getIntVolatile(offset + FLAGS_OFFSET);
            if (table.compareAndSetInt(offset + FLAGS_OFFSET, current, current & ~inUse))
            {
                return true;
            }
        }
        return false;
    }

    /** The flags half of an entry, for diagnostics and tests. */
    public int flags(final int gref)
    {
        return flagsOf(table.getIntVolatile(offset(gref) + FLAGS_OFFSET));
    }

    /** A short reason for an {@code ACQUIRE_*} code, for logs and errors. */
    public static String reason(final int code)
    {
        switch (code)
        {
            case ACQUIRE_OUT_OF_RANGE: return "gref outside the grant table";
            case ACQUIRE_NOT_GRANTED: return "grant entry does not permit access";
            case ACQUIRE_WRONG_DOMAIN: return "grant entry is for another domain";
            case ACQUIRE_READ_ONLY: return "grant entry is read-only";
            case ACQUIRE_BAD_FRAME: return "grant entry names a frame outside the device";
            case ACQUIRE_UNSTABLE: return "grant entry is unstable (rewritten under " + MAX_CAS_ATTEMPTS + " CAS attempts)";
            default: return "frame " + code;
        }
    }
}

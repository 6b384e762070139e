package dev.splitnet.mmap;

import org.agrona.BufferUtil;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static dev.splitnet.api.GrantConstants.*;
import static dev.splitnet.mmap.GrantTable.*;
import static org.junit.jupiter.api.Assertions.*;

/** Grant table v1 transitions between the granter (frontend) and the grantee (backend). */
class GrantTableTest
{
    private static final int ENTRIES = 16;
    private static final int FRAMES = 16;
    private static final int FRONTEND_DOMAIN = 7;

    private AtomicBuffer buffer;
    private GrantTable table;

    @BeforeEach
    void setUp()
    {
        buffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(ENTRIES * GrantEntryDescriptor.ENTRY_LENGTH, 64));
        table = new GrantTable(buffer, ENTRIES, FRAMES);
    }

    @Test
    void shouldStartWithEveryEntryInvalid()
    {
        assertEquals(ENTRIES, table.entries());
        for (int gref = 0; gref < ENTRIES; gref++)
        {
            assertEquals(GTF_INVALID, table.flags(gref));
            assertEquals(ACQUIRE_NOT_GRANTED, table.acquire(gref, BACKEND_DOMAIN_ID, false));
        }
    }

    @Test
    void shouldWriteXenGrantEntryV1Fields()
    {
        table.grantAccess(3, BACKEND_DOMAIN_ID, 11, true);
        final int offset = 3 * GrantEntryDescriptor.ENTRY_LENGTH;
        assertEquals(GTF_PERMIT_ACCESS | GTF_READONLY, buffer.getShort(offset + GrantEntryDescriptor.FLAGS_OFFSET) & 0xFFFF);
        assertEquals(BACKEND_DOMAIN_ID, buffer.getShort(offset + GrantEntryDescriptor.DOMID_OFFSET) & 0xFFFF);
        assertEquals(11, buffer.getInt(offset + GrantEntryDescriptor.FRAME_OFFSET));

        table.grantAccess(4, FRONTEND_DOMAIN, 12, false);
        assertEquals(FRONTEND_DOMAIN, buffer.getShort(4 * GrantEntryDescriptor.ENTRY_LENGTH + GrantEntryDescriptor.DOMID_OFFSET));
    }

    @Test
    void shouldSetReadingAndReturnFrameWhenAcquiredForRead()
    {
        table.grantAccess(2, BACKEND_DOMAIN_ID, 9, true);
        assertEquals(GTF_PERMIT_ACCESS | GTF_READONLY, table.flags(2));
        assertEquals(9, table.acquire(2, BACKEND_DOMAIN_ID, false));
        assertEquals(GTF_PERMIT_ACCESS | GTF_READONLY | GTF_READING, table.flags(2));
        table.release(2, false);
        assertEquals(GTF_PERMIT_ACCESS | GTF_READONLY, table.flags(2));
    }

    @Test
    void shouldSetWritingWhenAcquiredForWriteOfWritableGrant()
    {
        table.grantAccess(5, BACKEND_DOMAIN_ID, 15, false);
        assertEquals(15, table.acquire(5, BACKEND_DOMAIN_ID, true));
        assertEquals(GTF_PERMIT_ACCESS | GTF_WRITING, table.flags(5));
        assertFalse(table.endForeignAccess(5), "a grant held for writing cannot be ended");
        table.release(5, true);
        assertEquals(GTF_PERMIT_ACCESS, table.flags(5));
        assertTrue(table.endForeignAccess(5));
    }

    @Test
    void shouldRefuseToEndAccessWhileHeldAndEndAfterRelease()
    {
        table.grantAccess(1, BACKEND_DOMAIN_ID, 4, true);
        assertEquals(4, table.acquire(1, BACKEND_DOMAIN_ID, false));
        assertFalse(table.endForeignAccess(1), "a grant held for reading cannot be ended");
        assertEquals(GTF_PERMIT_ACCESS | GTF_READONLY | GTF_READING, table.flags(1), "a refused end changes nothing");
        table.release(1, false);
        assertTrue(table.endForeignAccess(1));
        assertEquals(GTF_INVALID, table.flags(1));
    }

    @Test
    void shouldEndAccessNeverAcquired()
    {
        table.grantAccess(0, BACKEND_DOMAIN_ID, 0, false);
        assertTrue(table.endForeignAccess(0));
        assertEquals(GTF_INVALID, table.flags(0));
    }

    @Test
    void shouldRejectAcquireAfterEndWithNotGranted()
    {
        table.grantAccess(6, BACKEND_DOMAIN_ID, 3, true);
        assertTrue(table.endForeignAccess(6));
        assertEquals(ACQUIRE_NOT_GRANTED, table.acquire(6, BACKEND_DOMAIN_ID, false));
        assertEquals(ACQUIRE_NOT_GRANTED, table.acquire(6, BACKEND_DOMAIN_ID, true));
        assertEquals(GTF_INVALID, table.flags(6), "a refused acquire sets no flag");
    }

    @Test
    void shouldRejectGrantOfAnotherTypeThanPermitAccess()
    {
        table.grantAccess(6, BACKEND_DOMAIN_ID, 3, false);
        buffer.putShort(6 * GrantEntryDescriptor.ENTRY_LENGTH + GrantEntryDescriptor.FLAGS_OFFSET, (short)GTF_ACCEPT_TRANSFER);
        assertEquals(ACQUIRE_NOT_GRANTED, table.acquire(6, BACKEND_DOMAIN_ID, false));
        buffer.putShort(6 * GrantEntryDescriptor.ENTRY_LENGTH + GrantEntryDescriptor.FLAGS_OFFSET, (short)GTF_TRANSITIVE);
        assertEquals(ACQUIRE_NOT_GRANTED, table.acquire(6, BACKEND_DOMAIN_ID, false));
    }

    @Test
    void shouldRejectAcquireByAnotherDomain()
    {
        table.grantAccess(7, FRONTEND_DOMAIN, 3, false);
        assertEquals(ACQUIRE_WRONG_DOMAIN, table.acquire(7, BACKEND_DOMAIN_ID, false));
        assertEquals(ACQUIRE_WRONG_DOMAIN, table.acquire(7, BACKEND_DOMAIN_ID, true));
        assertEquals(GTF_PERMIT_ACCESS, table.flags(7), "a refused acquire sets no flag");
        assertEquals(3, table.acquire(7, FRONTEND_DOMAIN, false));
    }

    @Test
    void shouldRejectWriteAcquireOfReadOnlyGrant()
    {
        table.grantAccess(8, BACKEND_DOMAIN_ID, 2, true);
        assertEquals(ACQUIRE_READ_ONLY, table.acquire(8, BACKEND_DOMAIN_ID, true));
        assertEquals(GTF_PERMIT_ACCESS | GTF_READONLY, table.flags(8), "a refused acquire sets no flag");
        assertEquals(2, table.acquire(8, BACKEND_DOMAIN_ID, false), "reading it is still allowed");
    }

    @Test
    void shouldRejectGrantReferenceOutsideTable()
    {
        for (final int gref : new int[] {-1, Integer.MIN_VALUE, ENTRIES, ENTRIES + 1, Integer.MAX_VALUE})
        {
            assertEquals(ACQUIRE_OUT_OF_RANGE, table.acquire(gref, BACKEND_DOMAIN_ID, false), "gref " + gref);
            assertEquals(ACQUIRE_OUT_OF_RANGE, table.acquire(gref, BACKEND_DOMAIN_ID, true), "gref " + gref);
            assertEquals(ACQUIRE_OUT_OF_RANGE, table.check(gref, BACKEND_DOMAIN_ID, false), "gref " + gref);
        }
        table.grantAccess(ENTRIES - 1, BACKEND_DOMAIN_ID, FRAMES - 1, false);
        assertEquals(FRAMES - 1, table.acquire(ENTRIES - 1, BACKEND_DOMAIN_ID, false), "the last gref is inside");
    }

    @Test
    void shouldRejectFrameOutsideDeviceWithoutLeavingInUseFlagSet()
    {
        for (final int frame : new int[] {FRAMES, FRAMES + 100, -1, Integer.MIN_VALUE})
        {
            table.grantAccess(9, BACKEND_DOMAIN_ID, frame, false);
            assertEquals(ACQUIRE_BAD_FRAME, table.acquire(9, BACKEND_DOMAIN_ID, false), "frame " + frame);
            assertEquals(GTF_PERMIT_ACCESS, table.flags(9), "reading not left set for frame " + frame);
            assertEquals(ACQUIRE_BAD_FRAME, table.acquire(9, BACKEND_DOMAIN_ID, true), "frame " + frame);
            assertEquals(GTF_PERMIT_ACCESS, table.flags(9), "writing not left set for frame " + frame);
            assertTrue(table.endForeignAccess(9), "the granter can still end it");
        }
    }

    @Test
    void shouldCheckLikeAcquireWithoutSettingFlags()
    {
        table.grantAccess(0, BACKEND_DOMAIN_ID, 1, true);
        table.grantAccess(1, BACKEND_DOMAIN_ID, 1, false);
        table.grantAccess(2, FRONTEND_DOMAIN, 1, false);
        table.grantAccess(3, BACKEND_DOMAIN_ID, 1, false);
        assertTrue(table.endForeignAccess(3));
        final int[] flagsBefore = new int[ENTRIES];
        for (int gref = 0; gref < ENTRIES; gref++)
        {
            flagsBefore[gref] = table.flags(gref);
        }

        assertEquals(0, table.check(0, BACKEND_DOMAIN_ID, false));
        assertEquals(ACQUIRE_READ_ONLY, table.check(0, BACKEND_DOMAIN_ID, true));
        assertEquals(0, table.check(1, BACKEND_DOMAIN_ID, true));
        assertEquals(ACQUIRE_WRONG_DOMAIN, table.check(2, BACKEND_DOMAIN_ID, false));
        assertEquals(ACQUIRE_NOT_GRANTED, table.check(3, BACKEND_DOMAIN_ID, false));
        assertEquals(ACQUIRE_NOT_GRANTED, table.check(4, BACKEND_DOMAIN_ID, false));
        for (int gref = 0; gref < ENTRIES; gref++)
        {
            assertEquals(flagsBefore[gref], table.flags(gref), "check() changed the flags of gref " + gref);
        }

        for (int gref = 0; gref < 5; gref++)
        {
            for (final boolean write : new boolean[] {false, true})
            {
                final int checked = table.check(gref, BACKEND_DOMAIN_ID, write);
                final int acquired = table.acquire(gref, BACKEND_DOMAIN_ID, write);
                if (checked == 0)
                {
                    assertEquals(1, acquired, "check() allowed gref " + gref + " write=" + write);
                    table.release(gref, write);
                }
                else
                {
                    assertEquals(checked, acquired, "check() and acquire() disagree on gref " + gref + " write=" + write);
                }
            }
        }
    }

    @Test
    void shouldKeepReadingWhenWritingReleasedAndViceVersa()
    {
        table.grantAccess(10, BACKEND_DOMAIN_ID, 8, false);
        assertEquals(8, table.acquire(10, BACKEND_DOMAIN_ID, false));
        assertEquals(8, table.acquire(10, BACKEND_DOMAIN_ID, true));
        assertEquals(GTF_PERMIT_ACCESS | GTF_READING | GTF_WRITING, table.flags(10));
        table.release(10, true);
        assertEquals(GTF_PERMIT_ACCESS | GTF_READING, table.flags(10));
        assertFalse(table.endForeignAccess(10));
        table.release(10, false);
        assertTrue(table.endForeignAccess(10));
    }

    @Test
    void shouldGiveADistinctReasonForEveryAcquireFailure()
    {
        final int[] codes = {ACQUIRE_OUT_OF_RANGE, ACQUIRE_NOT_GRANTED, ACQUIRE_WRONG_DOMAIN, ACQUIRE_READ_ONLY, ACQUIRE_BAD_FRAME};
        final Set<String> reasons = new HashSet<>();
        for (final int code : codes)
        {
            assertTrue(code < 0, "failure codes are negative, frames are not");
            assertTrue(reasons.add(GrantTable.reason(code)), "duplicate reason for " + code);
        }
        assertEquals("frame 12", GrantTable.reason(12));
    }

    /**
     * A granter that rewrites the entry between every read and CAS of the grantee (flipping a flag
     * bit nobody checks): modelled by a buffer whose CAS always finds the word changed.
     */
    private static final class RewrittenUnderCas extends UnsafeBuffer
    {
        int casAttempts;

        RewrittenUnderCas(final AtomicBuffer memory)
        {
            super(memory.addressOffset(), memory.capacity());
        }

        @Override
        public boolean compareAndSetInt(final int index, final int expectedValue, final int updatedValue)
        {
            casAttempts++;
            // the hostile granter's store lands first: 0x80 (Xen's GTF_PAT), a bit splitnet ignores
            putIntVolatile(index, getIntVolatile(index) ^ 0x80);
            return super.compareAndSetInt(index, expectedValue, updatedValue);
        }
    }

    @Test
    void shouldGiveUpAcquiringAnEntryRewrittenUnderEveryCas()
    {
        table.grantAccess(5, BACKEND_DOMAIN_ID, 3, false);
        final RewrittenUnderCas hostile = new RewrittenUnderCas(buffer);
        final GrantTable underAttack = new GrantTable(hostile, ENTRIES, FRAMES);
        assertEquals(ACQUIRE_UNSTABLE, underAttack.acquire(5, BACKEND_DOMAIN_ID, false));
        assertEquals(MAX_CAS_ATTEMPTS, hostile.casAttempts);
        assertEquals(0, table.flags(5) & (GTF_READING | GTF_WRITING), "nothing taken");
    }

    @Test
    void shouldReportAReleaseTheGranterKeepsRewriting()
    {
        table.grantAccess(6, BACKEND_DOMAIN_ID, 3, false);
        assertEquals(3, table.acquire(6, BACKEND_DOMAIN_ID, true));
        final RewrittenUnderCas hostile = new RewrittenUnderCas(buffer);
        assertFalse(new GrantTable(hostile, ENTRIES, FRAMES).release(6, true));
        assertEquals(MAX_CAS_ATTEMPTS, hostile.casAttempts);
        assertTrue(table.release(6, true), "released once the entry is left alone");
        assertEquals(0, table.flags(6) & GTF_WRITING);
    }

    @Test
    void shouldStopEndingAccessToAnEntryRewrittenUnderEveryCas()
    {
        table.grantAccess(7, BACKEND_DOMAIN_ID, 3, false);
        final RewrittenUnderCas hostile = new RewrittenUnderCas(buffer);
        assertFalse(new GrantTable(hostile, ENTRIES, FRAMES).endForeignAccess(7));
        assertEquals(MAX_CAS_ATTEMPTS, hostile.casAttempts);
        assertTrue(table.endForeignAccess(7));
    }
}

package dev.splitnet.backend;

import dev.splitnet.api.GrantConstants;
import dev.splitnet.api.NetifConstants;
import dev.splitnet.mmap.DeviceLayout;
import dev.splitnet.mmap.NetifLimits;

/**
 * Checks a chain's private copy ({@link TxChain}) before anything is built from it: sizes that add
 * up, offsets inside their frame or slot, grants that exist and are granted to the backend, flags
 * and features that were negotiated. Returns {@link #OK} or the reason, which names the counter
 * the frontend sees (error_bad_gref and its neighbours).
 */
final class TxValidator
{
    static final int OK = 0;
    static final int BAD_GREF = 1;
    static final int BAD_OFFSET = 2;
    static final int BAD_SLOT = 3;
    static final int TOO_MANY_FRAGMENTS = 4;
    static final int SIZE_MISMATCH = 5;
    static final int UNSUPPORTED = 6;
    /** Number of reasons, OK included: the size of an array indexed by reason. */
    static final int REASONS = 7;

    private final ActiveGrants grants;
    private final NegotiatedFeatures features;
    private final int headerSlotCount;
    private final int headerSlotSize;
    // permanent-grant checks that found every grant kept already, since the last takeReuses()
    private long reuses;

    TxValidator(final ActiveGrants grants, final NegotiatedFeatures features, final int headerSlotCount, final int headerSlotSize)
    {
        this.grants = grants;
        this.features = features;
        this.headerSlotCount = headerSlotCount;
        this.headerSlotSize = headerSlotSize;
    }

    /** Permanent-grant reuses counted since the last call (published once per batch). */
    long takeReuses()
    {
        final long n = reuses;
        reuses = 0;
        return n;
    }

    int validate(final TxChain chain)
    {
        final int count = chain.count;
        if (count - 1 > NetifLimits.MAX_PAYLOAD_FRAGMENTS)
        {
            return TOO_MANY_FRAGMENTS;
        }
        int payload = 0;
        for (int i = 1; i < count; i++)
        {
            if ((chain.flags[i] & (NetifConstants.NETTXF_SPLITNET_HEADER_SLOT | NetifConstants.NETTXF_SPLITNET_HEADER_BY_ID
                | NetifConstants.NETTXF_EXTRA_INFO)) != 0)
            {
                return UNSUPPORTED;
            }
            final int reason = checkGrantRange(chain.gref[i], chain.offset[i], chain.size[i], features.frameSpans());
            if (reason != OK)
            {
                return reason;
            }
            payload += chain.size[i];
        }
        final int first = chain.flags[0];
        if ((first & NetifConstants.NETTXF_EXTRA_INFO) != 0)
        {
            return UNSUPPORTED;
        }
        if (payload > chain.size[0])
        {
            return SIZE_MISMATCH;
        }
        final int headLength = chain.size[0] - payload;
        if ((first & NetifConstants.NETTXF_SPLITNET_HEADER_BY_ID) != 0)
        {
            return validateHeaderById(chain, headLength);
        }
        if ((first & NetifConstants.NETTXF_SPLITNET_HEADER_SLOT) != 0)
        {
            if (!features.headerSlots())
            {
                return UNSUPPORTED;
            }
            if (chain.gref[0] < 0 || chain.gref[0] >= headerSlotCount)
            {
                return BAD_SLOT;
            }
            return chain.offset[0] + headLength > headerSlotSize ? BAD_OFFSET : OK;
        }
        final int reason = headLength > 0 ? checkGrantRange(chain.gref[0], chain.offset[0], headLength, false)
            : chain.offset[0] > DeviceLayout.PAGE_SIZE ? BAD_OFFSET : OK;
        if (reason != OK)
        {
            return reason;
        }
        // the part of the first request past the header copy becomes one more fragment
        return headLength > headerSlotSize && count - 1 == NetifLimits.MAX_PAYLOAD_FRAGMENTS ? TOO_MANY_FRAGMENTS : OK;
    }

    /**
     * The compact first request: header in slot {@code id}, {@code offset} bytes long; the rest of
     * the first request's share of the packet is its own data, from offset 0 of its gref.
     */
    private int validateHeaderById(final TxChain chain, final int headLength)
    {
        if (!features.headerSlots() || !features.frameSpans() || (chain.flags[0] & NetifConstants.NETTXF_SPLITNET_HEADER_SLOT) != 0)
        {
            return UNSUPPORTED;
        }
        if (chain.id[0] >= headerSlotCount)
        {
            return BAD_SLOT;
        }
        final int headerLength = chain.offset[0];
        if (headerLength > headerSlotSize)
        {
            return BAD_OFFSET;
        }
        final int own = headLength - headerLength;
        if (own < 0)
        {
            return SIZE_MISMATCH;
        }
        return own == 0 ? OK : checkGrantRange(chain.gref[0], 0, own, true);
    }

    /**
     * Checks one request's grant and byte range on the private copy: a permanent gref needs the
     * feature; a range past its frame needs frame spans and a permanent gref, and then covers
     * consecutive grefs whose frames must be consecutive. A permanent grant is kept here, at its
     * first sight (the grant is taken; no byte of the frame is touched), so the check of a reused
     * one is an array load that reads no shared memory: the seed's "recognise a valid reuse
     * without mapping again". A transient grant is only checked; it is taken at first access.
     */
    private int checkGrantRange(final int rawGref, final int offset, final int size, final boolean spansAllowed)
    {
        final boolean permanent = (rawGref & GrantConstants.GREF_PERMANENT) != 0;
        if (permanent && !features.permanentGrants())
        {
            return UNSUPPORTED;
        }
        final int end = offset + size;
        if (end > DeviceLayout.PAGE_SIZE && !(permanent && spansAllowed))
        {
            return BAD_OFFSET;
        }
        final int gref = rawGref & GrantConstants.GREF_MASK;
        final int frames = Math.max(1, (end + DeviceLayout.PAGE_SIZE - 1) / DeviceLayout.PAGE_SIZE);
        if (frames > grants.table().entries() - gref)
        {
            return BAD_GREF;
        }
        if (!permanent)
        {
            return grants.table().check(gref, grants.domid(), false) == 0 ? OK : BAD_GREF;
        }
        if (grants.keptSpan(gref, frames, false) >= 0)
        {
            reuses++;
            return OK;
        }
        final int keptBefore = grants.kept();
        final int first = grants.keep(gref, false);
        if (first < 0)
        {
            return BAD_GREF;
        }
        for (int i = 1; i < frames; i++)
        {
            if (grants.keep(gref + i, false) != first + i)
            {
                // not granted, or the span's frames are not consecutive
                return BAD_GREF;
            }
        }
        if (grants.kept() == keptBefore)
        {
            reuses++;
        }
        return OK;
    }
}

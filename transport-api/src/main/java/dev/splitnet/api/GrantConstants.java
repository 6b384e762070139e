package dev.splitnet.api;

/** Flag values of Xen's grant table v1 ({@code grant_table.h}); the test against the real header checks them. */
public final class GrantConstants
{
    public static final int GTF_INVALID = 0;
    public static final int GTF_PERMIT_ACCESS = 1;
    public static final int GTF_ACCEPT_TRANSFER = 2;
    public static final int GTF_TRANSITIVE = 3;
    public static final int GTF_TYPE_MASK = 3;
    /** The grantee may only read. */
    public static final int GTF_READONLY = 1 << 2;
    /** Set by the grantee while it holds a read mapping (the "in-use" flag). */
    public static final int GTF_READING = 1 << 3;
    /** Set by the grantee while it holds a write mapping. */
    public static final int GTF_WRITING = 1 << 4;

    /**
     * splitnet extension (feature permanent-grants): set in a ring request's 32-bit gref, it tells
     * the backend it may keep that grant mapped after the packet. Grant references are below 2^16,
     * so the top bit is free; the frontend sets it on every use of a permanent grant.
     */
    public static final int GREF_PERMANENT = 1 << 31;
    /** The grant reference proper, without {@link #GREF_PERMANENT}. */
    public static final int GREF_MASK = ~GREF_PERMANENT;
    /**
     * splitnet extension (feature rx-spans): bits 28 to 30 of an RX request's permanent gref hold
     * the buffer's frames less one, so the buffer is that many consecutive grefs of consecutive
     * frames from the gref. 0 (every plain request) is one frame. Code that knows nothing of spans
     * masks with {@link #GREF_MASK} and sees a gref far out of range, which it refuses.
     */
    public static final int GREF_SPAN_SHIFT = 28;
    /** The span bits of an RX request's gref ({@link #GREF_SPAN_SHIFT}). */
    public static final int GREF_SPAN_BITS = 0x7 << GREF_SPAN_SHIFT;

    /** The domain id of the backend: like dom0, it is the grantee of every frontend grant. */
    public static final int BACKEND_DOMAIN_ID = 0;

    private GrantConstants()
    {
    }
}

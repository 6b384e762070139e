package dev.splitnet.backend;

import dev.splitnet.api.SplitnetException;
import dev.splitnet.mmap.GrantTable;

/**
 * Thrown out of a fragment access when the fault handler cannot map the grant: the frontend
 * revoked it, never granted it, named a frame outside its device, or kept rewriting the entry.
 * The backend answers the packet with an error.
 *
 * <p>A bad packet must cost no allocation, so the backend throws one preallocated instance per
 * frontend, without a stack trace, and fills in the domain, gref and reason before each throw; the
 * message is built only when asked for. A handler that keeps the exception past its packet sees it
 * describe the latest fault of that frontend.
 */
public final class GrantFaultException extends SplitnetException
{
    private static final long serialVersionUID = 1L;

    private int domainId;
    private int gref;
    private int reason;

    /** A one-off exception with a fixed message and a stack trace (tools and tests). */
    public GrantFaultException(final String message)
    {
        super(message);
        this.reason = 0;
    }

    /** The reusable, stackless instance of one frontend. */
    GrantFaultException(final int domainId)
    {
        super(null, null, false, false);
        this.domainId = domainId;
    }

    /** Fills in the fault about to be thrown; returns this. */
    GrantFaultException reset(final int gref, final int reason)
    {
        this.gref = gref;
        this.reason = reason;
        return this;
    }

    /** The frontend's domain id. */
    public int domainId()
    {
        return domainId;
    }

    /** The grant reference that faulted. */
    public int gref()
    {
        return gref;
    }

    /** A negative {@code GrantTable.ACQUIRE_*} code. */
    public int reason()
    {
        return reason;
    }

    @Override
    public String getMessage()
    {
        final String fixed = super.getMessage();
        if (fixed != null)
        {
            return fixed;
        }
        return "domain " + domainId + " gref=" + gref + ": " + GrantTable.reason(reason);
    }
}

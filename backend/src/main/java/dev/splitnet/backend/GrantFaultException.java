package dev.splitnet.backend;

import dev.splitnet.api.SplitnetException;

/**
 * Thrown out of a fragment access when the fault handler cannot map the grant: the frontend
 * revoked it or never granted it. The backend answers the packet with an error.
 */
public final class GrantFaultException extends SplitnetException
{
    private static final long serialVersionUID = 1L;

    public GrantFaultException(final String message)
    {
        super(message);
    }
}

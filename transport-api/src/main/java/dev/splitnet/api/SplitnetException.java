package dev.splitnet.api;

/** A failure that needs the caller's attention: misuse, a broken peer or an unusable environment. */
public class SplitnetException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    public SplitnetException(final String message)
    {
        super(message);
    }

    public SplitnetException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}

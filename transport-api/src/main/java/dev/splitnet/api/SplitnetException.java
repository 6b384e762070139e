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

    /**
     * For subclasses that preallocate one instance and throw it on a hot path: no stack trace, no
     * suppression (see {@link RuntimeException#RuntimeException(String, Throwable, boolean, boolean)}).
     */
    protected SplitnetException(final String message, final Throwable cause, final boolean enableSuppression,
        final boolean writableStackTrace)
    {
        super(message, cause, enableSuppression, writableStackTrace);
    }
}

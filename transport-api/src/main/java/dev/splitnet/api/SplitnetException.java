package dev.splitnet.api;

/** A failure that needs the caller's attention: misuse, a broken peer or an unusable environment. */
public class SplitnetException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final Remedy remedy;

    public SplitnetException(final String message)
    {
        this(message, Remedy.NONE);
    }

    public SplitnetException(final String message, final Throwable cause)
    {
        this(message, Remedy.NONE, cause);
    }

    /** A failure the caller gets past by changing the setting {@code remedy} names. */
    public SplitnetException(final String message, final Remedy remedy)
    {
        super(message);
        this.remedy = remedy;
    }

    public SplitnetException(final String message, final Remedy remedy, final Throwable cause)
    {
        super(message, cause);
        this.remedy = remedy;
    }

    /**
     * For subclasses that preallocate one instance and throw it on a hot path: no stack trace, no
     * suppression (see {@link RuntimeException#RuntimeException(String, Throwable, boolean, boolean)}).
     */
    protected SplitnetException(final String message, final Throwable cause, final boolean enableSuppression,
        final boolean writableStackTrace)
    {
        super(message, cause, enableSuppression, writableStackTrace);
        this.remedy = Remedy.NONE;
    }

    /** Which setting to change to get past this failure ({@link Remedy#NONE}: the message says all). */
    public Remedy remedy()
    {
        return remedy;
    }
}

package dev.splitnet.frontend;

/**
 * Tells a fault on the mapped device from other errors. HotSpot reports an access to a page of a
 * mapping that no longer has a file page behind it (the device file was truncated, or a hole was
 * punched into it) as an {@link InternalError} "a fault occurred in a (recent) unsafe memory access",
 * possibly at the next safepoint after the access.
 */
final class MemoryFault
{
    private static final String MARK = "unsafe memory access";

    private MemoryFault()
    {
    }

    /** Whether {@code error} is HotSpot's report of a faulting access to mapped memory. */
    static boolean is(final InternalError error)
    {
        final String message = error.getMessage();
        return message != null && message.contains(MARK);
    }
}

package dev.splitnet.backend.fuzz;

/**
 * The bystander ERRORs a truncation may explain: the JVM may raise the fault of a truncated
 * mapping at a later safepoint, while the backend handles another frontend's packet, and that one
 * packet then ends ERROR. Each truncation explains at most one such ERROR, within two seconds.
 */
final class TruncationWindow
{
    private static final long WINDOW_NS = 2_000_000_000L;
    private long until;
    private long credits;

    synchronized void opened()
    {
        until = System.nanoTime() + WINDOW_NS;
        credits++;
    }

    /** Takes one credit if a window is open; returns 1 if it did, else 0. */
    synchronized long take()
    {
        if (credits > 0 && System.nanoTime() - until < 0)
        {
            credits--;
            return 1;
        }
        credits = 0;
        return 0;
    }
}

package dev.splitnet.backend;

import dev.splitnet.api.SplitnetException;
import java.util.function.Consumer;
import org.agrona.concurrent.IdleStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link NetBack}'s duty cycle on its own thread. Unlike Agrona's AgentRunner, which ends
 * the thread on any Error, it survives the one Error a hostile frontend can cause: a fault on a
 * device file the frontend truncated under the mapping, which the JVM raises as an InternalError
 * (possibly at a later safepoint, so it can surface anywhere in the loop). The offending frontend
 * is disconnected and the others keep being served. A fault that cannot be put down to one frontend
 * stops the loop visibly: every frontend is disconnected, the listening socket closed, and
 * {@link #failure()} says why.
 */
public final class NetBackRunner implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(NetBackRunner.class);

    private final NetBack backend;
    private final IdleStrategy idle;
    private final Consumer<Throwable> errorHandler;
    private final Thread thread;
    /** Faults recovered from in a row (each may surface inside the last one's recovery) before giving up. */
    private static final int MAX_RECOVERIES = 8;

    private volatile boolean running = true;
    // written by the duty thread before it ends (volatile: read by the application's threads)
    private volatile Throwable failure;

    /**
     * Starts the duty-cycle thread at once, idling as the backend's context says
     * ({@link BackendContext#idleMode()}, see {@link NetBack#idleStrategy()}).
     *
     * @param errorHandler hears what the duty cycle could not handle itself, and why it stopped.
     */
    public NetBackRunner(final NetBack backend, final Consumer<Throwable> errorHandler)
    {
        this(backend, backend.idleStrategy(), errorHandler);
    }

    /** Starts the duty-cycle thread at once, idling with a strategy of the caller's (which overrides the context's idle mode). */
    public NetBackRunner(final NetBack backend, final IdleStrategy idle, final Consumer<Throwable> errorHandler)
    {
        this.backend = backend;
        this.idle = idle;
        this.errorHandler = errorHandler;
        this.thread = new Thread(this::run, "netback");
        thread.start();
    }

    public Thread thread()
    {
        return thread;
    }

    public boolean isRunning()
    {
        return running && thread.isAlive();
    }

    /**
     * What stopped the duty cycle, or null while it runs or after a clean {@link #close}: the
     * application (the CLI exits non-zero with it) decides what a stopped backend means.
     */
    public Throwable failure()
    {
        return failure;
    }

    private void run()
    {
        while (running)
        {
            Throwable caught = null;
            try
            {
                while (running)
                {
                    idle.idle(backend.doWork());
                }
            }
            catch (final Throwable t)
            {
                caught = t;
            }
            // Handled outside the catch block and inside a try of its own: HotSpot may deliver a
            // second memory fault late, in the middle of handling the first (seen in CI: it
            // escaped a catch block and ended the thread), and it must land here again.
            int faultsInARow = 0;
            while (caught != null && running)
            {
                final Throwable handling = caught;
                caught = null;
                try
                {
                    if (handling instanceof InternalError && ++faultsInARow > MAX_RECOVERIES)
                    {
                        stop("memory faults kept coming while recovering", new SplitnetException("backend stopped: "
                            + MAX_RECOVERIES + " memory faults in a row while recovering from one; every frontend was disconnected",
                            handling));
                    }
                    else
                    {
                        handle(handling);
                    }
                }
                catch (final Throwable late)
                {
                    caught = late;
                }
            }
        }
    }

    private void handle(final Throwable caught)
    {
        if (caught instanceof InternalError)
        {
            recover((InternalError)caught);
        }
        else if (caught instanceof Error)
        {
            stop("the duty cycle failed: " + caught, caught);
        }
        else
        {
            // NetBack answers bad packets itself; anything reaching here is a bug: report, keep serving.
            errorHandler.accept(caught);
        }
    }

    /**
     * Puts a memory fault down to the frontend that caused it, or stops visibly. Recovering
     * touches shared memory too (answering interrupted packets), and a fault delivered late in
     * the middle of it goes back to {@link #run()}, which recovers again, a bounded number of times.
     */
    private void recover(final InternalError fault)
    {
        if (!backend.recoverFromMemoryFault(fault))
        {
            stop("a memory fault could not be put down to one frontend", new SplitnetException(
                "backend stopped: a memory fault on shared memory (" + fault.getMessage()
                + ") could not be put down to one frontend (no device file is short or has a hole), so no "
                + "frontend's memory can be trusted; every frontend was disconnected. A frontend that truncates "
                + "and regrows or punches holes in its device file causes this; restart the backend", fault));
        }
    }

    /**
     * Ends the duty cycle visibly: every frontend's doorbell closes (they see it at once), nothing
     * new is accepted, and the error handler hears why.
     */
    private void stop(final String summary, final Throwable reason)
    {
        failure = reason;
        try
        {
            backend.abandonAll(summary);
        }
        catch (final Throwable t)
        {
            reason.addSuppressed(t);
        }
        errorHandler.accept(reason);
        // last: whoever sees the runner stopped sees the frontends abandoned and the handler told
        running = false;
    }

    /** Stops the loop, waits for it, and closes the backend. */
    @Override
    public void close()
    {
        running = false;
        try
        {
            thread.join(10_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive())
        {
            LOG.error("netback duty cycle did not stop within 10 s");
        }
        backend.close();
    }
}

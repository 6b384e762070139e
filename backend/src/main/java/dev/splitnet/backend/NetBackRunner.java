package dev.splitnet.backend;

import java.util.function.Consumer;
import org.agrona.concurrent.IdleStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link NetBack}'s duty cycle on its own thread. Unlike Agrona's AgentRunner, which ends
 * the thread on any Error, it survives the one Error a hostile frontend can cause: a fault on a
 * device file the frontend truncated under the mapping, which the JVM raises as an InternalError
 * (possibly at a later safepoint, so it can surface anywhere in the loop). The offending frontend
 * is disconnected and the others keep being served.
 */
public final class NetBackRunner implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(NetBackRunner.class);

    private final NetBack backend;
    private final IdleStrategy idle;
    private final Consumer<Throwable> errorHandler;
    private final Thread thread;
    private volatile boolean running = true;

    /** Starts the duty-cycle thread at once. */
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

    private void run()
    {
        while (running)
        {
            try
            {
                while (running)
                {
                    idle.idle(backend.doWork());
                }
            }
            catch (final InternalError fault)
            {
                if (!backend.recoverFromMemoryFault(fault))
                {
                    errorHandler.accept(fault);
                    running = false;
                }
            }
            catch (final Error error)
            {
                errorHandler.accept(error);
                running = false;
            }
            catch (final Throwable t)
            {
                // NetBack answers bad packets itself; anything reaching here is a bug: report, keep serving.
                errorHandler.accept(t);
            }
        }
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

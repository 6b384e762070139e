package dev.splitnet.backend;

import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;

/**
 * Connects a frontend to a backend whose duty cycle the test itself drives (no runner thread):
 * while the frontend connects, a helper thread runs the backend's cycle until it has adopted it;
 * afterwards the test thread is the only one calling {@code doWork}.
 */
final class DrivenConnect
{
    private static final long ADOPT_TIMEOUT_NS = 10_000_000_000L;

    private DrivenConnect()
    {
    }

    static NetFront connect(final NetBack backend, final FrontendContext context) throws InterruptedException
    {
        final Thread accept = new Thread(() ->
        {
            final long end = System.nanoTime() + ADOPT_TIMEOUT_NS;
            while (backend.connectedCount() == 0 && System.nanoTime() < end)
            {
                backend.doWork();
            }
        });
        accept.start();
        try
        {
            return NetFront.connect(context);
        }
        finally
        {
            accept.join();
        }
    }
}

package dev.splitnet.bench;

import org.HdrHistogram.Histogram;

/** One transport's side of a run: set up, then one of the four loops, each until the meter says done. */
abstract class TransportWorker implements AutoCloseable
{
    final WorkerSetup setup;
    final Meter meter;
    final int size;

    TransportWorker(final WorkerSetup setup)
    {
        this.setup = setup;
        this.meter = setup.meter;
        this.size = setup.size;
    }

    /** Side A creates the transport's shared state (before the probe); side B connects (after it). */
    abstract void prepare(boolean sideA) throws Exception;

    /** Sends {@code size}-byte messages as fast as the receiver takes them; {@code copy}: copy the payload in. */
    abstract void send(boolean copy) throws Exception;

    /** Receives messages; {@code read}: read every byte, else hand the view on untouched. */
    abstract void receive(boolean read) throws Exception;

    /** Answers every 64-byte message with one of its own. */
    abstract void echo(boolean block) throws Exception;

    /** Sends one message, waits for the answer, records the round trip in ns while the window is open. */
    abstract void ping(boolean block, Histogram histogram) throws Exception;

    /**
     * The receivers' common loop: poll, idle when nothing came, and check the meter every
     * {@link WorkerSetup#POLL_MASK}+1 polls until it says the window is over. The poll is a
     * method reference made once, not per message.
     */
    final void pollUntilDone(final java.util.function.IntSupplier pollOnce)
    {
        int i = 0;
        while (true)
        {
            if (pollOnce.getAsInt() == 0)
            {
                setup.idle();
            }
            if ((++i & WorkerSetup.POLL_MASK) == 0 && meter.poll())
            {
                return;
            }
        }
    }

    /** Extra key=value pairs for the RESULT line (counters the transport keeps). */
    String extra()
    {
        return "";
    }

    @Override
    public void close() throws Exception
    {
    }
}

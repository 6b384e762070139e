package dev.splitnet.frontend;

import dev.splitnet.api.Frontend;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.RxHandler;
import dev.splitnet.api.SendResult;
import dev.splitnet.api.SplitnetException;
import dev.splitnet.api.TxClaim;
import dev.splitnet.api.TxCompletionHandler;
import java.util.concurrent.TimeUnit;
import org.agrona.DirectBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A frontend that outlives its backend: it owns one {@link NetFront} at a time and, when the
 * backend closes or dies, reports every packet then in flight as {@link PacketStatus#DISCONNECTED}
 * exactly once (in the poll that notices), closes that NetFront (its device file deleted, its
 * mapping released) and connects again with the same context, one attempt per retry interval,
 * from {@link #poll}. Nothing is resent: a backend that died after delivering a packet and before
 * answering it leaves the frontend no way to know, so resending could deliver it twice; an
 * application that wants at-least-once resends on DISCONNECTED and drops duplicates itself
 * (docs/PROTOCOL.md 8.5). A claim ({@link #tryClaim}) belongs to the connection it came from:
 * commit or abort it before the next poll, which may close that connection (a commit then throws
 * {@code IllegalStateException}, as after {@link NetFront#close()}). Not thread safe: one thread
 * drives it.
 */
public final class ReconnectingFrontend implements Frontend
{
    private static final Logger LOG = LoggerFactory.getLogger(ReconnectingFrontend.class);
    /** Default wait between connect attempts while no backend answers. */
    public static final long DEFAULT_RETRY_INTERVAL_MS = 50;

    /** Told of each connection and each loss of one; called on the polling thread. */
    public interface Listener
    {
        /** A connection is up; {@code connection} counts from 1. */
        default void connected(final NetFront front, final int connection)
        {
        }

        /**
         * The backend went away: every packet in flight was just reported DISCONNECTED
         * ({@code reported} of them). {@code front} is still mapped (its counters readable) and is
         * closed when this returns.
         */
        default void disconnected(final NetFront front, final int reported)
        {
        }
    }

    private final FrontendContext context;
    private final Listener listener;
    private final long retryIntervalNs;
    private final long attemptTimeoutMs;
    private NetFront current;
    private int connections;
    private int lastDomainId;
    private long lastFeatures;
    private long nextAttemptNs;
    private String lastFailure;
    private boolean closed;
    // the application's handler during a poll, behind one that counts DISCONNECTED (no allocation per poll)
    private TxCompletionHandler delegate;
    private int disconnectedReported;
    private final TxCompletionHandler counting = (correlationId, status) ->
    {
        if (status == PacketStatus.DISCONNECTED)
        {
            disconnectedReported++;
        }
        delegate.onTxComplete(correlationId, status);
    };

    private ReconnectingFrontend(final FrontendContext context, final Listener listener, final long retryIntervalMs,
        final long attemptTimeoutMs)
    {
        this.context = context;
        this.listener = listener;
        this.retryIntervalNs = TimeUnit.MILLISECONDS.toNanos(retryIntervalMs);
        this.attemptTimeoutMs = attemptTimeoutMs;
    }

    /**
     * Connects the first time as {@link NetFront#connect} does (waiting up to the context's
     * connect timeout, throwing what it throws); later connections are made by {@link #poll}, each
     * attempt offering a new device file and waiting up to the context's connect timeout for a
     * backend (blocking that poll, as {@code NetFront.connect} blocks).
     */
    public static ReconnectingFrontend connect(final FrontendContext context, final Listener listener)
    {
        return connect(context, listener, DEFAULT_RETRY_INTERVAL_MS, context.connectTimeoutMs());
    }

    /**
     * As {@link #connect(FrontendContext, Listener)}, with the wait between reconnect attempts and
     * the time each attempt may block {@link #poll} waiting for a backend to listen (a short one
     * polls often but creates and deletes a device file per attempt).
     */
    public static ReconnectingFrontend connect(final FrontendContext context, final Listener listener,
        final long retryIntervalMs, final long attemptTimeoutMs)
    {
        if (retryIntervalMs < 0 || attemptTimeoutMs < 0)
        {
            throw new IllegalArgumentException("retryIntervalMs=" + retryIntervalMs + " attemptTimeoutMs=" + attemptTimeoutMs
                + ": both must be >= 0");
        }
        if (listener == null)
        {
            throw new IllegalArgumentException("listener must be set (use new ReconnectingFrontend.Listener() { } for none)");
        }
        final ReconnectingFrontend frontend = new ReconnectingFrontend(context, listener, retryIntervalMs, attemptTimeoutMs);
        try
        {
            frontend.adopt(NetFront.connect(context, context.connectTimeoutMs()));
        }
        catch (final RuntimeException ex)
        {
            frontend.close(); // a listener that threw: the connection (and its file) must not outlive it
            throw ex;
        }
        return frontend;
    }

    private void adopt(final NetFront front)
    {
        current = front;
        connections++;
        lastDomainId = front.domainId();
        lastFeatures = front.negotiatedFeatures();
        lastFailure = null;
        listener.connected(front, connections);
    }

    /** Connections made so far, the first included. */
    public int connections()
    {
        return connections;
    }

    /** The connection in use, or null while there is none; do not close it (this class does). */
    public NetFront current()
    {
        return current;
    }

    /** The domain id of the current connection, or of the last one while disconnected. */
    @Override
    public int domainId()
    {
        return lastDomainId;
    }

    @Override
    public long negotiatedFeatures()
    {
        return lastFeatures;
    }

    @Override
    public boolean isConnected()
    {
        return current != null && current.isConnected();
    }

    @Override
    public SendResult send(final DirectBuffer header, final int headerOffset, final int headerLength,
        final DirectBuffer payload, final int payloadOffset, final int payloadLength, final long correlationId)
    {
        return current == null ? SendResult.NOT_CONNECTED
            : current.send(header, headerOffset, headerLength, payload, payloadOffset, payloadLength, correlationId);
    }

    @Override
    public TxClaim tryClaim(final int headerLength, final int[] fragmentLengths, final int fragmentCount)
    {
        return current == null ? null : current.tryClaim(headerLength, fragmentLengths, fragmentCount);
    }

    @Override
    public TxClaim tryClaim(final int headerLength, final int payloadLength)
    {
        return current == null ? null : current.tryClaim(headerLength, payloadLength);
    }

    /**
     * {@inheritDoc} When the poll finds the backend gone it also takes what the backend published
     * before it went (packets received, real statuses), reports every packet still in flight
     * DISCONNECTED and closes the connection; while there is none, it makes one connect attempt
     * per retry interval (blocking up to the attempt timeout) and returns 0.
     */
    @Override
    public int poll(final TxCompletionHandler completions, final RxHandler receiver)
    {
        if (closed)
        {
            return 0;
        }
        if (current == null)
        {
            attempt();
            return 0;
        }
        delegate = completions;
        disconnectedReported = 0;
        int work = current.poll(counting, receiver);
        if (!current.isConnected())
        {
            // A poll after the disconnect completes what is still in flight (NetFront.poll's
            // failAll), so close() below finds nothing left to count twice.
            work += current.poll(counting, receiver);
            retire(disconnectedReported);
        }
        delegate = null;
        return work;
    }

    private void retire(final int reported)
    {
        final NetFront front = current;
        current = null;
        LOG.warn("frontend {}: backend gone, {} packets in flight reported as disconnected; reconnecting", context.name(), reported);
        try
        {
            listener.disconnected(front, reported);
        }
        finally
        {
            front.close();
            nextAttemptNs = System.nanoTime();
        }
    }

    private void attempt()
    {
        final long now = System.nanoTime();
        if (now - nextAttemptNs < 0)
        {
            return;
        }
        nextAttemptNs = now + retryIntervalNs;
        final NetFront front;
        try
        {
            front = NetFront.connect(context, attemptTimeoutMs);
        }
        catch (final SplitnetException ex)
        {
            if (!ex.getMessage().equals(lastFailure))
            {
                lastFailure = ex.getMessage();
                LOG.info("frontend {}: not connected yet: {}", context.name(), lastFailure);
            }
            return;
        }
        adopt(front);
    }

    /** Packets sent on the current connection and not yet completed; 0 while there is none. */
    @Override
    public int inFlight()
    {
        return current == null ? 0 : current.inFlight();
    }

    /** The current connection's largest fragment; 0 while there is none (nothing can be claimed then). */
    @Override
    public int maxFragmentLength()
    {
        return current == null ? 0 : current.maxFragmentLength();
    }

    /**
     * Waits on the current connection's doorbell, or, while there is none, until the next connect
     * attempt is due. A disconnect this notices is reported (and the connection closed) by the
     * next {@link #poll}.
     */
    @Override
    public void awaitWork(final long timeoutMillis)
    {
        if (closed)
        {
            return;
        }
        if (current != null)
        {
            current.awaitWork(timeoutMillis);
            return;
        }
        final long waitNs = Math.min(TimeUnit.MILLISECONDS.toNanos(timeoutMillis), nextAttemptNs - System.nanoTime());
        if (waitNs > 0)
        {
            try
            {
                TimeUnit.NANOSECONDS.sleep(waitNs);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Closes the current connection (as {@link NetFront#close()}) and makes no more. Final. */
    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        if (current != null)
        {
            final NetFront front = current;
            current = null;
            front.close();
        }
    }
}

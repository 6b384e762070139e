package dev.splitnet.bench;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.logbuffer.BufferClaim;
import io.aeron.logbuffer.FragmentHandler;
import org.HdrHistogram.Histogram;
import org.agrona.CloseHelper;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Aeron IPC, as its users would set it up for this: side A embeds the media driver (SHARED
 * threading with a backoff idle strategy, so the driver does not take a third core from two;
 * pre-touched, non-sparse 64 MiB terms; its directory in the run directory under /dev/shm), and
 * both sides use exclusive publications on {@value #CHANNEL}. The MTU of 65504 lets one
 * {@code tryClaim} hold a 65000-byte message, so no size is fragmented. Senders claim and commit
 * (writing an 8-byte sequence number), or offer a copy in the receive-direction scenario.
 */
final class AeronWorker extends TransportWorker
{
    static final String CHANNEL = "aeron:ipc?mtu=65504|term-length=64m";
    private static final int STREAM_B_TO_A = 1001;
    private static final int STREAM_A_TO_B = 1002;

    private MediaDriver driver;
    private Aeron aeron;
    private ExclusivePublication publication;
    private Subscription subscription;
    private final BufferClaim claim = new BufferClaim();
    private final UnsafeBuffer source;
    private boolean readPayload;
    private boolean received;

    private final FragmentHandler countHandler = (buffer, offset, length, header) ->
    {
        meter.count++;
        if (readPayload)
        {
            setup.checksum += WorkerSetup.sum(buffer, offset, length);
        }
    };
    private final FragmentHandler echoHandler = (buffer, offset, length, header) ->
    {
        while (publication.offer(buffer, offset, length) < 0)
        {
            Thread.onSpinWait();
        }
        meter.count++;
    };
    private final FragmentHandler markHandler = (buffer, offset, length, header) -> received = true;

    AeronWorker(final WorkerSetup setup)
    {
        super(setup);
        source = new UnsafeBuffer(new byte[size]);
    }

    @Override
    void prepare(final boolean sideA)
    {
        final String dir = setup.runDir.resolve("aeron").toString();
        if (sideA)
        {
            driver = MediaDriver.launch(new MediaDriver.Context()
                .aeronDirectoryName(dir)
                .threadingMode(ThreadingMode.SHARED)
                .sharedIdleStrategy(new BackoffIdleStrategy())
                .termBufferSparseFile(false)
                .dirDeleteOnStart(true)
                .dirDeleteOnShutdown(true));
        }
        aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(dir).preTouchMappedMemory(true));
        final boolean aSends = setup.scenario.isReceiveDirection();
        final boolean roundTrip = !setup.scenario.isThroughput();
        if (roundTrip)
        {
            publication = aeron.addExclusivePublication(CHANNEL, sideA ? STREAM_A_TO_B : STREAM_B_TO_A);
            subscription = aeron.addSubscription(CHANNEL, sideA ? STREAM_B_TO_A : STREAM_A_TO_B);
        }
        else if (sideA == aSends)
        {
            publication = aeron.addExclusivePublication(CHANNEL, STREAM_B_TO_A);
        }
        else
        {
            subscription = aeron.addSubscription(CHANNEL, STREAM_B_TO_A);
        }
    }

    private void awaitConnected()
    {
        while (publication != null && !publication.isConnected())
        {
            Thread.yield();
        }
    }

    @Override
    void send(final boolean copy)
    {
        awaitConnected();
        long seq = 0;
        int i = 0;
        while (true)
        {
            if (copy)
            {
                source.putLong(0, seq);
                if (publication.offer(source, 0, size) > 0)
                {
                    seq++;
                    meter.count++;
                }
                else
                {
                    setup.idle();
                }
            }
            else if (publication.tryClaim(size, claim) > 0)
            {
                claim.buffer().putLong(claim.offset(), seq++);
                claim.commit();
                meter.count++;
            }
            else
            {
                setup.idle();
            }
            if ((++i & WorkerSetup.POLL_MASK) == 0 && meter.poll())
            {
                return;
            }
        }
    }

    @Override
    void receive(final boolean read)
    {
        readPayload = read;
        pollUntilDone(() -> subscription.poll(countHandler, 64));
    }

    private IdleStrategy idle(final boolean block)
    {
        return block ? new BackoffIdleStrategy() : null;
    }

    @Override
    void echo(final boolean block)
    {
        awaitConnected();
        final IdleStrategy idle = idle(block);
        int i = 0;
        while (true)
        {
            final int n = subscription.poll(echoHandler, 16);
            if (idle != null)
            {
                idle.idle(n);
            }
            else if (n == 0)
            {
                setup.idle();
            }
            if ((++i & WorkerSetup.POLL_MASK) == 0 && meter.poll())
            {
                return;
            }
        }
    }

    @Override
    void ping(final boolean block, final Histogram histogram)
    {
        awaitConnected();
        final IdleStrategy idle = idle(block);
        long seq = 0;
        while (true)
        {
            while (publication.tryClaim(WorkerSetup.HEADER_LENGTH, claim) < 0)
            {
                Thread.onSpinWait();
            }
            received = false;
            claim.buffer().putLong(claim.offset(), seq++);
            final long start = System.nanoTime();
            claim.commit();
            while (!received)
            {
                final int n = subscription.poll(markHandler, 1);
                if (idle != null)
                {
                    idle.idle(n);
                }
                else
                {
                    Thread.onSpinWait();
                }
            }
            final long rtt = System.nanoTime() - start;
            if (meter.inWindow())
            {
                histogram.recordValue(rtt);
            }
            meter.count++;
            if ((seq & 63) == 0 && meter.poll())
            {
                return;
            }
        }
    }

    @Override
    public void close()
    {
        CloseHelper.quietCloseAll(publication, subscription, aeron, driver);
    }
}

package dev.splitnet.bench;

import java.io.File;
import java.nio.MappedByteBuffer;
import org.HdrHistogram.Histogram;
import org.agrona.IoUtil;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

/**
 * The raw floor of a shared-memory queue: Agrona's {@link OneToOneRingBuffer} over a file in the
 * run directory (/dev/shm), 8 MiB of capacity per direction, created and zero-filled by side A.
 * Senders {@code tryClaim}/{@code commit} (writing an 8-byte sequence number), or {@code write} a
 * copy in the receive-direction scenario; the consumer's {@code read} hands the handler a view.
 */
final class AgronaRingWorker extends TransportWorker
{
    static final int CAPACITY = 8 * 1024 * 1024;
    private static final int MSG_TYPE = 1;

    private MappedByteBuffer mappedBa;
    private MappedByteBuffer mappedAb;
    private RingBuffer outbound;
    private RingBuffer inbound;
    private final UnsafeBuffer source;
    private boolean readPayload;
    private boolean received;

    private final MessageHandler countHandler = (type, buffer, index, length) ->
    {
        meter.count++;
        if (readPayload)
        {
            setup.checksum += WorkerSetup.sum(buffer, index, length);
        }
    };
    private final MessageHandler echoHandler = (type, buffer, index, length) ->
    {
        while (!outbound.write(MSG_TYPE, buffer, index, length))
        {
            Thread.onSpinWait();
        }
        meter.count++;
    };
    private final MessageHandler markHandler = (type, buffer, index, length) -> received = true;

    AgronaRingWorker(final WorkerSetup setup)
    {
        super(setup);
        source = new UnsafeBuffer(new byte[size]);
    }

    @Override
    void prepare(final boolean sideA)
    {
        final File ab = setup.runDir.resolve("ring-b-to-a").toFile();
        final File ba = setup.runDir.resolve("ring-a-to-b").toFile();
        final long length = CAPACITY + RingBufferDescriptor.TRAILER_LENGTH;
        if (sideA)
        {
            mappedAb = IoUtil.mapNewFile(ab, length, true);
            mappedBa = IoUtil.mapNewFile(ba, length, true);
        }
        else
        {
            mappedAb = IoUtil.mapExistingFile(ab, "ring-b-to-a");
            mappedBa = IoUtil.mapExistingFile(ba, "ring-a-to-b");
        }
        final RingBuffer abRing = new OneToOneRingBuffer(new UnsafeBuffer(mappedAb));
        final RingBuffer baRing = new OneToOneRingBuffer(new UnsafeBuffer(mappedBa));
        outbound = sideA ? baRing : abRing;
        inbound = sideA ? abRing : baRing;
    }

    @Override
    void send(final boolean copy)
    {
        long seq = 0;
        int i = 0;
        final UnsafeBuffer ring = (UnsafeBuffer)outbound.buffer();
        while (true)
        {
            if (copy)
            {
                source.putLong(0, seq);
                if (outbound.write(MSG_TYPE, source, 0, size))
                {
                    seq++;
                    meter.count++;
                }
                else
                {
                    setup.idle();
                }
            }
            else
            {
                final int index = outbound.tryClaim(MSG_TYPE, size);
                if (index > 0)
                {
                    ring.putLong(index, seq++);
                    outbound.commit(index);
                    meter.count++;
                }
                else
                {
                    setup.idle();
                }
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
        pollUntilDone(() -> inbound.read(countHandler, 64));
    }

    @Override
    void echo(final boolean block)
    {
        final IdleStrategy idle = block ? new BackoffIdleStrategy() : null;
        int i = 0;
        while (true)
        {
            final int n = inbound.read(echoHandler, 16);
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
        final IdleStrategy idle = block ? new BackoffIdleStrategy() : null;
        final UnsafeBuffer ring = (UnsafeBuffer)outbound.buffer();
        long seq = 0;
        while (true)
        {
            int index;
            while ((index = outbound.tryClaim(MSG_TYPE, WorkerSetup.HEADER_LENGTH)) <= 0)
            {
                Thread.onSpinWait();
            }
            received = false;
            ring.putLong(index, seq++);
            final long start = System.nanoTime();
            outbound.commit(index);
            while (!received)
            {
                final int n = inbound.read(markHandler, 1);
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
        IoUtil.unmap(mappedAb);
        IoUtil.unmap(mappedBa);
    }
}

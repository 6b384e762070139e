package dev.splitnet.backend;

import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.SendResult;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import dev.splitnet.mmap.CounterReadings;
import dev.splitnet.mmap.DeviceCounter;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/**
 * An echo that keeps its packets on their way back within {@link FrontendContext#rxWindow} loses
 * none; one that does not is told why each was dropped (rx_dropped_no_buffer on the receiver).
 */
class RxWindowTest
{
    private static final int HEADER = 64;
    private static final int MAX_PAYLOAD = 9000;
    private static final int PACKETS = 100_000;

    @TempDir
    Path dir;

    @Test
    void shouldDropNothingWhenTheEchoStaysWithinTheRxWindow() throws Exception
    {
        final FrontendContext context = new FrontendContext().directory(dir).name("windowed");
        final int window = context.rxWindow(HEADER + MAX_PAYLOAD);
        assertEquals(256 / 3, window, "256 buffers posted, a packet of 9064 bytes fills 3");
        final long[] result = echo(context, window, false);
        assertEquals(PACKETS, result[0], "every packet came back OKAY");
        assertEquals(0, result[1], "no DROPPED completion");
        assertEquals(0, result[2], "rx_dropped_no_buffer");
        assertEquals(PACKETS, result[3], "every packet received back, bytes checked");
    }

    @Test
    void shouldNameTheReasonOfEveryDropWhenTheWindowIsExceeded() throws Exception
    {
        // negative control: as many in flight as send allows (1024 TX frames), far past the window
        final long[] result = echo(new FrontendContext().directory(dir).name("unbounded"), Integer.MAX_VALUE, true);
        assertTrue(result[1] > 0, "an echo past the window is dropped: " + result[1]);
        assertEquals(result[1], result[2], "every DROPPED completion is one rx_dropped_no_buffer on the receiver");
        assertEquals(PACKETS, result[0] + result[1], "every packet accounted");
    }

    /** @return okay, dropped, rx_dropped_no_buffer, received */
    private long[] echo(final FrontendContext context, final int window, final boolean byInFlight) throws Exception
    {
        final NetBack backend = NetBack.launch(new BackendContext().directory(dir)
            .handler((switchport, packet) -> switchport.deliver(packet.domainId(), packet)));
        try (NetBackRunner runner = new NetBackRunner(backend, Throwable::printStackTrace);
            NetFront front = NetFront.connect(context))
        {
            final SplittableRandom random = new SplittableRandom(9);
            final UnsafeBuffer header = new UnsafeBuffer(new byte[HEADER]);
            final UnsafeBuffer payload = new UnsafeBuffer(new byte[MAX_PAYLOAD]);
            final UnsafeBuffer copy = new UnsafeBuffer(new byte[HEADER + MAX_PAYLOAD]);
            final long[] counts = new long[4];
            long sent = 0;
            final long deadline = System.nanoTime() + 120_000_000_000L;
            while ((counts[0] + counts[1] < PACKETS) && System.nanoTime() < deadline)
            {
                final long onTheirWay = byInFlight ? front.inFlight() : sent - counts[3] - counts[1];
                if (sent < PACKETS && onTheirWay < window)
                {
                    final int length = random.nextInt(MAX_PAYLOAD + 1);
                    header.putLong(0, sent);
                    header.putInt(8, length);
                    if (length >= 8)
                    {
                        payload.putLong(length - 8, sent ^ 0x5A5A5A5A5A5AL);
                    }
                    if (front.send(header, 0, HEADER, payload, 0, length, sent) == SendResult.SENT)
                    {
                        sent++;
                    }
                }
                front.poll((id, status) ->
                {
                    if (status == PacketStatus.OKAY)
                    {
                        counts[0]++;
                    }
                    else if (status == PacketStatus.DROPPED)
                    {
                        counts[1]++;
                    }
                    else
                    {
                        fail("packet " + id + ": " + status);
                    }
                }, packet ->
                {
                    final int n = packet.copyTo(copy, 0);
                    final long seq = copy.getLong(0);
                    final int length = copy.getInt(8);
                    assertEquals(HEADER + length, n, "packet " + seq);
                    if (length >= 8)
                    {
                        assertEquals(seq ^ 0x5A5A5A5A5A5AL, copy.getLong(HEADER + length - 8), "packet " + seq);
                    }
                    counts[3]++;
                });
            }
            // the last echoes may still be on their way back
            while (counts[3] < counts[0] && System.nanoTime() < deadline)
            {
                front.poll((id, status) -> { }, packet -> counts[3]++);
            }
            assertTrue(System.nanoTime() < deadline, "the echo finished in time");
            counts[2] = CounterReadings.read(front.device(), dir, front.domainId()).get(DeviceCounter.RX_DROPPED_NO_BUFFER);
            return counts;
        }
    }
}

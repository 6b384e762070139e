package dev.splitnet.backend;

import dev.splitnet.api.IdleMode;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.SendResult;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import dev.splitnet.mmap.DeviceCounter;
import dev.splitnet.mmap.CounterReadings;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.CRC32;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import dev.splitnet.api.Features;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.*;

class InProcessLoopbackTest
{
    @TempDir
    Path dir;

    /** Every feature this build has (permanent grants, frame spans), and header slots alone (a grant per use, one frame per fragment). */
    @ParameterizedTest(name = "features {0}")
    @ValueSource(longs = { Features.DEFAULT, Features.HEADER_SLOTS })
    void shouldEchoEveryByteAndCountOneFaultPerReadFragment(final long features) throws Exception
    {
        final long[] backendCrc = new long[1];
        final NetBack[] holder = new NetBack[1];
        final NetBack backend = NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BACKOFF).handler(packet ->
        {
            // echo back: reads every payload byte through the fault path
            return holder[0].deliver(packet.domainId(), packet);
        }));
        holder[0] = backend;
        final AgentRunner runner = new AgentRunner(new BackoffIdleStrategy(), Throwable::printStackTrace, null, backend);
        AgentRunner.startOnThread(runner);
        // Echoing needs RX buffers for every packet in flight: 240 TX frames allow at most 15 packets of
        // 16 frames in flight, which the 256 posted RX buffers always cover (the echo is never DROPPED).
        try (NetFront front = NetFront.connect(new FrontendContext().directory(dir).name("t1").txFrames(240).features(features)))
        {
            final Random random = new Random(42);
            final UnsafeBuffer header = new UnsafeBuffer(new byte[128]);
            final UnsafeBuffer payload = new UnsafeBuffer(new byte[65535]);
            final UnsafeBuffer received = new UnsafeBuffer(new byte[65535 + 128]);
            final int packets = 2000;
            long fragments = 0;
            final int[] okay = new int[1];
            final int[] rx = new int[1];
            final long[] expectedCrc = new long[packets];
            final int[] mismatches = new int[1];
            final int[] notOkay = new int[1];
            final CRC32 crc = new CRC32();
            final dev.splitnet.api.TxCompletionHandler completions = (id, status) ->
            {
                if (status == PacketStatus.OKAY)
                {
                    okay[0]++;
                }
                else
                {
                    notOkay[0]++;
                }
            };
            final dev.splitnet.api.RxHandler receiver = packet ->
            {
                final int length = packet.copyTo(received, 0);
                final int seq = received.getInt(0);
                final CRC32 c = new CRC32();
                c.update(received.byteArray(), 0, length);
                if (seq < 0 || seq >= packets || c.getValue() != expectedCrc[seq])
                {
                    mismatches[0]++;
                }
                rx[0]++;
            };
            long headerBytes = 0;
            int sent = 0;
            final long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
            while (okay[0] + notOkay[0] < packets)
            {
                assertTrue(System.nanoTime() - deadline < 0, "60 s and only " + okay[0] + " of " + packets + " completed OKAY, "
                    + notOkay[0] + " otherwise, " + sent + " sent");
                if (sent < packets)
                {
                    final int headerLength = 14 + random.nextInt(100);
                    final int payloadLength = random.nextInt(65535 - headerLength);
                    for (int i = 0; i < headerLength; i++) header.putByte(i, (byte)random.nextInt());
                    for (int i = 0; i < payloadLength; i += 7) payload.putByte(i, (byte)random.nextInt());
                    header.putInt(0, sent);
                    crc.reset();
                    crc.update(header.byteArray(), 0, headerLength);
                    crc.update(payload.byteArray(), 0, payloadLength);
                    expectedCrc[sent] = crc.getValue();
                    if (front.send(header, 0, headerLength, payload, 0, payloadLength, sent) == SendResult.SENT)
                    {
                        sent++;
                        headerBytes += headerLength;
                        // send cuts the payload into frames, or with frame spans sends it as one fragment
                        fragments += features == Features.DEFAULT ? (payloadLength > 0 ? 1 : 0) : (payloadLength + 4095) / 4096;
                    }
                }
                front.poll(completions, receiver);
            }
            // the last echoes may still be on their way
            final long drainDeadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
            while (rx[0] < packets && System.nanoTime() - drainDeadline < 0)
            {
                front.poll(completions, receiver);
            }
            assertEquals(0, notOkay[0], "every packet completes OKAY (the echo is never dropped)");
            assertEquals(packets, okay[0]);
            assertEquals(packets, rx[0], "every packet echoed back once");
            assertEquals(0, mismatches[0], "echoed packets whose bytes differ from the sent ones");
            final CounterReadings counters = CounterReadings.read(front.device(), dir, front.domainId());
            assertEquals(fragments, counters.get(DeviceCounter.PAYLOAD_FAULTS), "one fault per fragment read");
            if (features == Features.DEFAULT)
            {
                // permanent grants: each of the 240 TX frames is kept at most once, at its first
                // sight, and all 256 RX buffers end up kept for writing; nothing is mapped per packet
                final long keptTx = counters.get(DeviceCounter.PERMANENT_GRANTS) - 256;
                assertTrue(keptTx > 0 && keptTx <= 240, "TX grants kept=" + keptTx);
                assertEquals(0, counters.get(DeviceCounter.GRANT_MAPS), "no per-packet map");
                assertTrue(counters.get(DeviceCounter.GRANT_REUSES) >= fragments - keptTx, "reuses");
            }
            else
            {
                assertEquals(fragments, counters.get(DeviceCounter.GRANT_MAPS), "one map per fault");
                assertEquals(0, counters.get(DeviceCounter.PERMANENT_GRANTS));
            }
            assertEquals(headerBytes, counters.get(DeviceCounter.HEADER_BYTES_COPIED), "every header copied once, nothing more");
            // neither side ever sleeps here, so neither re-arms its events: at most one doorbell per ring each way
            assertTrue(counters.get(DeviceCounter.FRONTEND_DOORBELLS_SENT) <= 2, "frontend doorbells="
                + counters.get(DeviceCounter.FRONTEND_DOORBELLS_SENT));
            assertTrue(counters.get(DeviceCounter.BACKEND_DOORBELLS_SENT) <= 2, "backend doorbells="
                + counters.get(DeviceCounter.BACKEND_DOORBELLS_SENT));
        }
        finally
        {
            runner.close();
        }
    }
}

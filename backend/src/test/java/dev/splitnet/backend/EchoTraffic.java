package dev.splitnet.backend;

import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.ReceivedPacket;
import dev.splitnet.api.SendResult;
import dev.splitnet.frontend.NetFront;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.zip.CRC32;
import org.agrona.concurrent.UnsafeBuffer;

import static org.junit.jupiter.api.Assertions.*;

/** Sends packets with a sequence number and a CRC of every byte, and checks each echo against it. */
final class EchoTraffic
{
    private final NetFront front;
    private final SplittableRandom random;
    private final int maxLength;
    private final UnsafeBuffer header = new UnsafeBuffer(new byte[64]);
    private final UnsafeBuffer payload = new UnsafeBuffer(new byte[65535]);
    private final UnsafeBuffer received = new UnsafeBuffer(new byte[65535 + 64]);
    private final CRC32 crc = new CRC32();
    private long[] expected;
    private int okay;
    private int notOkay;
    private int echoed;
    private int mismatches;
    // run after each poll, if set
    Runnable checkEachPoll = () -> { };
    // given each received packet before it is checked, if set
    Consumer<ReceivedPacket> onEachEcho = packet -> { };

    EchoTraffic(final NetFront front, final SplittableRandom random, final int maxLength)
    {
        this.front = front;
        this.random = random;
        this.maxLength = maxLength;
    }

    void run(final int packets)
    {
        expected = new long[packets];
        int sent = 0;
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while ((okay + notOkay < packets || echoed < packets) && System.nanoTime() - deadline < 0)
        {
            if (sent < packets)
            {
                final int headerLength = 14 + random.nextInt(40);
                final int payloadLength = random.nextInt(Math.max(1, maxLength - headerLength));
                for (int i = 0; i < headerLength; i++)
                {
                    header.putByte(i, (byte)random.nextInt());
                }
                for (int i = 0; i < payloadLength; i += 5)
                {
                    payload.putByte(i, (byte)random.nextInt());
                }
                header.putInt(0, sent);
                crc.reset();
                crc.update(header.byteArray(), 0, headerLength);
                crc.update(payload.byteArray(), 0, payloadLength);
                expected[sent] = crc.getValue();
                if (front.send(header, 0, headerLength, payload, 0, payloadLength, sent) == SendResult.SENT)
                {
                    sent++;
                }
            }
            front.poll((id, status) ->
            {
                if (status == PacketStatus.OKAY)
                {
                    okay++;
                }
                else
                {
                    notOkay++;
                }
            }, packet ->
            {
                onEachEcho.accept(packet);
                final int length = packet.copyTo(received, 0);
                final int seq = received.getInt(0);
                final CRC32 c = new CRC32();
                c.update(received.byteArray(), 0, length);
                if (seq < 0 || seq >= expected.length || c.getValue() != expected[seq])
                {
                    mismatches++;
                }
                echoed++;
            });
            checkEachPoll.run();
        }
    }

    void assertIntact(final int packets)
    {
        assertTrue(front.isConnected(), "disconnected: " + front.disconnectReason());
        assertEquals(0, notOkay, "every packet completes OKAY");
        assertEquals(packets, okay);
        assertEquals(packets, echoed, "every packet echoed back once");
        assertEquals(0, mismatches, "echoes whose bytes differ from the packet sent");
    }
}

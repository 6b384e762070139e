package dev.splitnet.backend;

import dev.splitnet.api.IdleMode;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.SendResult;
import dev.splitnet.api.TxClaim;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import java.nio.file.Path;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code NetFront.close()} is final: its mapping is gone (unmapped at once), so every call after it
 * must answer without touching shared memory, which would crash the JVM, and report nothing twice.
 */
class NetFrontCloseTest
{
    @TempDir
    Path dir;

    @Test
    void shouldAnswerEveryCallAfterCloseWithoutTouchingTheMapping()
    {
        // a backend that never answers, so the packets stay in flight
        final NetBack backend = NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BACKOFF)
            .handler(packet -> PacketStatus.OKAY));
        final NetFront front;
        TxClaim claim;
        try (NetBackRunner runner = new NetBackRunner(backend, new BackoffIdleStrategy(), Throwable::printStackTrace))
        {
            front = NetFront.connect(new FrontendContext().directory(dir).name("closing"));
            final UnsafeBuffer buffer = new UnsafeBuffer(new byte[2048]);
            for (int i = 0; i < 10; i++)
            {
                assertEquals(SendResult.SENT, front.send(buffer, 0, 64, buffer, 64, 1000, i));
            }
            claim = front.tryClaim(64, 500);
            assertNotNull(claim);
            front.close();
            front.close();
        }
        // a claim taken before close: its buffers no longer reach the mapping, commit says why
        final TxClaim open = claim;
        assertThrows(IndexOutOfBoundsException.class, () -> open.header().putByte(0, (byte)1));
        final IllegalStateException voided = assertThrows(IllegalStateException.class, () -> open.commit(7));
        assertTrue(voided.getMessage().contains("the frontend is closed"), voided.getMessage());
        final int[] reported = new int[1];
        assertEquals(0, front.poll((id, status) -> reported[0]++, packet -> reported[0]++), "a poll after close does nothing");
        assertEquals(0, reported[0], "close() accounted the packets in flight; nothing is reported again");
        assertEquals(0, front.inFlight());
        assertFalse(front.isConnected());
        assertEquals(SendResult.NOT_CONNECTED, front.send(new UnsafeBuffer(new byte[64]), 0, 64, new UnsafeBuffer(new byte[0]), 0, 0, 99));
        assertNull(front.tryClaim(64, 100));
        front.awaitWork(1);
    }
}

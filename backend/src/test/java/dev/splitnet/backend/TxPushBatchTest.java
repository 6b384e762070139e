package dev.splitnet.backend;

import dev.splitnet.api.IdleMode;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import dev.splitnet.mmap.SharedRingDescriptor;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/**
 * With a TX push batch of N (Linux netfront's xmit_more), req_prod is published once per N
 * committed packets, and poll() publishes what is pending; every packet still completes once.
 */
class TxPushBatchTest
{
    @TempDir
    Path dir;

    @Test
    void shouldPublishOncePerBatchAndAtEveryPoll() throws InterruptedException
    {
        final int[] handled = new int[1];
        try (NetBack backend = NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BUSY_SPIN).handler(packet ->
        {
            handled[0]++;
            return PacketStatus.OKAY;
        })))
        {
            try (NetFront front = DrivenConnect.connect(backend, new FrontendContext().directory(dir).name("batch").txPushBatch(4)))
            {
                final int start = front.device().txRing().getIntVolatile(SharedRingDescriptor.REQ_PROD_OFFSET);
                for (int i = 0; i < 3; i++)
                {
                    front.tryClaim(64, 0).commit(i);
                }
                assertEquals(start, front.device().txRing().getIntVolatile(SharedRingDescriptor.REQ_PROD_OFFSET),
                    "three packets of a batch of four stay unpublished");
                front.tryClaim(64, 0).commit(3);
                assertEquals(start + 4, front.device().txRing().getIntVolatile(SharedRingDescriptor.REQ_PROD_OFFSET));
                front.tryClaim(64, 0).commit(4);
                final int[] completed = new int[1];
                front.poll((id, status) -> completed[0]++, packet -> { });
                assertEquals(start + 5, front.device().txRing().getIntVolatile(SharedRingDescriptor.REQ_PROD_OFFSET),
                    "poll publishes the pending packet");
                final long end = System.nanoTime() + 10_000_000_000L;
                while (completed[0] < 5 && System.nanoTime() < end)
                {
                    backend.doWork();
                    front.poll((id, status) -> completed[0]++, packet -> { });
                }
                assertEquals(5, completed[0]);
                assertEquals(5, handled[0]);
            }
        }
    }

    @Test
    void shouldRejectAPushBatchOutsideOneTo4096()
    {
        assertThrows(IllegalArgumentException.class, () -> new FrontendContext().directory(dir).name("x").txPushBatch(0).conclude());
    }
}

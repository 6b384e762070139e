package dev.splitnet.bench;

import java.util.Locale;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The single-thread copy bandwidth limit: {@code size}-byte copies between two 8 MiB off-heap
 * regions (the size of splitnet's TX frame pool in the benchmark), walking through both so the
 * copies are not served from L1/L2 alone; time-based warm-up.
 */
final class CopyBandwidth
{
    private static final int REGION = 8 * 1024 * 1024;

    private CopyBandwidth()
    {
    }

    static void run(final int size, final long warmupMs, final long measureMs)
    {
        final UnsafeBuffer src = new UnsafeBuffer(BufferUtil.allocateDirectAligned(REGION, 64));
        final UnsafeBuffer dst = new UnsafeBuffer(BufferUtil.allocateDirectAligned(REGION, 64));
        src.setMemory(0, REGION, (byte)1);
        dst.setMemory(0, REGION, (byte)2);
        final int slots = REGION / size;
        long copies = 0;
        long start = System.nanoTime();
        final long warmEnd = start + warmupMs * 1_000_000L;
        boolean measuring = false;
        int slot = 0;
        while (true)
        {
            for (int i = 0; i < 64; i++)
            {
                dst.putBytes(slot * size, src, ((slot * 7) % slots) * size, size);
                slot = slot + 1 == slots ? 0 : slot + 1;
            }
            copies += 64;
            final long now = System.nanoTime();
            if (!measuring && now - warmEnd >= 0)
            {
                measuring = true;
                start = now;
                copies = 0;
            }
            else if (measuring && now - start >= measureMs * 1_000_000L)
            {
                final double seconds = (now - start) / 1e9;
                System.out.println(String.format(Locale.ROOT,
                    "RESULT side=b rate=%.1f messages=%d seconds=%.3f alloc=-1 checksum=%d gbps=%.2f",
                    copies / seconds, copies, seconds, dst.getByte(0), copies * (double)size / seconds / 1e9));
                return;
            }
        }
    }
}

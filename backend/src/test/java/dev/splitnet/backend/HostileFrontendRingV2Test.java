package dev.splitnet.backend;

import dev.splitnet.api.Features;
import dev.splitnet.api.XenbusState;
import dev.splitnet.frontend.NetFront;
import dev.splitnet.mmap.DeviceCounter;
import java.util.List;
import org.junit.jupiter.api.Test;

import static dev.splitnet.api.NetifConstants.NETTXF_SPLITNET_HEADER_SLOT;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every case of {@link HostileFrontendTest} again with the frontends on ring v2: each rule of the
 * validation has its ring v2 counterpart (bad packets answered ERROR with one counter each, and
 * the protocol violations of the format, an entry a lap ahead, an ownership tag flipped, a chain
 * past the last published entry, disconnecting only the offender). The raw frontend writes the
 * v2 entries itself ({@code RawTx} in its ring v2 mode). Plus the one violation only ring v2 has.
 */
class HostileFrontendRingV2Test extends HostileFrontendTest
{
    @Override
    protected long ringFeatures()
    {
        return Features.RING_V2;
    }

    /**
     * A frontend that never tells the backend it consumed its responses leaves it no slot for
     * the next one: the backend disconnects it (it cannot answer a request it took) and says why.
     */
    @Test
    void aFrontendThatNeverFreesResponseSlotsIsDisconnected()
    {
        final NetFront evil = connect("evil");
        final RawTx tx = new RawTx(evil);
        tx.writeHeader(0, 0x600D600D, 20);
        // ids two apart: no two answers merge into one run, each takes a response slot
        for (int i = 0; i <= tx.size; i++)
        {
            tx.write(List.of(new Req(0, 0, NETTXF_SPLITNET_HEADER_SLOT, (2 * i) & 0xFFFF, 20)));
            tx.publish();
            if (i == tx.size - 1)
            {
                final int answered = tx.rspCons + tx.size;
                await(() -> tx.rspProd() == answered, "a whole ring of responses, never consumed");
            }
        }
        await(() -> evil.device().backendState() == XenbusState.CLOSED, "the backend to close the offender");
        assertEquals(1, counters(evil).get(DeviceCounter.ERROR_FATAL));
    }
}

package dev.splitnet.contract;

import dev.splitnet.api.Backend;
import dev.splitnet.api.Features;
import dev.splitnet.api.Frontend;
import dev.splitnet.api.PacketHandler;
import dev.splitnet.backend.BackendContext;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import java.nio.file.Path;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The contract on ring v2 and nothing else: the header in the first fragment, a grant per use,
 * one frame per fragment, so a packet is a chain of requests linked by more_data on the new ring.
 */
class PlainRingV2ContractTest extends TransportContract
{
    @Override
    protected RunningBackend startBackend(final Path dir, final Function<Backend, PacketHandler> handlerFor)
    {
        return MmapTransports.start(new BackendContext().directory(dir), handlerFor);
    }

    @Override
    protected Frontend connect(final Path dir, final String name)
    {
        // two ring pages: ring v2 holds 128 entries a page (requests and responses have rings of
        // their own), so two hold what Xen's ring holds on one: the suite's 100 two-request packets
        final NetFront front = NetFront.connect(new FrontendContext().directory(dir).name(name).features(Features.RING_V2).ringPages(2));
        assertEquals(Features.RING_V2, front.negotiatedFeatures());
        return front;
    }
}

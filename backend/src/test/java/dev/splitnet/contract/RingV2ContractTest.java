package dev.splitnet.contract;

import dev.splitnet.api.Backend;
import dev.splitnet.api.Features;
import dev.splitnet.api.Frontend;
import dev.splitnet.api.PacketHandler;
import dev.splitnet.backend.BackendContext;
import dev.splitnet.backend.RxOrder;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import dev.splitnet.mmap.RingFormat;
import java.nio.file.Path;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The contract on ring v2 with every other feature, the backend filling receive buffers in a
 * shuffled order: the same promises as on Xen's ring, whatever order buffers come back in.
 */
class RingV2ContractTest extends TransportContract
{
    @Override
    protected RunningBackend startBackend(final Path dir, final Function<Backend, PacketHandler> handlerFor)
    {
        return MmapTransports.start(new BackendContext().directory(dir).rxOrder(RxOrder.SHUFFLE), handlerFor);
    }

    @Override
    protected Frontend connect(final Path dir, final String name)
    {
        final NetFront front = NetFront.connect(new FrontendContext().directory(dir).name(name).features(Features.DEFAULT | Features.RING_V2));
        assertEquals(RingFormat.V2, RingFormat.of(front.negotiatedFeatures()), "ring v2 offered to a backend that takes it");
        return front;
    }
}

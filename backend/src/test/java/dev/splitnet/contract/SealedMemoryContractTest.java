package dev.splitnet.contract;

import dev.splitnet.api.Backend;
import dev.splitnet.api.Frontend;
import dev.splitnet.api.PacketHandler;
import dev.splitnet.backend.BackendContext;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import java.nio.file.Path;
import java.util.function.Function;

/** The contract on today's defaults: sealed device memory, every feature (header slots, permanent grants, frame spans). */
class SealedMemoryContractTest extends TransportContract
{
    @Override
    protected RunningBackend startBackend(final Path dir, final Function<Backend, PacketHandler> handlerFor)
    {
        return MmapTransports.start(new BackendContext().directory(dir), handlerFor);
    }

    @Override
    protected Frontend connect(final Path dir, final String name)
    {
        return NetFront.connect(new FrontendContext().directory(dir).name(name));
    }
}

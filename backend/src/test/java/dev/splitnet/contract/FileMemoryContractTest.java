package dev.splitnet.contract;

import dev.splitnet.api.Backend;
import dev.splitnet.api.Frontend;
import dev.splitnet.api.PacketHandler;
import dev.splitnet.backend.BackendContext;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import java.nio.file.Path;
import java.util.function.Function;

/** The contract with the device memory in a file (frontend --file-memory, backend --allow-file-memory). */
class FileMemoryContractTest extends TransportContract
{
    @Override
    protected RunningBackend startBackend(final Path dir, final Function<Backend, PacketHandler> handlerFor)
    {
        return MmapTransports.start(new BackendContext().directory(dir).allowFileMemory(true), handlerFor);
    }

    @Override
    protected Frontend connect(final Path dir, final String name)
    {
        return NetFront.connect(new FrontendContext().directory(dir).name(name).sealedMemory(false));
    }
}

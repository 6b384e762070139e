package dev.splitnet.contract;

import dev.splitnet.api.Backend;
import dev.splitnet.api.IdleMode;
import dev.splitnet.api.PacketHandler;
import dev.splitnet.backend.BackendContext;
import dev.splitnet.backend.NetBack;
import dev.splitnet.backend.NetBackRunner;
import java.util.function.Function;
import org.agrona.concurrent.BackoffIdleStrategy;

/** Starting today's transport (mapped shared memory, Xen netif rings) for the contract suites. */
final class MmapTransports
{
    private MmapTransports()
    {
    }

    /** A NetBack with {@code context}'s settings and the contract's handler, on its own runner thread. */
    static TransportContract.RunningBackend start(final BackendContext context, final Function<Backend, PacketHandler> handlerFor)
    {
        // the contract's handler needs the backend, which needs a handler: set once it exists, before
        // the duty thread starts (Thread.start orders the write before every packet it handles)
        final PacketHandler[] inner = new PacketHandler[1];
        final NetBack[] backend = {NetBack.launch(context.idleMode(IdleMode.BACKOFF).handler(packet -> inner[0].onPacket(packet)))};
        inner[0] = handlerFor.apply(backend[0]);
        final NetBackRunner runner = new NetBackRunner(backend[0], new BackoffIdleStrategy(), Throwable::printStackTrace);
        return new TransportContract.RunningBackend()
        {
            @Override
            public Backend backend()
            {
                return backend[0];
            }

            @Override
            public void close()
            {
                runner.close();
            }
        };
    }

}

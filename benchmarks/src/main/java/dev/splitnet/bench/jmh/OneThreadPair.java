package dev.splitnet.bench.jmh;

import dev.splitnet.api.Features;
import dev.splitnet.api.IdleMode;
import dev.splitnet.api.PacketHandler;
import dev.splitnet.backend.BackendContext;
import dev.splitnet.backend.NetBack;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * A real backend and frontend over one device in /dev/shm, both driven by the benchmark's thread
 * (the backend's duty cycle is called, not run on a thread of its own): the JMH benchmarks of the
 * whole path measure instructions, without cross-core traffic.
 */
final class OneThreadPair implements AutoCloseable
{
    final NetBack backend;
    final NetFront front;
    private final Path dir;

    /**
     * @param ring       "xen" (4 ring pages) or "v2" (8 pages: the same 1024 entries each way)
     * @param handlerFor the backend's handler, given the backend (an echo delivers back through it)
     * @param frontend   the frontend's context beyond directory, name, rings and features
     */
    OneThreadPair(final String ring, final Function<NetBack, PacketHandler> handlerFor, final FrontendContext frontend)
        throws IOException, InterruptedException
    {
        dir = Files.createTempDirectory(Path.of("/dev/shm"), "splitnet-jmh");
        // the handler needs the backend, which exists only once launched: set before any packet
        final PacketHandler[] handler = new PacketHandler[1];
        backend = NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BUSY_SPIN)
            .handler(packet -> handler[0].onPacket(packet)));
        handler[0] = handlerFor.apply(backend);
        // the handshake needs the duty cycle running while connect waits for the WELCOME
        final Thread accept = new Thread(() ->
        {
            final long end = System.nanoTime() + 10_000_000_000L;
            while (backend.connectedCount() == 0 && System.nanoTime() < end)
            {
                backend.doWork();
            }
        });
        accept.start();
        final boolean v2 = "v2".equals(ring);
        front = NetFront.connect(frontend.directory(dir).name("jmh").ringPages(v2 ? 8 : 4)
            .features(v2 ? Features.DEFAULT | Features.RING_V2 : Features.DEFAULT));
        accept.join();
    }

    @Override
    public void close() throws IOException
    {
        front.close();
        backend.close();
        try (var paths = Files.walk(dir))
        {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}

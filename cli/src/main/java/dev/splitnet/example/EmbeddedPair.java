package dev.splitnet.example;

import dev.splitnet.api.IdleMode;
import dev.splitnet.backend.BackendContext;
import dev.splitnet.backend.NetBack;
import dev.splitnet.backend.NetBackRunner;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import java.nio.file.Files;
import java.nio.file.Path;
import org.agrona.concurrent.UnsafeBuffer;

/** The README's embedding example: a backend that echoes, a frontend that sends one packet. */
public final class EmbeddedPair
{
    public static void main(final String[] args) throws Exception
    {
        final Path dir = Files.createTempDirectory("splitnet-example");
        // netback: hand each packet back to its sender (copied into the sender's receive buffers)
        final NetBack backend = NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BLOCKING)
            .handler((switchport, packet) -> switchport.deliver(packet.domainId(), packet)));
        // the backend's duty cycle on its own thread, idling as its context says (it answers the handshake too)
        final NetBackRunner runner = new NetBackRunner(backend, Throwable::printStackTrace);
        try (runner; NetFront front = NetFront.connect(new FrontendContext().directory(dir).name("example")))
        {
            final UnsafeBuffer header = new UnsafeBuffer(new byte[64]);   // goes into a header slot
            final UnsafeBuffer payload = new UnsafeBuffer(new byte[9000]); // goes into granted frames
            front.send(header, 0, 64, payload, 0, 9000, 1L);
            final int[] echoed = { 0 };
            while (echoed[0] == 0 || front.inFlight() > 0)
            {
                front.poll((id, status) -> System.out.println("packet " + id + ": " + status),
                    packet -> echoed[0] = packet.length());
            }
            System.out.println("echoed " + echoed[0] + " bytes");
        }
    }
}

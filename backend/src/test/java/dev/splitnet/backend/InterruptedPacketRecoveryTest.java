package dev.splitnet.backend;

import dev.splitnet.api.Features;
import dev.splitnet.api.IdleMode;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import dev.splitnet.mmap.BackendRing;
import java.lang.reflect.Field;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A memory fault the JVM delivers late (another frontend truncated its file) can interrupt the TX
 * path between any two steps. The step that lost packets: a chain consumed off the ring but not
 * yet opened in the pending table was never answered (HostileFrontendRingV2Test saw it once, a
 * good frontend's packet that never completed). Now a chain is opened first and consumed second;
 * this test puts the backend in the state a fault between the two leaves (opened, still in the
 * ring), runs the recovery, and checks the packet is answered once, ERROR, and not read again.
 */
class InterruptedPacketRecoveryTest
{
    @TempDir
    Path dir;

    private NetBack backend;
    private NetFront front;
    private int handled;
    private final List<String> completions = new ArrayList<>();

    @AfterEach
    void close()
    {
        if (front != null)
        {
            front.close();
        }
        if (backend != null)
        {
            backend.close();
        }
    }

    @ParameterizedTest(name = "features {0}")
    @ValueSource(longs = { Features.DEFAULT, Features.DEFAULT | Features.RING_V2 })
    void aFaultBetweenOpeningAndConsumingAnswersThePacketOnceAndReadsItNoMore(final long features) throws Exception
    {
        backend = NetBack.launch(new BackendContext().directory(dir).idleMode(IdleMode.BUSY_SPIN).handler(packet ->
        {
            handled++;
            return PacketStatus.OKAY;
        }));
        front = DrivenConnect.connect(backend, new FrontendContext().directory(dir).name("victim").ringPages(features == Features.DEFAULT ? 1 : 2)
            .features(features).txPushBatch(1));
        assertEquals(1, backend.connectedCount());

        front.tryClaim(64, 0).commit(1);
        final Vif vif = ((Vif[])field(NetBack.class, backend, "vifs"))[0];
        final BackendRing ring = (BackendRing)field(Vif.class, vif, "txRing");
        final TxChain chain = (TxChain)field(Vif.class, vif, "chain");
        // processTx's first steps for this packet, up to the fault: fetched, copied, opened; not consumed
        assertEquals(BackendRing.READY, ring.fetchRequest(0));
        assertEquals(1, chain.copyFrom(ring));
        vif.pending().open(chain, ring.requestConsumer());
        // the fault surfaces here; NetBack.recoverFromMemoryFault answers every frontend's interrupted packet
        vif.answerInterruptedPacket();

        drive(100);
        assertEquals(List.of("1:ERROR"), completions, "the interrupted packet ends once, with an error");
        assertEquals(0, handled, "the interrupted packet never reaches the handler, before or after the recovery");
        assertTrue(front.isConnected(), "no second response for its id: " + front.disconnectReason());

        front.tryClaim(64, 0).commit(2);
        drive(100);
        assertEquals(List.of("1:ERROR", "2:OKAY"), completions);
        assertEquals(1, handled, "the next packet is read once; the interrupted one is not read again");
        assertTrue(front.isConnected(), String.valueOf(front.disconnectReason()));
    }

    private void drive(final int cycles)
    {
        for (int i = 0; i < cycles; i++)
        {
            backend.doWork();
            front.poll((id, status) -> completions.add(id + ":" + status), packet -> { });
        }
    }

    private static Object field(final Class<?> type, final Object owner, final String name) throws ReflectiveOperationException
    {
        final Field f = type.getDeclaredField(name);
        f.setAccessible(true);
        return f.get(owner);
    }
}

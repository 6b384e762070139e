package dev.splitnet.backend;

import dev.splitnet.api.IdleMode;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.SendResult;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import dev.splitnet.mmap.BackendCounters;
import dev.splitnet.mmap.CounterReadings;
import dev.splitnet.mmap.DeviceCounter;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Forwarding without instant drops (issue 11, item 6): {@code Backend.forward} to a frontend
 * with too few RX buffers queues the packet in its sender's grants instead of dropping it, and
 * the sender hears the delivery's outcome: OKAY once delivered, in order and intact, or DROPPED
 * with its reason counted (queue full, drain timeout, stalled receiver, receiver gone, sender
 * short of ring).
 */
class RxQueueTest
{
    private static final int PAYLOAD = 1000;
    private static final int HEADER = 42;

    @TempDir
    Path dir;

    private NetBack backend;
    private AgentRunner runner;
    private NetFront sender;
    private NetFront receiver;
    private final PacketStatus[] statusBySeq = new PacketStatus[10_000];
    private int completions;
    private int received;
    private int outOfOrder;
    private int corrupt;
    private int nextExpected;

    @AfterEach
    void tearDown()
    {
        if (sender != null)
        {
            sender.close();
        }
        if (receiver != null)
        {
            receiver.close();
        }
        if (runner != null)
        {
            runner.close();
        }
    }

    /** A switch that forwards every packet of the sender to the receiver. */
    private void start(final BackendContext context) throws Exception
    {
        final int[] receiverDomain = new int[1];
        backend = NetBack.launch(context.directory(dir).idleMode(IdleMode.BACKOFF)
            .handler((switchport, packet) -> switchport.forward(receiverDomain[0], packet)));
        runner = new AgentRunner(new BackoffIdleStrategy(), Throwable::printStackTrace, null, backend);
        AgentRunner.startOnThread(runner);
        receiver = NetFront.connect(new FrontendContext().directory(dir).name("receiver"));
        receiverDomain[0] = receiver.domainId();
        sender = NetFront.connect(new FrontendContext().directory(dir).name("sender"));
    }

    private void send(final int packets)
    {
        final UnsafeBuffer header = new UnsafeBuffer(new byte[HEADER]);
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[PAYLOAD]);
        int sent = 0;
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        final int base = sentSoFar;
        while (sent < packets)
        {
            assertTrue(System.nanoTime() < deadline, "only " + sent + " of " + packets + " sent in 20 s");
            final int seq = base + sent;
            header.putInt(0, seq);
            for (int i = 0; i < PAYLOAD; i++)
            {
                payload.putByte(i, (byte)(seq + i * 13));
            }
            if (sender.send(header, 0, HEADER, payload, 0, PAYLOAD, seq) == SendResult.SENT)
            {
                sent++;
            }
            pollSender();
        }
        sentSoFar += packets;
    }

    private int sentSoFar;

    private void pollSender()
    {
        sender.poll((id, status) ->
        {
            assertNull(statusBySeq[(int)id], "a second status for packet " + id);
            statusBySeq[(int)id] = status;
            completions++;
        }, packet -> { });
    }

    private void pollReceiver()
    {
        final UnsafeBuffer copy = new UnsafeBuffer(new byte[HEADER + PAYLOAD]);
        receiver.poll((id, status) -> { }, packet ->
        {
            final int length = packet.copyTo(copy, 0);
            final int seq = copy.getInt(0);
            boolean intact = length == HEADER + PAYLOAD;
            for (int i = 0; intact && i < PAYLOAD; i++)
            {
                intact = copy.getByte(HEADER + i) == (byte)(seq + i * 13);
            }
            corrupt += intact ? 0 : 1;
            outOfOrder += seq == nextExpected ? 0 : 1;
            nextExpected = seq + 1;
            received++;
        });
    }

    private void until(final BooleanSupplier condition, final boolean pollReceiver, final String what)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean())
        {
            assertTrue(System.nanoTime() < deadline, "20 s and still not: " + what + " (completions " + completions
                + ", received " + received + ")");
            pollSender();
            if (pollReceiver)
            {
                pollReceiver();
            }
        }
    }

    private long receiverCounter(final DeviceCounter counter)
    {
        return CounterReadings.read(receiver.device(), dir, receiver.domainId()).get(counter);
    }

    private long senderCounter(final DeviceCounter counter)
    {
        return CounterReadings.read(sender.device(), dir, sender.domainId()).get(counter);
    }

    private int count(final PacketStatus status)
    {
        int n = 0;
        for (int i = 0; i < sentSoFar; i++)
        {
            n += statusBySeq[i] == status ? 1 : 0;
        }
        return n;
    }

    @Test
    void shouldQueueForAReceiverWithoutBuffersAndDeliverInOrderWhenItPosts() throws Exception
    {
        start(new BackendContext());
        // the receiver does not poll: its 256 posted buffers take the first 256, the rest wait
        send(300);
        until(() -> completions == 256, false, "the first 256 answered");
        Thread.sleep(200);
        assertEquals(256, completions, "a queued packet is not answered before it is delivered");
        assertEquals(44, receiverCounter(DeviceCounter.RX_QUEUED));
        assertEquals(0, receiverCounter(DeviceCounter.RX_DROPPED_NO_BUFFER));
        until(() -> completions == 300 && received == 300, true, "every packet delivered once the receiver polls");
        assertEquals(300, count(PacketStatus.OKAY));
        assertEquals(0, outOfOrder, "packets received out of order");
        assertEquals(0, corrupt, "packets received with other bytes");
        assertEquals(0, senderCounter(DeviceCounter.PAYLOAD_BYTES_COPIED) - 300L * PAYLOAD, "each payload copied once, into its buffers");
        assertEquals(0, backend.heldCount());
    }

    @Test
    void shouldDropPastTheQueueBoundAndCountIt() throws Exception
    {
        start(new BackendContext().rxQueueBytes(10 * (HEADER + PAYLOAD)));
        send(300);
        until(() -> completions == 256 + 34, false, "the delivered and the dropped answered");
        final long full = receiverCounter(DeviceCounter.RX_DROPPED_QUEUE_FULL);
        assertEquals(34, full, "dropped at the queue's bound");
        assertEquals(34, count(PacketStatus.DROPPED));
        assertEquals(10, receiverCounter(DeviceCounter.RX_QUEUED));
        until(() -> completions == 300, true, "the queued ten delivered");
        assertEquals(266, count(PacketStatus.OKAY));
        assertEquals(266, received);
        assertEquals(0, outOfOrder + corrupt);
    }

    @Test
    void shouldDropTheQueueAtTheDrainTimeout() throws Exception
    {
        start(new BackendContext().rxDrainTimeoutMs(200));
        send(280);
        until(() -> completions == 280, false, "every packet answered (the queue dropped at its timeout)");
        assertEquals(24, count(PacketStatus.DROPPED));
        assertEquals(24, receiverCounter(DeviceCounter.RX_DROPPED_DRAIN_TIMEOUT));
        assertEquals(0, backend.heldCount(), "nothing held after the drop");
    }

    @Test
    void shouldDropAtOnceForAStalledReceiverUntilItPostsAgain() throws Exception
    {
        start(new BackendContext().rxStallTimeoutMs(200));
        send(266);
        until(() -> completions == 256, false, "the first 256 answered");
        Thread.sleep(500);
        send(5);
        until(() -> completions == 261, false, "the five sent to the stalled receiver dropped at once");
        assertEquals(5, receiverCounter(DeviceCounter.RX_DROPPED_STALLED));
        until(() -> completions == 271 && received == 266, true, "the queued ten delivered once it posts");
        send(3);
        until(() -> received == 269, true, "a receiver that posts again is served again");
        assertEquals(0, outOfOrder - 1, "only the gap of the five dropped");
        assertEquals(0, corrupt);
    }

    @Test
    void shouldTellTheSenderWhenTheReceiverGoesWithPacketsQueued() throws Exception
    {
        start(new BackendContext());
        send(270);
        until(() -> completions == 256, false, "the first 256 answered");
        final int receiverDomain = receiver.domainId();
        receiver.close();
        receiver = null;
        until(() -> completions == 270, false, "the queued ones answered when the receiver went");
        assertEquals(14, count(PacketStatus.DROPPED));
        assertEquals(14L, BackendCounters.read(dir).get(receiverDomain).get(DeviceCounter.RX_DROPPED_DISCONNECT));
    }

    @Test
    void shouldPauseTheSenderRatherThanDropWhenHalfItsRingWaits() throws Exception
    {
        start(new BackendContext().rxQueueBytes(4L << 20).senderPauseMs(10_000));
        // 256 delivered into the posted buffers, 129 queued (half the ring, then the packet that
        // crossed it), and the sender's next 127 left unread in its ring: it is full
        send(256 + 129 + 127);
        until(() -> completions == 256, false, "the first 256 answered");
        Thread.sleep(200);
        assertEquals(256, completions, "nothing more answered while the receiver does not poll");
        assertEquals(129, receiverCounter(DeviceCounter.RX_QUEUED), "half the ring queued, and the packet that crossed it");
        assertEquals(1, senderCounter(DeviceCounter.TX_SENDER_PAUSES), "the sender paused once");
        final UnsafeBuffer header = new UnsafeBuffer(new byte[HEADER]);
        assertEquals(SendResult.BACK_PRESSURED, sender.send(header, 0, HEADER, header, 0, 0, 9_999),
            "the sender's ring is full of requests the backend left unread");
        until(() -> completions == 512 && received == 512, true, "every packet delivered once the receiver polls");
        send(88);
        until(() -> completions == 600 && received == 600, true, "a sender that resumed is served as before");
        assertEquals(600, count(PacketStatus.OKAY), "no packet dropped");
        assertEquals(0, senderCounter(DeviceCounter.TX_QUEUED_DROPPED_PRESSURE));
        assertEquals(0, outOfOrder + corrupt);
        assertEquals(0, backend.heldCount());
    }

    @Test
    void shouldDropRatherThanQueueOnceTheSenderPauseRunsOut() throws Exception
    {
        start(new BackendContext().rxQueueBytes(4L << 20).senderPauseMs(100));
        // past the 256 delivered, 129 wait; the sender is paused 100 ms, then its packets that
        // would queue are dropped at once, until the queue drains below half its ring
        send(600);
        until(() -> completions >= 600 - 129, false, "all but the queued answered");
        final long pressure = senderCounter(DeviceCounter.TX_QUEUED_DROPPED_PRESSURE);
        assertEquals(count(PacketStatus.DROPPED), pressure, "every DROPPED is a pressure drop");
        assertEquals(600 - 256 - 129, pressure, "one request a packet: 129 wait, the rest dropped once the pause ran out");
        assertEquals(1, senderCounter(DeviceCounter.TX_SENDER_PAUSES), "one pause, which ran out");
        until(() -> completions == 600, true, "the rest delivered once the receiver polls");
        assertEquals(600 - pressure, received);
        assertEquals(0, corrupt);
        // nothing waits any more: the pause is reset, and the next crossing pauses again
        until(() -> received == 600 - pressure, true, "the receiver caught up");
        send(600);
        until(() -> completions >= 1200 - 129, false, "the second round answered, but for the queued");
        assertEquals(2, senderCounter(DeviceCounter.TX_SENDER_PAUSES), "a second pause once the queue had emptied");
    }

    @Test
    void shouldDropAtOnceWithoutAPauseWhenTheSenderPauseIsOff() throws Exception
    {
        start(new BackendContext().rxQueueBytes(4L << 20).senderPauseMs(0));
        send(600);
        until(() -> completions >= 600 - 129, false, "all but the queued answered");
        assertEquals(600 - 256 - 129, senderCounter(DeviceCounter.TX_QUEUED_DROPPED_PRESSURE));
        assertEquals(0, senderCounter(DeviceCounter.TX_SENDER_PAUSES));
        until(() -> completions == 600, true, "the rest delivered once the receiver polls");
        assertEquals(0, corrupt);
    }
}

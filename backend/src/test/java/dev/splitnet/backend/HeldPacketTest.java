package dev.splitnet.backend;

import dev.splitnet.api.Backend;
import dev.splitnet.api.Features;
import dev.splitnet.api.ForwardingHandler;
import dev.splitnet.api.IdleMode;
import dev.splitnet.api.Packet;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.SendResult;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import dev.splitnet.mmap.CounterReadings;
import dev.splitnet.mmap.DeviceCounter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Packets held past their handler (issue 11, no netloop): completed in any order, copied late at
 * the deadline, under ring pressure and at disconnect, dropped at the copy bound and the drop
 * limit, and every misuse of a handle refused with its name=value. Every byte a holder reads is
 * checked against what the frontend sent.
 */
class HeldPacketTest
{
    @TempDir
    Path dir;

    private NetBack backend;
    private AgentRunner runner;
    private NetFront front;
    // the holder's state, touched on the backend's thread only (handler and onDutyCycle)
    private final List<Long> handles = new ArrayList<>();
    private final List<Integer> heldSeqs = new ArrayList<>();
    // failures seen on the backend's thread, reported by the test thread
    private final ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
    // work for the backend's thread, run in onDutyCycle
    private final ConcurrentLinkedQueue<Runnable> onBackendThread = new ConcurrentLinkedQueue<>();
    private final PacketStatus[] statusBySeq = new PacketStatus[100_000];
    private int completions;
    private int duplicateCompletions;

    @AfterEach
    void tearDown()
    {
        if (front != null)
        {
            front.close();
        }
        if (runner != null)
        {
            runner.close();
        }
    }

    /** A consumer that holds every packet and leaves completing to the test (on the backend's thread). */
    private void start(final BackendContext context, final long features) throws Exception
    {
        final ForwardingHandler holder = new ForwardingHandler()
        {
            @Override
            public PacketStatus onPacket(final Backend backend, final Packet packet)
            {
                final long handle = packet.hold();
                if (handle <= 0 || packet.hold() != handle)
                {
                    problems.add("hold returned handle=" + handle + ", then a different one");
                }
                handles.add(handle);
                heldSeqs.add(packet.header().getInt(0));
                return PacketStatus.ERROR; // ignored: the packet is held
            }

            @Override
            public int onDutyCycle(final Backend backend)
            {
                int work = 0;
                Runnable task;
                while ((task = onBackendThread.poll()) != null)
                {
                    task.run();
                    work++;
                }
                return work;
            }
        };
        backend = NetBack.launch(context.directory(dir).idleMode(IdleMode.BACKOFF).handler(holder));
        runner = new AgentRunner(new BackoffIdleStrategy(), Throwable::printStackTrace, null, backend);
        AgentRunner.startOnThread(runner);
        front = NetFront.connect(new FrontendContext().directory(dir).name("holder-" + features).features(features));
    }

    /** Runs {@code task} on the backend's thread and waits for it. */
    private void onBackend(final Runnable task) throws InterruptedException
    {
        final boolean[] done = new boolean[1];
        onBackendThread.add(() ->
        {
            try
            {
                task.run();
            }
            catch (final Throwable ex)
            {
                problems.add(ex.toString());
            }
            synchronized (done)
            {
                done[0] = true;
                done.notifyAll();
            }
        });
        synchronized (done)
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!done[0])
            {
                assertTrue(System.nanoTime() < deadline, "the backend's thread did not run the task");
                done.wait(100);
            }
        }
    }

    private static final int HEADER_LENGTH = 42;

    /** Sends packet {@code seq}: header and payload bytes all derived from seq, checked by {@link #isIntact}. */
    private boolean send(final int seq, final int payloadLength)
    {
        final UnsafeBuffer header = new UnsafeBuffer(new byte[HEADER_LENGTH]);
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[Math.max(1, payloadLength)]);
        header.putInt(0, seq);
        header.putInt(4, payloadLength);
        for (int i = 8; i < HEADER_LENGTH; i++)
        {
            header.putByte(i, pattern(seq, -i));
        }
        for (int i = 0; i < payloadLength; i++)
        {
            payload.putByte(i, pattern(seq, i));
        }
        return front.send(header, 0, HEADER_LENGTH, payload, 0, payloadLength, seq) == SendResult.SENT;
    }

    private static byte pattern(final int seq, final int i)
    {
        return (byte)(seq * 131 + i * 7 + (i >> 8));
    }

    /** Whether every header and payload byte of a held packet is what its sender wrote. */
    private boolean isIntact(final Packet packet)
    {
        final String why = whyNotIntact(packet);
        if (why != null && problems.size() < 5)
        {
            problems.add(why);
        }
        return why == null;
    }

    /** What is wrong with a held packet's bytes, or null. */
    private static String whyNotIntact(final Packet packet)
    {
        final int seq = packet.header().getInt(0);
        final int payloadLength = packet.header().getInt(4);
        if (packet.headerLength() != HEADER_LENGTH || packet.payloadLength() != payloadLength)
        {
            return "seq=" + seq + " headerLength=" + packet.headerLength() + " payloadLength=" + packet.payloadLength()
                + " but the header says " + payloadLength;
        }
        for (int i = 8; i < HEADER_LENGTH; i++)
        {
            if (packet.header().getByte(i) != pattern(seq, -i))
            {
                return "seq=" + seq + " header byte " + i + " differs";
            }
        }
        int at = 0;
        for (int f = 0; f < packet.fragmentCount(); f++)
        {
            final dev.splitnet.api.Fragment fragment = packet.fragment(f);
            for (int i = 0; i < fragment.length(); i++, at++)
            {
                if (fragment.getByte(i) != pattern(seq, at))
                {
                    return "seq=" + seq + " fragment " + f + " of " + packet.fragmentCount() + " (length " + fragment.length()
                        + ") byte " + i + " differs: " + fragment.getByte(i) + " not " + pattern(seq, at);
                }
            }
        }
        return at == payloadLength ? null : "seq=" + seq + " payload " + at + " bytes, not " + payloadLength;
    }

    /**
     * On the backend's thread: reads every packet held so far through its handle, counts those
     * still there and intact, and completes each OKAY.
     */
    private int readIntactAndComplete() throws InterruptedException
    {
        final int[] intact = new int[1];
        onBackend(() ->
        {
            for (final long handle : handles)
            {
                final Packet packet = backend.held(handle);
                intact[0] += packet != null && isIntact(packet) ? 1 : 0;
                backend.complete(handle, PacketStatus.OKAY);
            }
        });
        return intact[0];
    }

    private void poll()
    {
        front.poll((id, status) ->
        {
            final int seq = (int)id;
            if (statusBySeq[seq] != null)
            {
                duplicateCompletions++;
            }
            statusBySeq[seq] = status;
            completions++;
        }, packet -> { });
    }

    private void pollUntil(final BooleanSupplier condition, final String what)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean())
        {
            assertTrue(System.nanoTime() < deadline, "20 s and still not: " + what + " (completions " + completions + ")");
            poll();
            Thread.onSpinWait();
        }
    }

    private int heldOnBackend() throws InterruptedException
    {
        final int[] n = new int[1];
        onBackend(() -> n[0] = handles.size());
        return n[0];
    }

    private long counter(final DeviceCounter counter)
    {
        return CounterReadings.read(front.device(), dir, front.domainId()).get(counter);
    }

    private void sendHeld(final int packets, final int maxPayload, final long seed) throws InterruptedException
    {
        final Random random = new Random(seed);
        int sent = 0;
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (sent < packets)
        {
            assertTrue(System.nanoTime() < deadline, "only " + sent + " of " + packets + " sent in 20 s");
            if (send(sent, random.nextInt(maxPayload + 1)))
            {
                sent++;
            }
            poll();
        }
        final long heldDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (heldOnBackend() < packets)
        {
            assertTrue(System.nanoTime() < heldDeadline, "the backend held only " + heldOnBackend() + " of " + packets);
            poll();
        }
    }

    @ParameterizedTest(name = "features {0}")
    @ValueSource(longs = { Features.DEFAULT, Features.HEADER_SLOTS })
    void shouldGiveEveryStatusExactlyOnceWhenHeldPacketsCompleteInAShuffledOrder(final long features) throws Exception
    {
        start(new BackendContext().holdCopyDeadlineMs(60_000).holdDropLimitMs(120_000), features);
        // at most 2 requests each without frame spans: 120 of the ring's 256, under the pressure share
        final int packets = 60;
        sendHeld(packets, 4000, 1);
        assertEquals(0, completions, "a held packet is not answered before it is completed");
        final PacketStatus[] chosen = new PacketStatus[packets];
        onBackend(() ->
        {
            final List<Integer> order = new ArrayList<>();
            for (int i = 0; i < handles.size(); i++)
            {
                order.add(i);
            }
            Collections.shuffle(order, new Random(7));
            for (final int i : order)
            {
                final long handle = handles.get(i);
                final Packet packet = backend.held(handle);
                if (packet == null || !isIntact(packet))
                {
                    problems.add("held packet seq=" + heldSeqs.get(i) + " is " + (packet == null ? "gone" : "not intact"));
                }
                final int seq = heldSeqs.get(i);
                chosen[seq] = PacketStatus.values()[seq % 3];
                if (!backend.complete(handle, chosen[seq]))
                {
                    problems.add("complete(seq=" + seq + ") said dropped");
                }
            }
        });
        pollUntil(() -> completions == packets, "every held packet completed");
        assertTrue(problems.isEmpty(), problems.toString());
        assertEquals(0, duplicateCompletions, "a status reported twice");
        for (int seq = 0; seq < packets; seq++)
        {
            assertEquals(chosen[seq], statusBySeq[seq], "the status the holder gave packet seq=" + seq);
        }
        assertEquals(packets, counter(DeviceCounter.HELD_PACKETS));
        assertEquals(packets, counter(DeviceCounter.HELD_COMPLETED_NO_COPY));
        assertEquals(0, counter(DeviceCounter.HELD_NOW));
        assertEquals(0, counter(DeviceCounter.HELD_COPIED_DEADLINE) + counter(DeviceCounter.HELD_COPIED_PRESSURE));
        assertEquals(0, backend.heldCount());
    }

    @Test
    void shouldRefuseEveryMisuseOfAHandleByName() throws Exception
    {
        start(new BackendContext().holdCopyDeadlineMs(60_000).holdDropLimitMs(120_000), Features.DEFAULT);
        sendHeld(2, 100, 2);
        final List<String> messages = new ArrayList<>();
        onBackend(() ->
        {
            final long handle = handles.get(0);
            assertTrue(backend.complete(handle, PacketStatus.OKAY));
            messages.add(assertThrows(IllegalStateException.class, () -> backend.complete(handle, PacketStatus.OKAY)).getMessage());
            messages.add(assertThrows(IllegalStateException.class, () -> backend.held(handle)).getMessage());
            messages.add(assertThrows(IllegalStateException.class, () -> backend.complete(0x7FFF_0000_FFFFL, PacketStatus.OKAY)).getMessage());
            messages.add(assertThrows(IllegalStateException.class, () -> backend.complete(-5, PacketStatus.OKAY)).getMessage());
            messages.add(assertThrows(IllegalArgumentException.class, () -> backend.complete(handles.get(1), PacketStatus.DISCONNECTED)).getMessage());
            messages.add(assertThrows(IllegalArgumentException.class, () -> backend.complete(handles.get(1), null)).getMessage());
            // the packet is not in its handler any more: hold() on the object is refused
            final Packet stillHeld = backend.held(handles.get(1));
            messages.add(assertThrows(IllegalStateException.class, () -> backend.held(handle).hold()).getMessage());
            assertEquals(handles.get(1), stillHeld.hold(), "hold() of a held packet returns its handle");
        });
        final long other = handles.get(1);
        final String offThread = assertThrows(IllegalStateException.class, () -> backend.complete(other, PacketStatus.OKAY)).getMessage();
        assertTrue(problems.isEmpty(), problems.toString());
        assertTrue(messages.get(0).contains("handle=0x" + Long.toHexString(handles.get(0))) && messages.get(0).contains("stale"), messages.get(0));
        assertTrue(messages.get(1).contains("stale"), messages.get(1));
        assertTrue(messages.get(2).contains("names no held packet"), messages.get(2));
        assertTrue(messages.get(3).contains("handle=0x"), messages.get(3));
        assertTrue(messages.get(4).contains("status=DISCONNECTED"), messages.get(4));
        assertTrue(messages.get(5).contains("status=null"), messages.get(5));
        assertTrue(messages.get(6).contains("stale"), messages.get(6));
        assertTrue(offThread.contains("thread=") && offThread.contains("duty-cycle thread"), offThread);
        onBackend(() -> assertTrue(backend.complete(other, PacketStatus.OKAY)));
        pollUntil(() -> completions == 2, "both packets completed");
        assertEquals(PacketStatus.OKAY, statusBySeq[0]);
        assertEquals(PacketStatus.OKAY, statusBySeq[1]);
    }

    @ParameterizedTest(name = "features {0}")
    @ValueSource(longs = { Features.DEFAULT, Features.HEADER_SLOTS })
    void shouldCopyAPacketHeldPastTheDeadlineAndAnswerItsFrontend(final long features) throws Exception
    {
        start(new BackendContext().holdCopyDeadlineMs(100).holdDropLimitMs(60_000).copyMemoryPerFrontendBytes(4L << 20), features);
        // at most 6 requests each without frame spans: 120 of the ring's 256, under the pressure share
        final int packets = 20;
        sendHeld(packets, 20_000, 3);
        // answered OKAY when copied at the deadline, while the holder still holds them
        pollUntil(() -> completions == packets, "every held packet answered at the copy deadline");
        for (int seq = 0; seq < packets; seq++)
        {
            assertEquals(PacketStatus.OKAY, statusBySeq[seq], "seq=" + seq);
        }
        assertEquals(packets, counter(DeviceCounter.HELD_COPIED_DEADLINE), "late copies by deadline");
        assertEquals(0, counter(DeviceCounter.HELD_COPIED_PRESSURE));
        assertEquals(packets, counter(DeviceCounter.HELD_NOW), "still held, as copies");
        assertTrue(counter(DeviceCounter.COPY_MEMORY_BYTES) > 0);
        // the frontend reuses its frames for 80 more packets while the copies are held, 20 at a
        // time (each batch copied at its deadline before the next, so no pressure copy)
        final Random random = new Random(4);
        for (int round = 1; round <= 4; round++)
        {
            int more = 0;
            while (more < packets)
            {
                if (send(round * packets + more, random.nextInt(20_001)))
                {
                    more++;
                }
                poll();
            }
            final int answered = (round + 1) * packets;
            pollUntil(() -> completions == answered, "batch " + round + " answered at its deadline");
        }
        final int intact = readIntactAndComplete();
        assertTrue(problems.isEmpty(), problems.toString());
        assertEquals(5 * packets, intact, "copies read intact after the frontend reused their frames");
        assertEquals(5 * packets, counter(DeviceCounter.HELD_COPIED_DEADLINE));
        assertEquals(0, counter(DeviceCounter.HELD_COMPLETED_NO_COPY));
        assertEquals(0, counter(DeviceCounter.COPY_MEMORY_BYTES), "copy memory given back");
        assertEquals(0, counter(DeviceCounter.HELD_NOW));
    }

    @Test
    void shouldCopyTheOldestUnderRingPressureSoThatTheFrontendKeepsSending() throws Exception
    {
        start(new BackendContext().holdCopyDeadlineMs(60_000).holdDropLimitMs(120_000).copyMemoryPerFrontendBytes(8L << 20)
            .copyMemoryBytes(8L << 20), Features.DEFAULT);
        // ten times the ring: without pressure copies the frontend would stall after 256
        final int packets = 2560;
        sendHeld(packets, 1000, 5);
        pollUntil(() -> completions >= packets - 128, "all but half a ring answered by pressure copies");
        final long pressure = counter(DeviceCounter.HELD_COPIED_PRESSURE);
        assertEquals(completions, pressure, "every answered packet was copied by pressure");
        assertTrue(pressure >= packets - 128, "pressure copies " + pressure);
        final int intact = readIntactAndComplete();
        assertEquals(packets, intact, "every held packet, copied or not, reads intact");
        pollUntil(() -> completions == packets, "the rest completed by the holder");
        assertEquals(0, duplicateCompletions);
        assertEquals(packets - pressure, counter(DeviceCounter.HELD_COMPLETED_NO_COPY));
    }

    /**
     * Frames are the other thing a holder takes from its frontend: 100 held packets of 60,000
     * bytes would pin 1,500 of its 1,024 TX frames (one request each, so the ring is far from
     * short). Past half its frames the oldest are copied, and the frontend sends them all.
     */
    @Test
    void shouldCopyTheOldestWhenHeldPacketsPinMoreThanTheShareOfTheFrontendsFrames() throws Exception
    {
        start(new BackendContext().holdCopyDeadlineMs(60_000).holdDropLimitMs(120_000).copyMemoryPerFrontendBytes(16L << 20)
            .copyMemoryBytes(16L << 20), Features.DEFAULT);
        final int packets = 100;
        int sent = 0;
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (sent < packets)
        {
            assertTrue(System.nanoTime() < deadline, "only " + sent + " of " + packets + " sent in 20 s: the holder stalls it");
            if (send(sent, 60_000))
            {
                sent++;
            }
            poll();
        }
        // at most 512 frames (34 packets of 15) stay pinned; the others were copied and answered
        pollUntil(() -> completions >= packets - 34, "all but half the frames' worth answered");
        final long pressure = counter(DeviceCounter.HELD_COPIED_PRESSURE);
        assertEquals(completions, pressure, "every answer a pressure copy");
        final int intact = readIntactAndComplete();
        assertTrue(problems.isEmpty(), problems.toString());
        assertEquals(packets, intact, "copied or still in the frontend's frames, every packet reads intact");
    }

    @Test
    void shouldDropHeldPacketsPastTheCopyBoundAndSaySoToTheHolder() throws Exception
    {
        // room for about 8 copies of 1,000 bytes; the rest of the 100 is dropped at its deadline
        start(new BackendContext().holdCopyDeadlineMs(50).holdDropLimitMs(60_000).copyMemoryPerFrontendBytes(8 * 1024),
            Features.DEFAULT);
        final int packets = 100;
        int sent = 0;
        while (sent < packets)
        {
            if (send(sent, 1000))
            {
                sent++;
            }
            poll();
        }
        pollUntil(() -> completions == packets, "every packet answered at the deadline");
        int dropped = 0;
        for (int seq = 0; seq < packets; seq++)
        {
            dropped += statusBySeq[seq] == PacketStatus.DROPPED ? 1 : 0;
        }
        final long bound = counter(DeviceCounter.HELD_DROPPED_BOUND);
        assertEquals(dropped, bound, "every DROPPED is a drop at the bound");
        assertEquals(packets - dropped, counter(DeviceCounter.HELD_COPIED_DEADLINE));
        assertTrue(dropped >= packets - 9 && dropped < packets, "dropped " + dropped);
        final int[] gone = new int[1];
        final int[] intact = new int[1];
        onBackend(() ->
        {
            for (final long handle : handles)
            {
                final Packet packet = backend.held(handle);
                if (packet == null)
                {
                    gone[0]++;
                    if (backend.complete(handle, PacketStatus.OKAY))
                    {
                        problems.add("complete of a dropped packet said completed");
                    }
                }
                else
                {
                    intact[0] += isIntact(packet) ? 1 : 0;
                    backend.complete(handle, PacketStatus.OKAY);
                }
            }
        });
        assertTrue(problems.isEmpty(), problems.toString());
        assertEquals(dropped, gone[0], "the holder sees each dropped packet as null");
        assertEquals(packets - dropped, intact[0]);
    }

    @Test
    void shouldDropACopyItsHolderKeepsPastTheDropLimit() throws Exception
    {
        start(new BackendContext().holdCopyDeadlineMs(50).holdDropLimitMs(300), Features.DEFAULT);
        sendHeld(10, 3000, 6);
        pollUntil(() -> completions == 10, "answered at the deadline");
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (counter(DeviceCounter.HELD_DROPPED_LIMIT) < 10)
        {
            assertTrue(System.nanoTime() < deadline, "drops at the limit: " + counter(DeviceCounter.HELD_DROPPED_LIMIT));
            Thread.sleep(20);
        }
        final int[] gone = new int[1];
        onBackend(() ->
        {
            for (final long handle : handles)
            {
                gone[0] += backend.held(handle) == null && !backend.complete(handle, PacketStatus.OKAY) ? 1 : 0;
            }
        });
        assertEquals(10, gone[0]);
        assertEquals(0, counter(DeviceCounter.HELD_NOW));
        assertEquals(0, counter(DeviceCounter.COPY_MEMORY_BYTES));
    }

    /**
     * Reproducer (found by the holding fuzzer): a handle the backend dropped must read as dropped
     * ({@code held()} null, {@code complete()} false) however often its slot was used since. The
     * pending table remembers drops for 64 generations of a slot, and its free slots are a stack,
     * so the slot just freed is the next one used: 64 packets later the drop is forgotten and the
     * holder's handle is refused as stale (IllegalStateException), breaking Backend.held/complete.
     */
    @Test
    void shouldSayDroppedForADroppedHandleAfterItsSlotWasUsed64TimesMore() throws Exception
    {
        start(new BackendContext().holdCopyDeadlineMs(50).holdDropLimitMs(300), Features.DEFAULT);
        sendHeld(1, 3000, 6);
        pollUntil(() -> completions == 1, "answered at the deadline");
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (counter(DeviceCounter.HELD_DROPPED_LIMIT) < 1)
        {
            assertTrue(System.nanoTime() < deadline, "drop at the limit: " + counter(DeviceCounter.HELD_DROPPED_LIMIT));
            Thread.sleep(20);
        }
        final long dropped = handles.get(0);
        // 70 more packets, one at a time, each completed at once: the dropped packet's slot is reused each time
        for (int seq = 1; seq <= 70; seq++)
        {
            final int s = seq;
            final long sendDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!send(seq, 100))
            {
                assertTrue(System.nanoTime() < sendDeadline, "cannot send seq=" + seq);
                poll();
            }
            pollUntil(() -> {
                try
                {
                    return heldOnBackend() > s;
                }
                catch (final InterruptedException ex)
                {
                    throw new IllegalStateException(ex);
                }
            }, "seq=" + seq + " held");
            onBackend(() -> assertTrue(backend.complete(handles.get(s), PacketStatus.OKAY)));
            pollUntil(() -> completions == s + 1, "seq=" + s + " completed");
        }
        final Object[] outcome = new Object[2];
        onBackend(() ->
        {
            try
            {
                outcome[0] = backend.held(dropped);
                outcome[1] = backend.complete(dropped, PacketStatus.OKAY);
            }
            catch (final IllegalStateException ex)
            {
                outcome[0] = ex.getMessage();
            }
        });
        assertTrue(problems.isEmpty(), problems.toString());
        assertNull(outcome[0], "held(handle=0x" + Long.toHexString(dropped) + ") of a packet dropped at the limit, 70 packets later");
        assertEquals(Boolean.FALSE, outcome[1], "complete() of a packet dropped at the limit");
    }

    /**
     * Found with the kill harness's held packets: copies of many-fragment packets used to be
     * dropped after their frontend was answered OKAY (the fragment pool ran out and makeRoom
     * dropped the oldest copy). Now a copy keeps its fragments within the frontend's copy budget
     * (as many fragments as copy slots, 2,048 by default): past it the new packet is dropped and
     * answered DROPPED, and every packet answered OKAY stays readable, intact.
     */
    @Test
    void shouldNeverDropACopyAnsweredOkayWhenManyFragmentPacketsExhaustTheCopyBudget() throws Exception
    {
        start(new BackendContext().holdCopyDeadlineMs(60_000).holdDropLimitMs(120_000), Features.DEFAULT);
        final int packets = 500;
        final int[] lengths = new int[16];
        java.util.Arrays.fill(lengths, 1);
        int sent = 0;
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (sent < packets)
        {
            assertTrue(System.nanoTime() < deadline, "only " + sent + " of " + packets + " sent in 20 s");
            final dev.splitnet.api.TxClaim claim = front.tryClaim(HEADER_LENGTH, lengths, lengths.length);
            if (claim != null)
            {
                claim.header().putInt(0, sent);
                claim.header().putInt(4, lengths.length);
                for (int i = 0; i < lengths.length; i++)
                {
                    claim.fragment(i).putByte(0, pattern(sent, i));
                }
                claim.commit(sent);
                sent++;
            }
            poll();
        }
        // all but the last 8 (17 requests each: under half the ring) are answered under pressure
        final int answered = packets - 8;
        pollUntil(() -> completions == answered, "all but the last 8 packets answered");
        final long copied = counter(DeviceCounter.HELD_COPIED_PRESSURE);
        final long dropped = counter(DeviceCounter.HELD_DROPPED_BOUND);
        assertEquals(2048 / 16, copied, "copies within the frontend's budget of 2,048 fragments");
        assertEquals(answered - copied, dropped, "the rest dropped, not copied");
        int okay = 0;
        int droppedStatus = 0;
        for (int seq = 0; seq < packets; seq++)
        {
            okay += statusBySeq[seq] == PacketStatus.OKAY ? 1 : 0;
            droppedStatus += statusBySeq[seq] == PacketStatus.DROPPED ? 1 : 0;
        }
        assertEquals(copied, okay, "OKAY only for the copies");
        assertEquals(dropped, droppedStatus, "each drop answered DROPPED");
        final int[] readable = new int[2];
        onBackend(() ->
        {
            for (int i = 0; i < handles.size(); i++)
            {
                final Packet packet = backend.held(handles.get(i));
                final int seq = heldSeqs.get(i);
                if (statusBySeq[seq] == PacketStatus.OKAY && packet != null)
                {
                    boolean intact = packet.fragmentCount() == 16;
                    for (int f = 0; intact && f < 16; f++)
                    {
                        intact = packet.fragment(f).getByte(0) == pattern(seq, f);
                    }
                    readable[intact ? 0 : 1]++;
                }
                backend.complete(handles.get(i), PacketStatus.OKAY);
            }
        });
        assertEquals(copied, readable[0], "every copy answered OKAY is still there, intact");
        assertEquals(0, readable[1]);
    }

    @ParameterizedTest(name = "features {0}")
    @ValueSource(longs = { Features.DEFAULT, Features.HEADER_SLOTS })
    void shouldCopyHeldPacketsWhenTheirFrontendGoesAndReadThemAfterwards(final long features) throws Exception
    {
        // the whole ring may be held (no pressure copy): a frontend dies with hundreds of packets held
        start(new BackendContext().holdCopyDeadlineMs(60_000).holdDropLimitMs(120_000).holdPressureShare(1.0)
            .copyMemoryPerFrontendBytes(4L << 20), features);
        // one request each with frame spans (250 of the ring's 256), at most 3 without (80 packets)
        final int packets = features == Features.DEFAULT ? 250 : 80;
        sendHeld(packets, 9000, 8);
        final long domain = front.domainId();
        final CounterReadings before = CounterReadings.read(front.device(), dir, front.domainId());
        assertEquals(packets, before.get(DeviceCounter.HELD_NOW));
        front.close();
        front = null;
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (backend.connectedCount() > 0)
        {
            assertTrue(System.nanoTime() < deadline, "the backend did not notice the frontend go");
            Thread.sleep(10);
        }
        final int[] intact = new int[1];
        final int[] held = new int[1];
        onBackend(() ->
        {
            held[0] = backend.heldCount();
            for (final long handle : handles)
            {
                final Packet packet = backend.held(handle);
                if (packet != null && isIntact(packet) && packet.domainId() == domain)
                {
                    intact[0]++;
                }
                backend.complete(handle, PacketStatus.OKAY);
            }
        });
        assertTrue(problems.isEmpty(), problems.toString());
        assertEquals(packets, held[0], "the gone frontend's packets are still held, as copies");
        assertEquals(packets, intact[0], "every byte of every held packet read after its frontend went");
        onBackend(() -> assertEquals(0, backend.heldCount()));
        assertEquals(packets, dev.splitnet.mmap.BackendCounters.read(dir).get((int)domain).get(DeviceCounter.HELD_COPIED_DISCONNECT),
            "copied at disconnect, in the backend's last counters of the frontend");
    }

    /**
     * Reproducer (found by the holding fuzzer): the copies of a gone frontend's held packets,
     * dropped at the drop limit, must read as dropped ({@code held()} null, {@code complete()}
     * false). HeldPackets forgets a detached table as soon as it holds nothing (its id then free
     * for the next frontend), so the holder's handles name no table: IllegalStateException; and
     * once the id is reused, the same slot and generation may name a stranger's packet.
     */
    @Test
    void shouldSayDroppedForAGoneFrontendsCopiesDroppedAtTheLimit() throws Exception
    {
        start(new BackendContext().holdCopyDeadlineMs(250).holdDropLimitMs(300), Features.DEFAULT);
        sendHeld(3, 3000, 9);
        front.close();
        front = null;
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (backend.connectedCount() > 0)
        {
            assertTrue(System.nanoTime() < deadline, "the backend did not notice the frontend go");
            Thread.sleep(10);
        }
        // past the drop limit: the copies made at the disconnect are dropped
        Thread.sleep(1000);
        final List<String> outcomes = new ArrayList<>();
        onBackend(() ->
        {
            for (final long handle : handles)
            {
                try
                {
                    outcomes.add("held=" + backend.held(handle) + " complete=" + backend.complete(handle, PacketStatus.OKAY));
                }
                catch (final IllegalStateException ex)
                {
                    outcomes.add(ex.getMessage());
                }
            }
        });
        assertTrue(problems.isEmpty(), problems.toString());
        assertEquals(List.of("held=null complete=false", "held=null complete=false", "held=null complete=false"), outcomes);
    }

    /**
     * Found by {@code scripts/fuzz --hold}: a held packet whose fragments are all empty was "copied"
     * at its frontend's disconnect without giving back its pinned grants, and completing it after
     * the conductor had unmapped the memory wrote the grant table there (SIGSEGV). Every pinned
     * grant is now given back at the copy.
     */
    @Test
    void shouldCompleteHeldPacketsWithEmptyFragmentsAfterTheirFrontendsMemoryIsGone() throws Exception
    {
        start(new BackendContext().holdCopyDeadlineMs(60_000).holdDropLimitMs(120_000), Features.HEADER_SLOTS);
        // NetFront sends no empty fragment; a raw frontend may (it is valid netif: size 0)
        final HostileFrontendTest.RawTx tx = new HostileFrontendTest.RawTx(front);
        tx.grantFrame(5, (byte)1);
        tx.grantFrame(6, (byte)2);
        final int packets = 20;
        for (int i = 0; i < packets; i++)
        {
            tx.writeHeader(1 + i, i, HEADER_LENGTH);
            tx.write(HostileFrontendTest.chain(
                new HostileFrontendTest.Req(1 + i, 0, dev.splitnet.api.NetifConstants.NETTXF_SPLITNET_HEADER_SLOT, tx.id(), HEADER_LENGTH),
                new HostileFrontendTest.Req(5, 0, 0, tx.id(), 0), new HostileFrontendTest.Req(6, 0, 0, tx.id(), 0)));
        }
        tx.publish();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (heldOnBackend() < packets)
        {
            assertTrue(System.nanoTime() < deadline, "held " + heldOnBackend());
        }
        assertNotEquals(0, tx.grants.flags(5) & dev.splitnet.api.GrantConstants.GTF_READING, "the empty fragments' grants are pinned");
        final NetFront gone = front;
        front = null;
        gone.close();
        while (backend.connectedCount() > 0)
        {
            assertTrue(System.nanoTime() < deadline, "the backend did not notice the frontend go");
            Thread.sleep(10);
        }
        // the conductor unmaps the memory after the disconnect: give it time
        Thread.sleep(500);
        final int[] completed = new int[1];
        onBackend(() ->
        {
            for (final long handle : handles)
            {
                final Packet packet = backend.held(handle);
                if (packet != null && packet.fragmentCount() == 2 && packet.fragment(0).length() == 0)
                {
                    completed[0] += backend.complete(handle, PacketStatus.OKAY) ? 1 : 0;
                }
            }
        });
        assertTrue(problems.isEmpty(), problems.toString());
        assertEquals(packets, completed[0], "every held packet of the gone frontend completed");
    }

    /**
     * A frontend that tries to end the grant of a packet the backend holds is refused (the pin
     * keeps the grant's in-use flag set), and the held packet still reads the frame's bytes; once
     * completed the grant is the frontend's to end again.
     */
    @Test
    void shouldRefuseAFrontendEndingTheGrantOfAHeldPacket() throws Exception
    {
        start(new BackendContext().holdCopyDeadlineMs(60_000).holdDropLimitMs(120_000), Features.HEADER_SLOTS);
        final HostileFrontendTest.RawTx tx = new HostileFrontendTest.RawTx(front);
        final int gref = 5;
        tx.grantFrame(gref, (byte)3);
        tx.writeHeader(1, 77, 42);
        final int id0 = tx.id();
        final int id1 = tx.id();
        tx.write(HostileFrontendTest.chain(new HostileFrontendTest.Req(1, 0, dev.splitnet.api.NetifConstants.NETTXF_SPLITNET_HEADER_SLOT, id0, 42 + 1000),
            new HostileFrontendTest.Req(gref, 0, 0, id1, 1000)));
        tx.publish();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (heldOnBackend() < 1)
        {
            assertTrue(System.nanoTime() < deadline, "the backend did not hold the packet");
        }
        assertNotEquals(0, tx.grants.flags(gref) & dev.splitnet.api.GrantConstants.GTF_READING, "the held packet's grant is pinned");
        assertFalse(tx.grants.endForeignAccess(gref), "ending the grant of a held packet is refused");
        assertEquals(0, tx.rspProd(), "no response while held");
        final int[] wrong = new int[1];
        onBackend(() ->
        {
            final Packet packet = backend.held(handles.get(0));
            for (int i = 0; i < 1000; i++)
            {
                wrong[0] += packet.fragment(0).getByte(i) == (byte)(3 + i * 31) ? 0 : 1;
            }
            assertTrue(backend.complete(handles.get(0), PacketStatus.OKAY));
        });
        assertTrue(problems.isEmpty(), problems.toString());
        assertEquals(0, wrong[0], "bytes of the held fragment that differ from the frame");
        for (final HostileFrontendTest.Rsp rsp : tx.awaitResponses(2))
        {
            assertEquals(dev.splitnet.api.NetifConstants.NETIF_RSP_OKAY, rsp.status());
        }
        assertTrue(tx.grants.endForeignAccess(gref), "after completion the frontend ends its grant");
        tx.assertNoGrantHeld();
    }
}

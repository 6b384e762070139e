package dev.splitnet.frontend;

import dev.splitnet.api.NetifConstants;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.SendResult;
import dev.splitnet.mmap.DeviceLayout;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A real {@link NetFront} against a backend written in the test ({@link HostileBackend}) that breaks
 * the protocol one way per case. Each case must end with a logged reason in
 * {@link NetFront#disconnectReason()}, every packet in flight reported DISCONNECTED exactly once,
 * and nothing thrown out of {@code poll}.
 */
class HostileBackendTest extends HostileBackendCases
{
    private void connect(final long backendTimeoutMs) throws Exception
    {
        connect(backendTimeoutMs, true);
    }

    private void connect(final long backendTimeoutMs, final boolean sealedMemory) throws Exception
    {
        backend = HostileBackend.listen(dir, 0);
        front = NetFront.connect(new FrontendContext().directory(dir).name("victim").txFrames(64).rxFrames(16)
            .connectTimeoutMs(5_000).backendTimeoutMs(backendTimeoutMs).sealedMemory(sealedMemory));
        backend.connected();
    }

    private void connect() throws Exception
    {
        connect(3_600_000);
    }

    private void pollUntilDisconnected()
    {
        final long deadline = System.nanoTime() + DEADLINE_NS;
        while (front.isConnected())
        {
            poll();
            assertTrue(System.nanoTime() - deadline < 0, "still connected after 6 s");
        }
        // later polls report nothing again
        for (int i = 0; i < 3; i++)
        {
            poll();
        }
        assertEquals(0, front.inFlight(), "every packet in flight was completed");
    }

    private void assertDisconnected(final String reasonPart)
    {
        assertFalse(front.isConnected());
        assertNotNull(front.disconnectReason());
        assertTrue(front.disconnectReason().contains(reasonPart), "reason: " + front.disconnectReason());
    }

    @Test
    void shouldDisconnectOnADuplicateTxResponse() throws Exception
    {
        connect();
        send(0, IN_FLIGHT);
        final int[] ids = backend.takeTxRequestIds();
        assertEquals(2 * IN_FLIGHT, ids.length);
        // the head id stays held until its packet completes: the second answer must still be refused
        backend.txResponse(ids[0], NetifConstants.NETIF_RSP_OKAY);
        backend.txResponse(ids[0], NetifConstants.NETIF_RSP_OKAY);
        backend.pushTx();
        pollUntilDisconnected();
        assertDisconnected("TX response id=" + ids[0] + " was answered already");
        completions.assertEach(0, IN_FLIGHT, PacketStatus.DISCONNECTED);
    }

    @Test
    void shouldDisconnectOnATxResponseForAnIdOutsideTheRing() throws Exception
    {
        connect();
        send(0, IN_FLIGHT);
        backend.takeTxRequestIds();
        backend.txResponse(0xFFFF, NetifConstants.NETIF_RSP_OKAY);
        backend.pushTx();
        pollUntilDisconnected();
        assertDisconnected("TX response id=65535 is not a ring id");
        completions.assertEach(0, IN_FLIGHT, PacketStatus.DISCONNECTED);
    }

    @Test
    void shouldDisconnectOnATxResponseForAnIdNobodyUses() throws Exception
    {
        connect();
        send(0, IN_FLIGHT);
        final int[] ids = backend.takeTxRequestIds();
        final int unused = Arrays.stream(ids).max().getAsInt() + 7;
        backend.txResponse(unused, NetifConstants.NETIF_RSP_OKAY);
        backend.pushTx();
        pollUntilDisconnected();
        assertDisconnected("TX response id=" + unused + " has no request");
        completions.assertEach(0, IN_FLIGHT, PacketStatus.DISCONNECTED);
    }

    @Test
    void shouldDisconnectOnAStaleTxResponse() throws Exception
    {
        connect();
        send(0, 1);
        final int[] first = backend.takeTxRequestIds();
        send(1, IN_FLIGHT);
        backend.takeTxRequestIds();
        for (final int id : first)
        {
            backend.txResponse(id, NetifConstants.NETIF_RSP_OKAY);
        }
        backend.pushTx();
        poll();
        assertTrue(front.isConnected(), "honest answers: " + front.disconnectReason());
        assertEquals(List.of(PacketStatus.OKAY), completions.of(0));
        // packet 0's ids are free again and were not reused by the packets in flight: answering one is stale
        backend.txResponse(first[1], NetifConstants.NETIF_RSP_OKAY);
        backend.pushTx();
        pollUntilDisconnected();
        assertDisconnected("TX response id=" + first[1] + " has no request (an unknown or stale id)");
        assertEquals(List.of(PacketStatus.OKAY), completions.of(0), "the completed packet is not reported again");
        completions.assertEach(1, IN_FLIGHT, PacketStatus.DISCONNECTED);
    }

    @Test
    void shouldDisconnectWhenTheTxResponseProducerRunsAheadOfTheRequests() throws Exception
    {
        connect();
        send(0, IN_FLIGHT);
        backend.setTxResponseProducer(backend.txResponseProducer() + 2 * IN_FLIGHT + 1);
        pollUntilDisconnected();
        assertDisconnected("more responses than requests");
        completions.assertEach(0, IN_FLIGHT, PacketStatus.DISCONNECTED);
    }

    @ParameterizedTest(name = "offset={0} status={1}")
    @CsvSource({
        "0, -7, not a length nor an error code",
        "4000, 200, past the end of its 4096-byte buffer",
        "0, 4097, past the end of its 4096-byte buffer",
        "4096, 1, past the end of its 4096-byte buffer",
    })
    void shouldDisconnectOnAnRxResponseOutsideItsBuffer(final int offset, final int status, final String reason) throws Exception
    {
        connect();
        send(0, IN_FLIGHT);
        final long[] posted = backend.takeRxRequests();
        backend.rxResponse((int)(posted[0] >>> 32), offset, 0, status);
        backend.pushRx();
        pollUntilDisconnected();
        assertDisconnected(reason);
        assertEquals(0, received.size(), "nothing delivered from a bad response");
        completions.assertEach(0, IN_FLIGHT, PacketStatus.DISCONNECTED);
    }

    @Test
    void shouldDropAPacketTheBackendMarkedFailedAndStayConnected() throws Exception
    {
        connect();
        final long[] posted = backend.takeRxRequests();
        backend.rxResponse((int)(posted[0] >>> 32), 0, 0, NetifConstants.NETIF_RSP_ERROR);
        backend.pushRx();
        poll();
        assertTrue(front.isConnected(), "an error status is honest: " + front.disconnectReason());
        assertEquals(0, received.size());
    }

    @Test
    void shouldDisconnectOnADuplicateRxResponse() throws Exception
    {
        connect();
        send(0, IN_FLIGHT);
        final long[] posted = backend.takeRxRequests();
        final int id = (int)(posted[0] >>> 32);
        backend.rxResponse(id, 0, NetifConstants.NETRXF_MORE_DATA, 10);
        backend.rxResponse(id, 0, 0, 10);
        backend.pushRx();
        pollUntilDisconnected();
        assertDisconnected("RX response id=" + id + " names a buffer not posted");
        assertEquals(0, received.size(), "the chain with a duplicate is not delivered");
        completions.assertEach(0, IN_FLIGHT, PacketStatus.DISCONNECTED);
    }

    @Test
    void shouldDisconnectOnAnRxChainOfMoreThan65535Bytes() throws Exception
    {
        connect();
        send(0, IN_FLIGHT);
        final long[] posted = backend.takeRxRequests();
        assertEquals(16, posted.length);
        // sixteen full buffers: 65536 bytes, one more than any packet
        for (int i = 0; i < posted.length; i++)
        {
            backend.rxResponse((int)(posted[i] >>> 32), 0, i + 1 < posted.length ? NetifConstants.NETRXF_MORE_DATA : 0, 4096);
        }
        backend.pushRx();
        pollUntilDisconnected();
        assertDisconnected("RX chain holds more than 65535 bytes");
        assertEquals(0, received.size(), "the chain is not delivered");
    }

    @Test
    void shouldDisconnectOnAnRxResponseForAnUnknownBuffer() throws Exception
    {
        connect();
        send(0, IN_FLIGHT);
        backend.rxResponse(16, 0, 0, 10);
        backend.pushRx();
        pollUntilDisconnected();
        assertDisconnected("RX response id=16 is not a receive buffer (0 to 15)");
        completions.assertEach(0, IN_FLIGHT, PacketStatus.DISCONNECTED);
    }

    @Test
    void shouldDisconnectWhenTheRxResponseProducerRunsAhead() throws Exception
    {
        connect();
        send(0, IN_FLIGHT);
        final long[] posted = backend.takeRxRequests();
        for (int i = 0; i <= posted.length; i++)
        {
            backend.rxResponse((int)(posted[i % posted.length] >>> 32), 0, NetifConstants.NETRXF_MORE_DATA, 1);
        }
        backend.pushRx();
        pollUntilDisconnected();
        assertDisconnected("RX rsp_prod is " + (posted.length + 1) + " past rsp_cons but only 16 buffers were posted");
        completions.assertEach(0, IN_FLIGHT, PacketStatus.DISCONNECTED);
    }

    /**
     * The first part of a chain arrives, the frontend polls (nothing to deliver yet), the backend
     * fills every buffer posted since with another packet's bytes, then ends the chain: the packet
     * must show its own bytes only, so its first buffer must not have been posted in between.
     */
    @Test
    void shouldNotPostAnRxChainsBuffersAgainBeforeTheChainEnds() throws Exception
    {
        connect();
        final long[] posted = backend.takeRxRequests();
        final int reqProd = backend.rxRequestProducer();
        final int firstId = (int)(posted[0] >>> 32);
        fill(backend, (int)posted[0], (byte)'A', 1000);
        backend.rxResponse(firstId, 0, NetifConstants.NETRXF_MORE_DATA, 1000);
        backend.pushRx();
        assertEquals(0, poll(), "half a chain delivers nothing");
        assertEquals(reqProd, backend.rxRequestProducer(), "the buffer of a chain still open was posted again");
        // an honest backend now delivers another packet into whatever was posted since: nothing was
        for (final long request : backend.takeRxRequests())
        {
            fill(backend, (int)request, (byte)'X', DeviceLayout.PAGE_SIZE);
        }
        fill(backend, (int)posted[1], (byte)'B', 500);
        backend.rxResponse((int)(posted[1] >>> 32), 0, 0, 500);
        backend.pushRx();
        assertEquals(1, poll());
        assertTrue(front.isConnected(), front.disconnectReason());
        final byte[] expected = new byte[1500];
        Arrays.fill(expected, 0, 1000, (byte)'A');
        Arrays.fill(expected, 1000, 1500, (byte)'B');
        assertArrayEquals(expected, received.get(0), "the packet shows bytes of another packet");
        assertEquals(reqProd + 2, backend.rxRequestProducer(), "both buffers are posted again once the chain ended");
    }

    private static void fill(final HostileBackend backend, final int frame, final byte value, final int length)
    {
        backend.frame(frame).setMemory(0, length, value);
    }

    @Test
    void shouldDisconnectOnADoorbellStorm() throws Exception
    {
        connect();
        send(0, IN_FLIGHT);
        final AtomicBoolean flooding = new AtomicBoolean(true);
        final Thread flooder = new Thread(() ->
        {
            try
            {
                backend.flood(3_000);
            }
            catch (final Exception ignore)
            {
                // the frontend hung up
            }
            flooding.set(false);
        });
        flooder.start();
        final long start = System.nanoTime();
        pollUntilDisconnected();
        final long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        flooder.join();
        assertDisconnected("doorbell storm: " + PeerWatch.MAX_FLOODS_IN_A_ROW + " drains in a row");
        assertTrue(tookMs < 1_000, "a storm is cut off within a second, took " + tookMs + " ms");
        completions.assertEach(0, IN_FLIGHT, PacketStatus.DISCONNECTED);
    }

    /**
     * File-backed memory (sealed memory cannot shrink): after 20 ms the wall-clock check runs first
     * and sees the short file; at once, the access faults.
     */
    @ParameterizedTest(name = "poll {0} ms after the truncation")
    @CsvSource({"20", "0"})
    void shouldDisconnectWithoutAnErrorEscapingWhenTheFileIsTruncated(final long delayMs) throws Exception
    {
        connect(3_600_000, false); // file-backed: sealed memory cannot be truncated at all
        assertFalse(front.device().isSealedMemory());
        send(0, IN_FLIGHT);
        final int[] ids = backend.takeTxRequestIds();
        backend.txResponse(ids[0], NetifConstants.NETIF_RSP_OKAY);
        poll();
        backend.truncateFile(DeviceLayout.PAGE_SIZE);
        Thread.sleep(delayMs);
        pollUntilDisconnected();
        assertDisconnected("was truncated to 4096 of ");
        completions.assertEach(0, IN_FLIGHT, PacketStatus.DISCONNECTED);
        assertEquals(SendResult.NOT_CONNECTED, front.send(new UnsafeBuffer(new byte[64]), 0, 32, new UnsafeBuffer(new byte[64]), 0, 10, 99));
        assertNull(front.tryClaim(32, 10));
        front.awaitWork(1);
    }

    /**
     * Another file renamed over the device file's path: the frontend keeps its own mapping and
     * descriptor, so nothing changes for it, and its close() leaves the other file alone.
     */
    @Test
    void shouldKeepWorkingAndLeaveTheOtherFileAloneWhenTheFileIsReplaced() throws Exception
    {
        connect();
        final Path file = front.device().path();
        final Path other = dir.resolve("other.tmp");
        java.nio.file.Files.write(other, new byte[] {1, 2, 3});
        java.nio.file.Files.move(other, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        send(0, 1);
        for (final int id : backend.takeTxRequestIds())
        {
            backend.txResponse(id, NetifConstants.NETIF_RSP_OKAY);
        }
        backend.pushTx();
        Thread.sleep(20);
        poll();
        assertTrue(front.isConnected(), "a replaced path does not touch the mapping: " + front.disconnectReason());
        assertEquals(List.of(PacketStatus.OKAY), completions.of(0));
        front.close();
        front = null;
        assertArrayEquals(new byte[] {1, 2, 3}, java.nio.file.Files.readAllBytes(file), "close() deleted a file that was not its own");
    }

    /**
     * This backend's process (this JVM) keeps running, so a still heartbeat may be starvation: the
     * frontend warns at the timeout and gives up at {@link PeerWatch#LATE_FACTOR} times it. A
     * stopped backend process is given up on at the timeout itself (BackendLivenessIT, SIGSTOP).
     */
    /**
     * The frontend gave up on a backend whose heartbeat stopped and reported its packets
     * DISCONNECTED; then the backend's answers for them appear, and the next poll drains what was
     * published: the packets must not complete a second time, nor poll throw (found by the kill
     * harness: a late response took a reported packet's count below zero and freed its id twice).
     */
    @Test
    void shouldNotCompleteAPacketTwiceWhenItsResponseIsDrainedAfterItWasReportedDisconnected() throws Exception
    {
        connect(300);
        send(0, IN_FLIGHT);
        final int[] ids = backend.takeTxRequestIds();
        final long deadline = System.nanoTime() + DEADLINE_NS;
        while (front.isConnected())
        {
            poll();
            assertTrue(System.nanoTime() - deadline < 0, "still connected after 6 s");
        }
        completions.assertEach(0, IN_FLIGHT, PacketStatus.DISCONNECTED);
        for (final int id : ids)
        {
            backend.txResponse(id, NetifConstants.NETIF_RSP_OKAY);
        }
        backend.pushTx();
        for (int i = 0; i < 3; i++)
        {
            poll();
        }
        completions.assertEach(0, IN_FLIGHT, PacketStatus.DISCONNECTED);
        assertEquals(0, front.inFlight());
    }

    @Test
    void shouldDisconnectWhenTheHeartbeatStopsWhileTheBackendProcessRuns() throws Exception
    {
        connect(300);
        send(0, IN_FLIGHT);
        // beating: connected for well past the timeout
        final long beatUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(600);
        long lastBeat = System.nanoTime();
        while (System.nanoTime() - beatUntil < 0)
        {
            if (System.nanoTime() - lastBeat > TimeUnit.MILLISECONDS.toNanos(20))
            {
                backend.beat();
                lastBeat = System.nanoTime();
            }
            poll();
        }
        assertTrue(front.isConnected(), "a beating backend is alive: " + front.disconnectReason());
        pollUntilDisconnected();
        final long noticedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastBeat);
        assertDisconnected("backend heartbeat stopped for ");
        assertDisconnected("while its process " + ProcessHandle.current().pid() + " runs");
        assertTrue(noticedMs >= PeerWatch.LATE_FACTOR * 300 && noticedMs < PeerWatch.LATE_FACTOR * 300 + 1_000,
            "noticed " + noticedMs + " ms after the last beat (timeout 300 ms, x" + PeerWatch.LATE_FACTOR + " for a running process)");
        completions.assertEach(0, IN_FLIGHT, PacketStatus.DISCONNECTED);
    }

    /** The socket's end-of-stream, with the backend's state saying whether it let go or died. */
    @ParameterizedTest(name = "backend state {0}")
    @CsvSource({
        "CONNECTED, backend closed the connection (it exited or died)",
        "CLOSED, backend closed the connection (it disconnected this frontend or shut down: backend state CLOSED)",
    })
    void shouldDisconnectWhenTheBackendClosesTheSocket(final dev.splitnet.api.XenbusState state, final String reason) throws Exception
    {
        connect();
        send(0, IN_FLIGHT);
        backend.hangUp(state);
        pollUntilDisconnected();
        assertEquals(reason, front.disconnectReason());
        completions.assertEach(0, IN_FLIGHT, PacketStatus.DISCONNECTED);
    }
}

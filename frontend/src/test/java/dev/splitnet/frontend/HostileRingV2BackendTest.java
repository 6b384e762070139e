package dev.splitnet.frontend;

import dev.splitnet.api.Features;
import dev.splitnet.api.NetifConstants;
import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.SendResult;
import dev.splitnet.mmap.NetifV2Entries;
import dev.splitnet.mmap.RingFormat;
import dev.splitnet.mmap.RingV2Descriptor;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The ring v2 counterparts of {@link HostileBackendTest}: a real {@link NetFront} on ring v2
 * against a backend written in the test ({@link HostileBackend} in its ring v2 mode) that breaks
 * the new format one way per case (an ownership tag flipped, a lap ahead, a completion for an id
 * never posted or a run past the ring, a buffer named twice, an impossible consumer index). Each
 * must end with a reason naming it, every packet in flight DISCONNECTED exactly once, nothing
 * thrown out of poll. And one honest case: completions in any order, runs included, are accepted.
 */
class HostileRingV2BackendTest extends HostileBackendCases
{
    /** Header slots, no permanent grants: each packet is one header-slot request and one payload request. */
    private void connect() throws Exception
    {
        backend = HostileBackend.listen(dir, Features.RING_V2 | Features.HEADER_SLOTS);
        front = NetFront.connect(new FrontendContext().directory(dir).name("victim").txFrames(64).rxFrames(16)
            .connectTimeoutMs(5_000).backendTimeoutMs(3_600_000).features(Features.RING_V2 | Features.HEADER_SLOTS));
        backend.connected();
        assertEquals(RingFormat.V2, RingFormat.of(front.negotiatedFeatures()));
    }

    private void pollUntilDisconnected(final String reasonPart)
    {
        final long deadline = System.nanoTime() + DEADLINE_NS;
        while (front.isConnected())
        {
            poll();
            assertTrue(System.nanoTime() - deadline < 0, "still connected after 6 s");
        }
        poll();
        assertEquals(0, front.inFlight(), "every packet in flight was completed");
        assertNotNull(front.disconnectReason());
        assertTrue(front.disconnectReason().contains(reasonPart), "reason: " + front.disconnectReason());
    }

    /** A backend from before ring v2 refuses the PROBE: the frontend connects again without offering it. */
    @Test
    void shouldConnectOnXensRingToABackendThatPredatesTheProbe() throws Exception
    {
        backend = HostileBackend.listenAsBackendBeforeRingV2(dir, Features.HEADER_SLOTS);
        front = NetFront.connect(new FrontendContext().directory(dir).name("victim").txFrames(64).rxFrames(16)
            .connectTimeoutMs(5_000).backendTimeoutMs(3_600_000).features(Features.RING_V2 | Features.HEADER_SLOTS));
        backend.connected();
        assertEquals(1, backend.probesRefused());
        assertEquals(Features.HEADER_SLOTS, front.negotiatedFeatures());
        assertEquals(Features.HEADER_SLOTS, front.device().featuresNegotiated());
        send(0, 1);
        final int[] ids = backend.takeTxRequestIds();
        assertEquals(2, ids.length, "Xen's ring: the header-slot request and the payload request");
        backend.txResponse(ids[0], NetifConstants.NETIF_RSP_OKAY);
        backend.txResponse(ids[1], NetifConstants.NETIF_RSP_OKAY);
        backend.pushTx();
        final long deadline = System.nanoTime() + DEADLINE_NS;
        while (front.inFlight() > 0 && System.nanoTime() - deadline < 0)
        {
            poll();
        }
        completions.assertEach(0, 1, PacketStatus.OKAY);
    }

    @Test
    void shouldAcceptCompletionsInAnyOrderAndRunsOfIds() throws Exception
    {
        connect();
        send(0, 4);
        final int[] ids = backend.takeTxRequestIds();
        assertEquals(8, ids.length, "two requests a packet");
        // the last packet first, then a run answering the first three packets' six ids at once
        backend.txResponse(ids[7], NetifConstants.NETIF_RSP_OKAY);
        backend.txResponse(ids[6], NetifConstants.NETIF_RSP_DROPPED);
        assertEquals(ids[0] + 5, ids[5], "FIFO ids: consecutive");
        backend.txResponseRun(ids[0], NetifConstants.NETIF_RSP_OKAY, 6);
        backend.pushTx();
        final long deadline = System.nanoTime() + DEADLINE_NS;
        while (front.inFlight() > 0 && System.nanoTime() - deadline < 0)
        {
            poll();
        }
        assertTrue(front.isConnected(), String.valueOf(front.disconnectReason()));
        completions.assertEach(0, 3, PacketStatus.OKAY);
        completions.assertEach(3, 1, PacketStatus.DROPPED);
        assertEquals(0, front.resourceUsage().ringIdsHeld());
    }

    @Test
    void shouldDisconnectOnATxResponseWhoseOwnershipTagWasFlipped() throws Exception
    {
        connect();
        send(0, IN_FLIGHT);
        final int[] ids = backend.takeTxRequestIds();
        // a tag bit flipped: neither this lap (written) nor the last (not yet)
        backend.rawTxResponseWord(NetifV2Entries.TxResponse.word(ids[0], 0, 1)
            | (long)(backend.nextTxResponseTag() ^ 0x4000) << RingV2Descriptor.TAG_SHIFT);
        pollUntilDisconnected("has tag");
        completions.assertEach(0, IN_FLIGHT, PacketStatus.DISCONNECTED);
    }

    @Test
    void shouldDisconnectOnATxResponseWrittenALapAhead() throws Exception
    {
        connect();
        send(0, IN_FLIGHT);
        final int[] ids = backend.takeTxRequestIds();
        backend.rawTxResponseWord(NetifV2Entries.TxResponse.word(ids[0], 0, 1)
            | (long)((backend.nextTxResponseTag() + 1) & 0xFFFF) << RingV2Descriptor.TAG_SHIFT);
        pollUntilDisconnected("written out of turn");
        completions.assertEach(0, IN_FLIGHT, PacketStatus.DISCONNECTED);
    }

    @Test
    void shouldDisconnectOnACompletionForAnIdNeverPosted() throws Exception
    {
        connect();
        send(0, IN_FLIGHT);
        backend.takeTxRequestIds();
        backend.txResponse(100, NetifConstants.NETIF_RSP_OKAY);
        backend.pushTx();
        pollUntilDisconnected("TX response id=100 has no request");
        completions.assertEach(0, IN_FLIGHT, PacketStatus.DISCONNECTED);
    }

    @Test
    void shouldDisconnectOnARunThatAnswersAnIdTwice() throws Exception
    {
        connect();
        send(0, IN_FLIGHT);
        final int[] ids = backend.takeTxRequestIds();
        // the head request answered alone (its packet waits for its payload's answer), then again in a run
        backend.txResponseRun(ids[0], NetifConstants.NETIF_RSP_OKAY, 1);
        backend.txResponseRun(ids[0], NetifConstants.NETIF_RSP_OKAY, 2);
        backend.pushTx();
        pollUntilDisconnected("TX response id=" + ids[0] + " was answered already");
        completions.assertEach(0, IN_FLIGHT, PacketStatus.DISCONNECTED);
    }

    @Test
    void shouldDisconnectOnARunOfIdsPastTheRing() throws Exception
    {
        connect();
        send(0, IN_FLIGHT);
        backend.takeTxRequestIds();
        backend.txResponseRun(120, NetifConstants.NETIF_RSP_OKAY, 9);
        backend.pushTx();
        pollUntilDisconnected("a run of 9 ids from id=120 names ids that are not ring ids (0 to 127)");
        completions.assertEach(0, IN_FLIGHT, PacketStatus.DISCONNECTED);
    }

    @Test
    void shouldDisconnectOnAnRxResponseNamingABufferTwice() throws Exception
    {
        connect();
        send(0, IN_FLIGHT);
        final long[] posted = backend.takeRxRequests();
        assertEquals(16, posted.length);
        final int id = (int)(posted[5] >>> 32);
        backend.rxResponse(id, 0, 0, 10);
        backend.rxResponse(id, 0, 0, 10);
        backend.pushRx();
        pollUntilDisconnected("RX response id=" + id + " names a buffer not posted");
        assertEquals(1, received.size(), "the first answer was a packet");
    }

    @Test
    void shouldDisconnectOnAnRxResponsePastItsBuffer() throws Exception
    {
        connect();
        final long[] posted = backend.takeRxRequests();
        backend.rxResponse((int)(posted[0] >>> 32), 100, 0, 4000);
        backend.pushRx();
        pollUntilDisconnected("has offset=100 status=4000, past the end of its 4096-byte buffer");
    }

    @Test
    void shouldDisconnectOnAnImpossibleConsumerIndexForItsRequests() throws Exception
    {
        connect();
        final int bogus = front.device().initialRingIndex() + 1000;
        // the backend's line says it consumed 1000 requests when none was sent
        backend.setTxRequestConsumer(bogus);
        // 64 packets of two requests fill the 128-entry request ring without a look at req_cons
        send(0, 64);
        assertEquals(SendResult.BACK_PRESSURED, front.send(new UnsafeBuffer(new byte[64]), 0, 32, new UnsafeBuffer(new byte[64]), 0, 10, 64),
            "a full ring: req_cons is read, and found impossible");
        pollUntilDisconnected("TX req_cons=" + bogus + " is impossible");
        completions.assertEach(0, 64, PacketStatus.DISCONNECTED);
    }
}

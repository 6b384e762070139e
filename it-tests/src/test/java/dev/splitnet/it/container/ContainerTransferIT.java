package dev.splitnet.it.container;

import dev.splitnet.mmap.DeviceCounter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

import static dev.splitnet.it.container.Json.number;
import static dev.splitnet.it.container.Json.string;
import static dev.splitnet.it.container.SplitnetContainer.counter;
import static dev.splitnet.it.container.SplitnetContainer.device;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The shape users run: a backend container and a frontend container per guest, sharing nothing but
 * a directory with the device files and the backend's socket; no network at all.
 */
@ContainerTest
class ContainerTransferIT
{
    @Test
    void shouldExchangePacketsBothWaysBetweenTwoFrontendContainersThroughABackendContainer() throws Exception
    {
        final long start = System.nanoTime();
        try (SharedDirectory dir = SharedDirectory.create("transfer");
            SplitnetContainer backend = SplitnetContainer.backend("transfer-backend", dir, "--mode", "switch");
            SplitnetContainer a = frontend("transfer-a", dir, "a", "b", 1);
            SplitnetContainer b = frontend("transfer-b", dir, "b", "a", 2))
        {
            // While they run, `splitnet stat` (a fourth container) sees both devices connected, each
            // with its own domain id, the backend taking packets off both TX rings and delivering to both.
            HostView.await(dir, d -> HostView.counter(d, "a", DeviceCounter.RX_PACKETS) > 0
                && HostView.counter(d, "b", DeviceCounter.RX_PACKETS) > 0, "traffic both ways");
            final Map<String, Object> stat = SplitnetContainer.stat(dir);
            for (final String name : new String[] { "a", "b" })
            {
                final Map<String, Object> d = device(stat, name);
                assertNotNull(d, "stat lists " + name + ": " + stat);
                assertEquals("CONNECTED", string(d, "backend_state"), stat.toString());
                assertEquals("CONNECTED", string(d, "frontend_state"), stat.toString());
                assertTrue(counter(stat, name, "be_tx_packets") > 0 && counter(stat, name, "rx_delivered") > 0, stat.toString());
            }
            assertNotEquals(number(device(stat, "a"), "domain_id"), number(device(stat, "b"), "domain_id"), stat.toString());

            assertEquals(0, a.waitForExit(120), "frontend a: " + a.stderr());
            assertEquals(0, b.waitForExit(120), "frontend b: " + b.stderr());
            final Map<String, Object> sa = a.summary();
            final Map<String, Object> sb = b.summary();
            for (final Map<String, Object> s : List.of(sa, sb))
            {
                assertEquals(0, number(s, "integrity_errors"), "every received byte checked: " + s);
                assertTrue(number(s, "sent") > 1000, "sent: " + s);
                assertTrue(number(s, "received") > 0, "received: " + s);
                assertEquals(number(s, "sent"), number(s, "okay") + number(s, "dropped") + number(s, "error") + number(s, "disconnected"),
                    "one status per packet: " + s);
                assertEquals(0, number(s, "error"), s.toString());
                assertEquals(0, number(s, "disconnected"), s.toString());
                assertEquals(1, number(s, "connections"), s.toString());
            }
            // The switch delivered what one sent (OKAY) into the other's receive buffers.
            assertTrue(number(sa, "received") <= number(sb, "okay"), "a received at most what b got delivered: " + sa + " " + sb);
            assertTrue(number(sb, "received") <= number(sa, "okay"), "b received at most what a got delivered: " + sa + " " + sb);
            assertEquals(number(sa, "domain_id"), number(device(stat, "a"), "domain_id"));
            assertTrue(backend.isRunning(), backend.stderr());
            Timings.report(String.format(Locale.ROOT,
                "ContainerTransferIT: a sent %d received %d dropped %d (%s), b sent %d received %d dropped %d (%s), %.1f s",
                number(sa, "sent"), number(sa, "received"), number(sa, "dropped"), dropReasons(sa),
                number(sb, "sent"), number(sb, "received"), number(sb, "dropped"), dropReasons(sb), Timings.secondsSince(start)));
        }
    }

    /** The drop counters of a frontend's device (written by the backend), those not zero, as key=value. */
    @SuppressWarnings("unchecked")
    private static String dropReasons(final Map<String, Object> summary)
    {
        final Map<String, Object> counters = (Map<String, Object>)summary.get("counters");
        final StringBuilder sb = new StringBuilder();
        counters.forEach((key, value) ->
        {
            if ((key.contains("dropped_") || key.equals("tx_sender_pauses")) && value instanceof Long && (Long)value != 0)
            {
                sb.append(sb.length() == 0 ? "" : " ").append(key).append('=').append(value);
            }
        });
        return sb.length() == 0 ? "no drop counted" : sb.toString();
    }

    /** A frontend that sends 10 s of random-size, randomly fragmented packets to its peer and checks every byte it receives. */
    private static SplitnetContainer frontend(final String container, final SharedDirectory dir, final String name, final String peer,
        final int seed)
    {
        return SplitnetContainer.start(container, dir, "frontend", "--dir", SharedDirectory.MOUNT, "--name", name, "--peer", peer,
            "--duration", "10", "--max-size", "9000", "--random-fragments", "--seed", String.valueOf(seed), "--quiet",
            "--connect-timeout", "30000");
    }
}

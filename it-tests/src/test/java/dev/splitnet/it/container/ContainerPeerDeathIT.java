package dev.splitnet.it.container;

import dev.splitnet.api.XenbusState;
import dev.splitnet.cli.DeviceSnapshot;
import dev.splitnet.mmap.DeviceCounter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

import static dev.splitnet.it.container.Json.number;
import static dev.splitnet.it.container.Json.string;
import static dev.splitnet.it.container.SplitnetContainer.counter;
import static dev.splitnet.it.container.SplitnetContainer.device;
import static org.junit.jupiter.api.Assertions.*;

/** docker kill (SIGKILL) of either side, mid-stream: the survivors notice, account for every packet, and serve again. */
@ContainerTest
class ContainerPeerDeathIT
{
    @Test
    void shouldReleaseAKilledFrontendContainerKeepServingTheOtherAndAcceptANewOne() throws Exception
    {
        final long start = System.nanoTime();
        try (SharedDirectory dir = SharedDirectory.create("fdeath");
            SplitnetContainer backend = SplitnetContainer.backend("fdeath-backend", dir, "--mode", "verify");
            SplitnetContainer survivor = frontend("fdeath-survivor", dir, "survivor", "--duration", "20");
            SplitnetContainer victim = frontend("fdeath-victim", dir, "victim", "--duration", "120"))
        {
            HostView.await(dir, d -> HostView.counter(d, "victim", DeviceCounter.TX_OKAY) >= 2000
                && HostView.counter(d, "survivor", DeviceCounter.TX_OKAY) >= 2000, "traffic from both");
            final Map<String, Object> before = SplitnetContainer.stat(dir);
            assertEquals("CONNECTED", string(device(before, "victim"), "backend_state"), before.toString());
            assertEquals("CONNECTED", string(device(before, "survivor"), "backend_state"), before.toString());

            final long killedAt = System.nanoTime();
            victim.kill();
            final Path victimFile = dir.resolve("victim.dev");
            // The backend sees the doorbell socket close, ends its grants and mappings, and deletes the device file.
            while (Files.exists(victimFile))
            {
                assertTrue(System.nanoTime() - killedAt < 10_000_000_000L, "backend did not release the killed frontend: " + backend.stderr());
                Thread.sleep(10);
            }
            final long noticedMs = (System.nanoTime() - killedAt) / 1_000_000;
            assertTrue(noticedMs < 5_000, "released " + noticedMs + " ms after docker kill");
            assertEquals(137, victim.waitForExit(10), "docker reports the SIGKILL");
            assertTrue(backend.isRunning(), "backend survived: " + backend.stderr());

            final Map<String, Object> after = SplitnetContainer.stat(dir);
            assertNull(device(after, "victim"), "stat shows the killed frontend gone: " + after);
            assertNotNull(device(after, "survivor"), after.toString());
            assertEquals("CONNECTED", string(device(after, "survivor"), "backend_state"), after.toString());
            // ... and the survivor still being served after the victim was released.
            final long okayAfterKill = counter(after, "survivor", "tx_okay");
            HostView.await(dir, d -> HostView.counter(d, "survivor", DeviceCounter.TX_OKAY) > okayAfterKill + 1000,
                "survivor served after the kill");

            assertEquals(0, survivor.waitForExit(120), survivor.stderr());
            final Map<String, Object> kept = survivor.summary();
            assertTrue(number(kept, "okay") > 2000, kept.toString());
            assertEquals(number(kept, "sent"), number(kept, "okay"), "every packet of the survivor verified OKAY by the backend: " + kept);
            assertEquals(1, number(kept, "connections"), kept.toString());

            // A new frontend container takes the dead one's name: nothing of it is left to refuse it.
            try (SplitnetContainer newcomer = SplitnetContainer.start("fdeath-newcomer", dir, "frontend", "--dir", SharedDirectory.MOUNT,
                "--name", "victim", "--count", "1000", "--max-size", "9000", "--random-fragments", "--quiet", "--linger", "0"))
            {
                assertEquals(0, newcomer.waitForExit(60), newcomer.stderr());
                final Map<String, Object> summary = newcomer.summary();
                assertEquals(1000, number(summary, "sent"), summary.toString());
                assertEquals(1000, number(summary, "okay"), summary.toString());
            }
            assertTrue(backend.isRunning(), backend.stderr());
            Timings.report(String.format(Locale.ROOT, "ContainerPeerDeathIT frontend kill: noticed after %d ms, %.1f s", noticedMs,
                Timings.secondsSince(start)));
        }
    }

    @Test
    void shouldAccountForEveryPacketAndReconnectWhenTheBackendContainerIsKilledAndRestarted() throws Exception
    {
        final long start = System.nanoTime();
        try (SharedDirectory dir = SharedDirectory.create("bdeath");
            SplitnetContainer backend = SplitnetContainer.backend("bdeath-backend", dir, "--mode", "verify");
            SplitnetContainer one = frontend("bdeath-one", dir, "one", "--duration", "20", "--reconnect", "--connect-timeout", "60000");
            SplitnetContainer two = frontend("bdeath-two", dir, "two", "--duration", "20", "--reconnect", "--connect-timeout", "60000"))
        {
            HostView.await(dir, d -> HostView.counter(d, "one", DeviceCounter.TX_OKAY) >= 2000
                && HostView.counter(d, "two", DeviceCounter.TX_OKAY) >= 2000, "traffic from both");

            final long killedAt = System.nanoTime();
            backend.kill();
            assertEquals(137, backend.waitForExit(10), "docker reports the SIGKILL");
            // Both frontends see the disconnect: each reports the fate of what was in flight, closes its
            // device, and offers a new one, waiting for a backend.
            HostView.await(dir, d -> waiting(d, "one") && waiting(d, "two"), "both frontends waiting for a backend again");
            final long noticedMs = (System.nanoTime() - killedAt) / 1_000_000;
            final Map<String, Object> orphaned = SplitnetContainer.stat(dir);
            for (final String name : new String[] { "one", "two" })
            {
                final Map<String, Object> d = device(orphaned, name);
                assertNotNull(d, orphaned.toString());
                assertEquals("INITIALISED", string(d, "frontend_state"), "offered, waiting for a backend: " + orphaned);
                assertNotEquals("CONNECTED", string(d, "backend_state"), orphaned.toString());
            }
            assertTrue(one.isRunning() && two.isRunning(), "the frontends keep running: " + one.stderr() + two.stderr());

            backend.restart(); // docker start: the same container, command and directory
            backend.awaitListening(dir);
            HostView.await(dir, d -> HostView.connected(d, "one") && HostView.connected(d, "two")
                && HostView.counter(d, "one", DeviceCounter.TX_OKAY) > 0 && HostView.counter(d, "two", DeviceCounter.TX_OKAY) > 0,
                "both frontends served by the restarted backend");
            final Map<String, Object> served = SplitnetContainer.stat(dir);
            for (final String name : new String[] { "one", "two" })
            {
                assertEquals("CONNECTED", string(device(served, name), "backend_state"), served.toString());
                assertTrue(counter(served, name, "tx_okay") > 0, served.toString());
            }

            for (final SplitnetContainer frontend : List.of(one, two))
            {
                assertEquals(0, frontend.waitForExit(120), frontend.name() + ": " + frontend.stderr());
                final Map<String, Object> s = frontend.summary();
                assertTrue(number(s, "connections") >= 2, "reconnected: " + s);
                assertEquals(number(s, "sent"), number(s, "okay") + number(s, "error") + number(s, "dropped") + number(s, "disconnected"),
                    "exactly one status per packet, those in flight at the kill included: " + s);
                assertEquals(0, number(s, "error"), "the backend verified every byte it read: " + s);
                assertEquals(0, number(s, "integrity_errors"), s.toString());
                assertTrue(frontend.stderr().contains("backend disconnected"), frontend.stderr());
            }
            assertTrue(backend.isRunning(), backend.stderr());
            Timings.report(String.format(Locale.ROOT,
                "ContainerPeerDeathIT backend kill: frontends waiting again after %d ms; one %s; two %s; %.1f s", noticedMs,
                brief(one.summary()), brief(two.summary()), Timings.secondsSince(start)));
        }
    }

    /** A frontend whose (new) device exists but is not connected to a backend: it is waiting for one. */
    private static boolean waiting(final Map<String, DeviceSnapshot> devices, final String name)
    {
        final DeviceSnapshot d = devices.get(name);
        return d != null && d.backendState() != XenbusState.CONNECTED && d.get(DeviceCounter.TX_PACKETS) == 0;
    }

    private static String brief(final Map<String, Object> s)
    {
        return String.format(Locale.ROOT, "sent %d okay %d dropped %d error %d disconnected %d connections %d", number(s, "sent"),
            number(s, "okay"), number(s, "dropped"), number(s, "error"), number(s, "disconnected"), number(s, "connections"));
    }

    private static SplitnetContainer frontend(final String container, final SharedDirectory dir, final String name, final String... extra)
    {
        final List<String> args = new ArrayList<>(List.of("frontend", "--dir", SharedDirectory.MOUNT, "--name", name,
            "--max-size", "9000", "--random-fragments", "--quiet"));
        args.addAll(List.of(extra));
        return SplitnetContainer.start(container, dir, args.toArray(new String[0]));
    }
}

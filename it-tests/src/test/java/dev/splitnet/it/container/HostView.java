package dev.splitnet.it.container;

import dev.splitnet.api.XenbusState;
import dev.splitnet.cli.DeviceSnapshot;
import dev.splitnet.mmap.DeviceCounter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shared directory read from the host, the way {@code splitnet stat} reads it: cheap enough to
 * poll every few milliseconds while waiting for a moment worth asserting on (the assertions
 * themselves use what the containers report: summaries, {@code splitnet stat --json}, exit codes).
 */
final class HostView
{
    private HostView()
    {
    }

    static Map<String, DeviceSnapshot> devices(final SharedDirectory dir)
    {
        final Map<String, DeviceSnapshot> devices = new LinkedHashMap<>();
        for (final DeviceSnapshot s : DeviceSnapshot.readAll(dir.path()))
        {
            devices.put(s.name(), s);
        }
        return devices;
    }

    static long counter(final Map<String, DeviceSnapshot> devices, final String name, final DeviceCounter counter)
    {
        final DeviceSnapshot s = devices.get(name);
        return s == null ? 0 : s.get(counter);
    }

    static boolean connected(final Map<String, DeviceSnapshot> devices, final String name)
    {
        final DeviceSnapshot s = devices.get(name);
        return s != null && s.backendState() == XenbusState.CONNECTED && s.frontendState() == XenbusState.CONNECTED;
    }

    /** Waits (up to 60 s) until the devices in the directory satisfy the condition. */
    static Map<String, DeviceSnapshot> await(final SharedDirectory dir, final Predicate<Map<String, DeviceSnapshot>> condition,
        final String what) throws InterruptedException
    {
        final long deadline = System.nanoTime() + 60_000_000_000L;
        while (true)
        {
            final Map<String, DeviceSnapshot> devices = devices(dir);
            if (condition.test(devices))
            {
                return devices;
            }
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what + "; devices: " + devices);
            Thread.sleep(20);
        }
    }
}

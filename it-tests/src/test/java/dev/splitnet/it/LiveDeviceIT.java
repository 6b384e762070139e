package dev.splitnet.it;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static dev.splitnet.it.SplitnetProcess.value;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A running frontend's device is seen as live by every other process (a second frontend of its
 * name, with or without --replace, and splitnet stat), and a killed one is not shown CONNECTED.
 */
class LiveDeviceIT
{
    @TempDir
    Path dir;

    @Test
    void shouldNeverCallALiveFrontendsDeviceStaleNorReplaceIt() throws Exception
    {
        try (SplitnetProcess backend = Backends.start("live-backend", dir, "--mode", "verify");
            SplitnetProcess live = SplitnetProcess.start("live-x", "frontend", "--dir", dir.toString(), "--name", "x",
                "--duration", "20", "--max-size", "9000", "--quiet"))
        {
            awaitState("x", "CONNECTED", 30);
            for (final boolean replace : new boolean[] { false, true })
            {
                final String[] args = replace
                    ? new String[] { "frontend", "--dir", dir.toString(), "--name", "x", "--count", "1", "--connect-timeout", "2000", "--replace" }
                    : new String[] { "frontend", "--dir", dir.toString(), "--name", "x", "--count", "1", "--connect-timeout", "2000" };
                try (SplitnetProcess second = SplitnetProcess.start("live-second" + (replace ? "-replace" : ""), args))
                {
                    assertEquals(1, second.waitFor(30), second.stderr());
                    final String err = second.stderr().strip();
                    assertEquals(1, err.lines().count(), err);
                    assertTrue(err.contains("in use by a running frontend") && err.contains("--name"), err);
                    assertFalse(err.contains("stale"), "a live device is never called stale: " + err);
                }
                assertEquals("CONNECTED", stateOf(stat(), "x"), "the live frontend keeps its device after a second one tried its name");
                assertTrue(live.isAlive(), live.stderr());
            }
            assertEquals(0, live.waitFor(60), live.stderr());
            final String summary = live.lastLine();
            assertTrue(value(summary, "okay") > 0, summary);
            assertEquals(value(summary, "sent"), value(summary, "okay"), "every packet of the live frontend okay: " + summary);
            assertTrue(backend.isAlive(), backend.stderr());
        }
    }

    @Test
    void shouldNotShowAKilledFrontendAsConnected() throws Exception
    {
        try (SplitnetProcess backend = Backends.start("killed-backend", dir, "--mode", "sink");
            SplitnetProcess victim = SplitnetProcess.start("killed-y", "frontend", "--dir", dir.toString(), "--name", "y",
                "--duration", "60", "--quiet"))
        {
            awaitState("y", "CONNECTED", 30);
            victim.kill();
            final long killedAt = System.nanoTime();
            String state = "CONNECTED";
            while ("CONNECTED".equals(state) && System.nanoTime() - killedAt < 10_000_000_000L)
            {
                state = stateOf(stat(), "y");
            }
            assertNotEquals("CONNECTED", state, "a killed frontend is not shown as connected 10 s later");
            assertTrue(backend.isAlive(), backend.stderr());
        }
    }

    private void awaitState(final String name, final String state, final int seconds) throws Exception
    {
        final long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        String json = "";
        while (System.nanoTime() < deadline)
        {
            json = stat();
            if (state.equals(stateOf(json, name)))
            {
                return;
            }
            Thread.sleep(100);
        }
        fail(name + " not " + state + " within " + seconds + " s: " + json);
    }

    private String stat() throws Exception
    {
        try (SplitnetProcess stat = SplitnetProcess.start("live-stat", "stat", dir.toString(), "--json"))
        {
            assertEquals(0, stat.waitFor(30), stat.stderr());
            return stat.lastLine();
        }
    }

    /** The backend state stat shows for the device of this name, or null when it shows none. */
    static String stateOf(final String json, final String name)
    {
        final Matcher m = Pattern.compile("\\{\"name\":\"" + Pattern.quote(name) + "\"[^{}]*\"backend_state\":\"([A-Z_]+)\"").matcher(json);
        return m.find() ? m.group(1) : null;
    }
}

package dev.splitnet.it.container;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

import static dev.splitnet.it.container.Json.number;
import static dev.splitnet.it.container.SplitnetContainer.device;
import static org.junit.jupiter.api.Assertions.*;

/**
 * What goes wrong when containers are wired up wrongly: each process says what in one line and
 * exits non-zero; a frontend started before its backend waits for it.
 */
@ContainerTest
class ContainerBadInputIT
{
    @Test
    void shouldWaitForABackendContainerStartedAfterTheFrontend() throws Exception
    {
        try (SharedDirectory dir = SharedDirectory.create("early");
            SplitnetContainer frontend = SplitnetContainer.start("early-frontend", dir, "frontend", "--dir", SharedDirectory.MOUNT,
                "--name", "early", "--connect-timeout", "60000", "--count", "500", "--max-size", "9000", "--quiet", "--linger", "0"))
        {
            // Its device file is there, offered but not connected: it waits for a backend.
            HostView.await(dir, d -> d.containsKey("early"), "the early frontend's device");
            Thread.sleep(1000);
            final Map<String, Object> waiting = SplitnetContainer.stat(dir);
            assertTrue(frontend.isRunning(), "still waiting: " + frontend.stderr());
            assertNotNull(device(waiting, "early"), waiting.toString());
            assertEquals("INITIALISED", device(waiting, "early").get("frontend_state"), waiting.toString());
            assertNotEquals("CONNECTED", device(waiting, "early").get("backend_state"), waiting.toString());
            assertFalse(Files.exists(dir.resolve("backend.sock")));

            try (SplitnetContainer backend = SplitnetContainer.backend("early-backend", dir, "--mode", "sink"))
            {
                assertEquals(0, frontend.waitForExit(60), frontend.stderr());
                final Map<String, Object> summary = frontend.summary();
                assertEquals(500, number(summary, "sent"), summary.toString());
                assertEquals(500, number(summary, "okay"), summary.toString());
                assertEquals(1, number(summary, "connections"), summary.toString());
                assertTrue(backend.isRunning(), backend.stderr());
            }
        }
    }

    @Test
    void shouldNeverCallALiveFrontendInAnotherContainerStale() throws Exception
    {
        try (SharedDirectory dir = SharedDirectory.create("livename");
            SplitnetContainer backend = SplitnetContainer.backend("livename-backend", dir, "--mode", "sink");
            SplitnetContainer live = SplitnetContainer.start("livename-x", dir, "frontend", "--dir", SharedDirectory.MOUNT,
                "--name", "x", "--duration", "60", "--quiet"))
        {
            HostView.await(dir, d -> d.containsKey("x") && String.valueOf(d.get("x").backendState()).equals("CONNECTED"), "the live frontend connected");
            for (final String replace : new String[] { "--quiet", "--replace" })
            {
                try (SplitnetContainer second = SplitnetContainer.start("livename-second" + replace.substring(1), dir, "frontend",
                    "--dir", SharedDirectory.MOUNT, "--name", "x", "--count", "1", "--connect-timeout", "2000", replace))
                {
                    assertEquals(1, second.waitForExit(60), second.stderr());
                    final List<String> errors = second.errorLines();
                    assertEquals(1, errors.size(), second.stderr());
                    assertTrue(errors.get(0).contains("in use by a running frontend") && !errors.get(0).contains("stale"), errors.get(0));
                }
                final Map<String, Object> stat = SplitnetContainer.stat(dir);
                assertEquals("CONNECTED", device(stat, "x").get("backend_state"), "the live device is kept: " + stat);
                assertTrue(live.isRunning(), live.stderr());
            }
        }
    }

    @Test
    void shouldRefuseAReadOnlySharedDirectoryInOneLine() throws Exception
    {
        try (SharedDirectory dir = SharedDirectory.create("readonly"))
        {
            for (final String[] args : List.of(
                new String[] { "backend", "--dir", SharedDirectory.MOUNT },
                new String[] { "frontend", "--dir", SharedDirectory.MOUNT, "--name", "ro", "--count", "1" }))
            {
                try (SplitnetContainer c = SplitnetContainer.start("readonly-" + args[0], dir, SplitnetContainer.Mount.READ_ONLY, args))
                {
                    final int code = c.waitForExit(60);
                    assertNotEquals(0, code, c.stderr());
                    assertEquals(List.of("splitnet " + args[0] + ": directory /splitnet is not writable; fix its permissions or choose another directory (--dir)"),
                        c.errorLines(), "one line saying what is wrong: " + c.stderr());
                    assertEquals("", c.lastLine(), "no summary for a run that never started");
                }
            }
            try (var files = Files.list(dir.path()))
            {
                assertEquals(List.of(), files.toList(), "nothing written into the read-only directory");
            }
        }
    }

    @Test
    void shouldTellAFrontendStartedWithTheWrongDirectoryThatNoBackendListensThere() throws Exception
    {
        try (SharedDirectory dir = SharedDirectory.create("wrongdir");
            SplitnetContainer backend = SplitnetContainer.backend("wrongdir-backend", dir, "--mode", "sink");
            SplitnetContainer frontend = SplitnetContainer.start("wrongdir-frontend", dir, "frontend", "--dir", "/splitnet/elsewhere",
                "--name", "lost", "--connect-timeout", "1000", "--count", "1"))
        {
            assertEquals(1, frontend.waitForExit(60), frontend.stderr());
            final List<String> errors = frontend.errorLines();
            assertEquals(1, errors.size(), frontend.stderr());
            assertTrue(errors.get(0).startsWith("splitnet frontend: no backend is listening on /splitnet/elsewhere/backend.sock")
                && errors.get(0).contains("start a backend in /splitnet/elsewhere or wait longer for one (the connect timeout) "
                    + "('splitnet backend --dir DIR' starts one; --connect-timeout waits longer)"),
                errors.get(0));
            assertFalse(Files.exists(dir.resolve("elsewhere/lost.dev")), "a frontend that gave up leaves no device file");
            assertTrue(backend.isRunning(), backend.stderr());
        }
    }

    @Test
    void shouldFailClearlyWithoutTheSharedDirectory() throws Exception
    {
        try (SharedDirectory dir = SharedDirectory.create("nodir"))
        {
            // The volume was forgotten: /splitnet is not in the image.
            try (SplitnetContainer frontend = SplitnetContainer.start("nodir-frontend", dir, SplitnetContainer.Mount.NONE, "frontend",
                "--dir", SharedDirectory.MOUNT, "--name", "orphan", "--connect-timeout", "1000", "--count", "1"))
            {
                assertEquals(1, frontend.waitForExit(60), frontend.stderr());
                final List<String> errors = frontend.errorLines();
                assertEquals(1, errors.size(), frontend.stderr());
                // As a user: /splitnet cannot be created in the image's root. As root: it can, but no backend is there.
                assertTrue(errors.get(0).equals("splitnet frontend: cannot create directory /splitnet: permission denied; choose another directory (--dir)")
                    || errors.get(0).startsWith("splitnet frontend: no backend is listening on /splitnet/backend.sock"), errors.get(0));
            }
            // A directory that is not there at all, for stat.
            try (SplitnetContainer stat = SplitnetContainer.start("nodir-stat", dir, "stat", "/splitnet/missing", "--json"))
            {
                assertEquals(1, stat.waitForExit(60), stat.stderr());
                assertEquals(List.of("splitnet stat: directory /splitnet/missing does not exist; use the directory the backend uses"),
                    stat.errorLines());
            }
        }
    }
}

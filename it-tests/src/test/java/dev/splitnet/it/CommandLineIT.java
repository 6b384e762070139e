package dev.splitnet.it;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static dev.splitnet.it.SplitnetProcess.value;
import static org.junit.jupiter.api.Assertions.*;

/** The command line: bad input gets one clear line and a non-zero exit; the demo and the tools report. */
class CommandLineIT
{
    @TempDir
    Path dir;

    @Test
    void shouldRejectAnUnknownFlagWithOneLineAndExitTwo() throws Exception
    {
        try (SplitnetProcess p = SplitnetProcess.start("cli-bad-flag", "backend", "--no-such-flag"))
        {
            assertEquals(2, p.waitFor(30));
            final String err = p.stderr().strip();
            assertEquals(1, err.lines().count(), err);
            assertTrue(err.contains("Unknown option: '--no-such-flag'") && err.contains("splitnet backend --help"), err);
        }
    }

    @Test
    void shouldRejectAnUnknownOrReservedFeatureWithOneLine() throws Exception
    {
        try (SplitnetProcess p = SplitnetProcess.start("cli-bad-feature", "frontend", "--dir", dir.toString(), "--features", "header-slots,warp-drive"))
        {
            assertEquals(2, p.waitFor(30));
            final String err = p.stderr().strip();
            assertEquals(1, err.lines().count(), err);
            assertTrue(err.contains("unknown feature=warp-drive") && err.contains("frame-spans") && err.contains("frontend --help"), err);
        }
        try (SplitnetProcess p = SplitnetProcess.start("cli-lazy-alone", "frontend", "--dir", dir.toString(), "--features", "lazy-rx"))
        {
            assertEquals(2, p.waitFor(30));
            final String err = p.stderr().strip();
            assertEquals(1, err.lines().count(), err);
            assertTrue(err.contains("lazy-rx needs permanent-grants"), err);
        }
    }

    @Test
    void shouldRefuseADirectoryWhoseParentIsMissingAtOnce() throws Exception
    {
        final Path missing = dir.resolve("no-such-parent").resolve("x");
        try (SplitnetProcess p = SplitnetProcess.start("cli-missing-parent", "frontend", "--dir", missing.toString(), "--count", "1"))
        {
            assertEquals(1, p.waitFor(30));
            final String err = p.stderr().strip();
            assertTrue(err.contains("cannot create directory " + missing + ": its parent " + missing.getParent()
                + " does not exist"), err);
            assertFalse(Files.exists(missing.getParent()), "no tree was built");
        }
    }

    @Test
    void shouldListBenchInTheHelp() throws Exception
    {
        try (SplitnetProcess p = SplitnetProcess.start("cli-help", "--help"))
        {
            assertEquals(0, p.waitFor(30));
            assertTrue(p.stdout().contains("bench") && p.stdout().contains("Aeron IPC"), p.stdout());
        }
    }

    @Test
    void shouldNameTheMissingJvmFlagsAtOnce() throws Exception
    {
        // the launcher's command without its @jvm.options
        final java.util.List<String> command = new java.util.ArrayList<>(SplitnetProcess.javaCommand("dev.splitnet.cli.Main"));
        command.removeIf(arg -> arg.startsWith("@"));
        for (final String role : new String[] {"backend", "frontend"})
        {
            final java.util.List<String> run = new java.util.ArrayList<>(command);
            run.addAll(java.util.List.of(role, "--dir", dir.resolve("noflags").toString()));
            final Process p = new ProcessBuilder(run).redirectErrorStream(true).start();
            final String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
            assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS));
            assertEquals(1, p.exitValue(), out);
            assertEquals(1, out.lines().count(), out);
            assertTrue(out.contains("this JVM lacks the flags splitnet needs: --add-exports=java.base/jdk.internal.misc=ALL-UNNAMED")
                && out.contains("--add-opens=java.base/sun.nio.ch=ALL-UNNAMED") && out.contains("jvm.options"), out);
        }
        assertFalse(Files.exists(dir.resolve("noflags")), "nothing was created");
    }

    @Test
    void shouldRefuseADirectoryOtherUsersMayEnterWithOneLine() throws Exception
    {
        final Path open = Files.createDirectory(dir.resolve("open"));
        Files.setPosixFilePermissions(open, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        try (SplitnetProcess p = SplitnetProcess.start("cli-open-dir", "backend", "--dir", open.toString()))
        {
            assertEquals(1, p.waitFor(30));
            final String err = p.stderr().strip();
            assertEquals(1, err.lines().count(), err);
            assertTrue(err.contains("directory " + open + " has mode 0755: other users may enter it; run chmod 700 " + open), err);
            assertFalse(Files.exists(open.resolve("backend.sock")), "nothing left listening");
        }
    }

    @Test
    void shouldTellWhatToDoWhenNoBackendListens() throws Exception
    {
        try (SplitnetProcess p = SplitnetProcess.start("cli-no-backend", "frontend", "--dir", dir.toString(), "--name", "lonely",
            "--connect-timeout", "300", "--count", "1"))
        {
            assertEquals(1, p.waitFor(30));
            assertTrue(p.stderr().contains("no backend is listening") && p.stderr().contains("splitnet backend --dir"), p.stderr());
            assertFalse(Files.exists(dir.resolve("lonely.dev")), "a failed frontend leaves no device file");
        }
    }

    @Test
    void shouldWaitForABackendStartedAfterTheFrontend() throws Exception
    {
        try (SplitnetProcess frontend = SplitnetProcess.start("cli-early-frontend", "frontend", "--dir", dir.toString(),
            "--name", "early", "--connect-timeout", "30000", "--count", "100", "--quiet", "--linger", "0"))
        {
            Thread.sleep(1500);
            try (SplitnetProcess backend = Backends.start("cli-late-backend", dir, "--mode", "sink"))
            {
                assertEquals(0, frontend.waitFor(60), frontend.stderr());
                assertEquals(100, value(frontend.lastLine(), "okay"));
            }
        }
    }

    @Test
    void shouldRefuseAStaleDeviceFileUnlessReplaceIsGiven() throws Exception
    {
        try (SplitnetProcess backend = Backends.start("cli-stale-backend", dir, "--mode", "sink"))
        {
            Files.write(dir.resolve("ghost.dev"), new byte[8192]);
            try (SplitnetProcess p = SplitnetProcess.start("cli-stale", "frontend", "--dir", dir.toString(), "--name", "ghost", "--count", "1"))
            {
                assertEquals(1, p.waitFor(30));
                assertTrue(p.stderr().contains("stale device file") && p.stderr().contains("--replace"), p.stderr());
            }
            try (SplitnetProcess p = SplitnetProcess.start("cli-replace", "frontend", "--dir", dir.toString(), "--name", "ghost",
                "--count", "10", "--replace", "--quiet", "--linger", "0"))
            {
                assertEquals(0, p.waitFor(30), p.stderr());
                assertEquals(10, value(p.lastLine(), "okay"));
            }
        }
    }

    @Test
    void shouldRefuseASecondBackendInTheSameDirectory() throws Exception
    {
        try (SplitnetProcess first = Backends.start("cli-first-backend", dir, "--mode", "sink");
            SplitnetProcess second = SplitnetProcess.start("cli-second-backend", "backend", "--dir", dir.toString()))
        {
            assertEquals(1, second.waitFor(30));
            assertTrue(second.stderr().contains("another backend is running"), second.stderr());
            assertTrue(first.isAlive());
        }
    }

    @Test
    void shouldFailClearlyOnAMissingDirectory() throws Exception
    {
        try (SplitnetProcess p = SplitnetProcess.start("cli-missing-dir", "stat", dir.resolve("nope").toString(), "--json"))
        {
            assertEquals(1, p.waitFor(30));
            assertTrue(p.stderr().contains("does not exist"), p.stderr());
        }
    }

    @Test
    void shouldShowLiveCountersAndLayoutOfARunningDevice() throws Exception
    {
        try (SplitnetProcess backend = Backends.start("cli-stat-backend", dir, "--mode", "verify");
            SplitnetProcess frontend = SplitnetProcess.start("cli-stat-frontend", "frontend", "--dir", dir.toString(),
                "--name", "watched", "--duration", "30", "--max-size", "4000", "--quiet",
                "--features", "header-slots,permanent-grants,frame-spans,ring-v2"))
        {
            final Path device = dir.resolve("watched.dev");
            String json = "";
            final long deadline = System.nanoTime() + 30_000_000_000L;
            while (System.nanoTime() < deadline)
            {
                try (SplitnetProcess stat = SplitnetProcess.start("cli-stat", "stat", dir.toString(), "--json"))
                {
                    assertEquals(0, stat.waitFor(30), stat.stderr());
                    json = stat.lastLine();
                }
                if (json.contains("\"CONNECTED\"") && json.contains("\"be_tx_packets\":") && value(json, "be_tx_packets") > 0)
                {
                    break;
                }
            }
            assertTrue(json.contains("\"name\":\"watched\"") && json.contains("\"backend_state\":\"CONNECTED\""), json);
            assertTrue(value(json, "payload_faults") > 0, json);
            try (SplitnetProcess layout = SplitnetProcess.start("cli-layout", "layout", device.toString()))
            {
                assertEquals(0, layout.waitFor(30), layout.stderr());
                final String regions = layout.lastLine();
                // the memory is sealed (seen through the backend); the file in the directory is its 32-byte claim
                assertEquals(dev.splitnet.mmap.ClaimFile.LENGTH, Files.size(device));
                assertTrue(regions.contains("\"memory\":\"sealed\""), regions);
                // the frontend offered ring v2 and the backend takes it: one page holds 128 entries each way
                assertTrue(regions.contains("\"rings\":{\"format\":\"ring-v2\",\"tx_entries\":128,\"rx_entries\":128}"), regions);
                assertEquals(DeviceFileIT.DEFAULT_FILE_LENGTH, value(regions, "file_length"), regions);
                for (final String region : new String[] { "control", "tx_ring", "rx_ring", "header_slots", "grant_table", "p2m",
                    "counters_metadata", "counters_values", "frames" })
                {
                    assertTrue(regions.contains("\"name\":\"" + region + "\""), region + " missing from " + regions);
                }
            }
            frontend.terminate();
        }
    }

    @Test
    void shouldRunTheDemoAndSummariseItInOneJsonLine() throws Exception
    {
        try (SplitnetProcess demo = SplitnetProcess.start("cli-demo", "demo", "--duration", "3", "--dir", dir.resolve("demo").toString()))
        {
            assertEquals(0, demo.waitFor(120), demo.stderr());
            final String json = demo.lastLine();
            assertTrue(json.contains("\"frontend_pids\":["), json);
            assertTrue(value(json, "backend_pid") > 0, json);
            assertTrue(value(json, "packets_sent") > 1000, json);
            assertTrue(value(json, "packets_received") > 0, json);
            assertEquals(0, value(json, "integrity_errors"), json);
            assertTrue(value(json, "payload_faults") > 0, "frames switched between frontends are read: " + json);
            assertTrue(value(json, "received_on_wire") > 0, json);
            assertTrue(value(json, "header_bytes_copied") >= 64 * value(json, "packets_sent") - 64 * 512, json);
            assertEquals(value(json, "packets_sent"), value(json, "tx_okay") + value(json, "tx_dropped") + value(json, "tx_error"), json);
            assertTrue(value(json, "dropped_no_rx_buffer") <= value(json, "tx_dropped"), json);
            final String err = demo.stderr();
            assertTrue(err.contains("splitnet demo: each second, per frontend the packets it sent and received;"), "one line explains the figures: " + err);
            assertFalse(err.contains("pins"), "with permanent grants nothing is pinned: the line shows zero-copy bytes: " + err);
            if (value(json, "tx_dropped") > 0)
            {
                assertTrue(err.contains(value(json, "tx_dropped") + " packets DROPPED, " + value(json, "dropped_no_rx_buffer")
                    + " of them for want of receive buffers"), "the demo says why packets were dropped: " + err);
            }
            // progress once a second, labelled with the wall time elapsed; totals never go backwards
            final java.util.regex.Matcher line = java.util.regex.Pattern.compile(
                "\\[demo +(\\d+\\.\\d) s\\] a: sent (\\d+), received (\\d+) \\| b: sent (\\d+), received (\\d+) \\| wire: (\\d+) datagrams"
                + " \\| copied (\\d+), payload faults (\\d+) \\| zero-copy bytes (\\d+) \\| dropped (\\d+) \\(no RX buffer (\\d+)\\)").matcher(err);
            double lastElapsed = 0;
            long[] last = new long[10];
            int lines = 0;
            while (line.find())
            {
                final double elapsed = Double.parseDouble(line.group(1));
                // at least 0.9 s apart; at most 3.5 s (slack for a loaded machine, where the demo's thread may wait its turn)
                assertTrue(lines == 0 || elapsed >= lastElapsed + 0.85 && elapsed <= lastElapsed + 3.5, "about a second apart: " + err);
                for (int i = 0; i < last.length; i++)
                {
                    final long now = Long.parseLong(line.group(i + 2));
                    assertTrue(now >= last[i], "a total went backwards (figure " + i + "): " + err);
                    last[i] = now;
                }
                lastElapsed = elapsed;
                lines++;
            }
            assertTrue(lines >= 3, "a progress line each second of a 3 s run (both frontends connected): " + err);
        }
    }

    @Test
    void shouldRefuseEveryBadDemoOptionAtOnce() throws Exception
    {
        final String[][] bad = {
            { "--duration", "-1" }, { "--duration", "0" }, { "--duration", "NaN" }, { "--wire-percent", "101" },
            { "--idle", "sideways" }, { "--min-size", "100", "--max-size", "10" }, { "--dir", dir.resolve("no/such/demo").toString() } };
        for (final String[] args : bad)
        {
            final String[] command = new String[args.length + 1];
            command[0] = "demo";
            System.arraycopy(args, 0, command, 1, args.length);
            try (SplitnetProcess demo = SplitnetProcess.start("cli-demo-bad", command))
            {
                assertEquals(2, demo.waitFor(30), String.join(" ", args) + ": " + demo.stderr());
                final String err = demo.stderr().strip();
                assertEquals(1, err.lines().count(), err);
                assertTrue(err.contains(args[0].equals("--max-size") ? "--min-size" : args[0]), err);
                assertEquals("", demo.stdout(), "no run, no summary");
            }
        }
        assertFalse(java.nio.file.Files.exists(dir.resolve("no")), "nothing made for a refused --dir");
    }

    @Test
    void shouldKillItsJvmsAndRemoveItsDirectoryWhenTerminated() throws Exception
    {
        try (SplitnetProcess demo = SplitnetProcess.start("cli-demo-term", "demo", "--duration", "60"))
        {
            final java.util.regex.Pattern started = java.util.regex.Pattern.compile(
                "backend pid (\\d+), frontends (\\d+) and (\\d+), dir (\\S+),");
            java.util.regex.Matcher m = started.matcher("");
            final long deadline = System.nanoTime() + 60_000_000_000L;
            while (!(m = started.matcher(demo.stderr())).find())
            {
                assertTrue(demo.isAlive() && System.nanoTime() < deadline, demo.stderr());
                Thread.sleep(50);
            }
            final Path demoDir = Path.of(m.group(4));
            assertTrue(Files.isDirectory(demoDir), demoDir.toString());
            Thread.sleep(1500); // traffic flows
            demo.terminate();
            assertFalse(demo.isAlive(), demo.stderr());
            for (int i = 1; i <= 3; i++)
            {
                final long pid = Long.parseLong(m.group(i));
                assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "child " + pid + " outlived the demo");
            }
            assertFalse(Files.exists(demoDir), "SIGTERM left " + demoDir);
        }
    }
}

package dev.splitnet.it;

import java.nio.file.Files;
import java.nio.file.Path;

/** Starting a backend process and waiting until it listens. */
final class Backends
{
    private Backends()
    {
    }

    static SplitnetProcess start(final String logName, final Path dir, final String... extra) throws Exception
    {
        final String[] args = new String[4 + extra.length];
        args[0] = "backend";
        args[1] = "--dir";
        args[2] = dir.toString();
        args[3] = "--quiet";
        System.arraycopy(extra, 0, args, 4, extra.length);
        final SplitnetProcess backend = SplitnetProcess.start(logName, args);
        final long deadline = System.nanoTime() + 30_000_000_000L;
        while (!Files.exists(dir.resolve("backend.sock")))
        {
            if (!backend.isAlive() || System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("backend did not start: " + backend.stderr());
            }
            Thread.sleep(20);
        }
        return backend;
    }
}

package dev.splitnet.backend.fuzz;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The long fuzz run, for {@code scripts/fuzz}: {@code --fields N --seed S [--no-cross]
 * [--truncate] [--progress SECONDS] [--log] [--hold] [--dir DIR]}; {@code --hold} runs the holding mode
 * (the switch holds packets past its handler, see {@link Holder}). Prints progress and the final accounting; exits 1 on
 * any violation.
 */
public final class FuzzMain
{
    private FuzzMain()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        long fields = Long.getLong(FuzzRun.FIELDS_PROP, 100_000_000L);
        long seed = FuzzRun.seedFromProperties();
        boolean cross = !"false".equals(System.getProperty(FuzzRun.CROSS_PROP));
        // off by default, as in the CI test: see HostileFrontendFuzzTest on late memory faults
        boolean truncate = Boolean.getBoolean(FuzzRun.TRUNCATE_PROP);
        long progress = Long.getLong(FuzzRun.PROGRESS_PROP, 10);
        boolean log = Boolean.getBoolean(FuzzRun.LOG_PROP);
        boolean hold = Boolean.getBoolean(FuzzRun.HOLD_PROP);
        Path dir = null;
        for (int i = 0; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--fields" -> fields = (long)Double.parseDouble(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--no-cross" -> cross = false;
                case "--no-truncate" -> truncate = false;
                case "--truncate" -> truncate = true;
                case "--progress" -> progress = Long.parseLong(args[++i]);
                case "--log" -> log = true;
                case "--hold" -> hold = true;
                case "--dir" -> dir = Path.of(args[++i]);
                default ->
                {
                    System.err.println("usage: fuzz [--fields N] [--seed S] [--no-cross] [--truncate] [--progress SECONDS] [--log] [--hold] [--dir DIR]; unknown: " + args[i]);
                    System.exit(2);
                }
            }
        }
        final Path runDir = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("splitnet-fuzz");
        final FuzzAccounting accounting = new FuzzRun(runDir, seed, fields, cross, truncate, progress, log, System.out).hold(hold).run();
        System.out.flush();
        // threads of a failed run may still be stuck in the backend: exit without waiting for them
        Runtime.getRuntime().halt(accounting.failed() ? 1 : 0);
    }
}

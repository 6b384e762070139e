package dev.splitnet.cli;

import dev.splitnet.api.SplitnetException;
import dev.splitnet.mmap.JvmFlags;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code splitnet} command: backend, frontend, demo, stat, layout. */
@Command(name = "splitnet", mixinStandardHelpOptions = true, version = "splitnet 0.1.0",
    description = "Xen-style split network driver between JVM processes over a shared memory-mapped file.",
    footer = {"", "Also, from the ./splitnet launcher:",
        "  bench     Runs splitnet against Aeron IPC, an Agrona ring and Unix sockets (--full: every case; --help)."},
    subcommands = { BackendCommand.class, FrontendCommand.class, DemoCommand.class, StatCommand.class, LayoutCommand.class })
public final class Main implements Runnable
{
    @Override
    public void run()
    {
        throw new CommandLine.ParameterException(new CommandLine(this), "name a command: backend, frontend, demo, stat or layout");
    }

    public static void main(final String[] args)
    {
        System.exit(execute(args));
    }

    /** Runs a command line; returns the exit code (2 for a wrong command line, 1 for a failure). */
    public static int execute(final String... args)
    {
        final CommandLine commandLine = new CommandLine(new Main());
        commandLine.setParameterExceptionHandler((ex, arguments) ->
        {
            final CommandLine failed = ex.getCommandLine();
            System.err.println("splitnet: " + ex.getMessage() + "; see '" + failed.getCommandSpec().qualifiedName() + " --help'");
            return 2;
        });
        commandLine.setExecutionExceptionHandler((ex, failed, parseResult) ->
        {
            if (ex instanceof SplitnetException || ex instanceof IllegalArgumentException || ex instanceof IllegalStateException)
            {
                System.err.println("splitnet " + failed.getCommandName() + ": " + CommandLineAdvice.describe(ex, failed.getCommandName()));
                return 1;
            }
            throw ex;
        });
        // the JVM flags are checked before any command runs (help needs none), so that a missing
        // one is one line naming it, not an IllegalAccessError from deep inside Agrona
        commandLine.setExecutionStrategy(parseResult ->
        {
            final Integer helped = CommandLine.executeHelpRequest(parseResult);
            if (helped != null)
            {
                return helped;
            }
            try
            {
                JvmFlags.check();
            }
            catch (final SplitnetException ex)
            {
                System.err.println("splitnet: " + ex.getMessage());
                return 1;
            }
            return new CommandLine.RunLast().execute(parseResult);
        });
        return commandLine.execute(args);
    }
}

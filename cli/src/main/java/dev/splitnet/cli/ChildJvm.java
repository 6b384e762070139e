package dev.splitnet.cli;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/** Starts another splitnet command in a new JVM with this JVM's flags and class path. */
public final class ChildJvm
{
    private ChildJvm()
    {
    }

    /** The command line for {@code splitnet ARGS...} in a new JVM. */
    public static List<String> command(final String... args)
    {
        final List<String> command = new ArrayList<>();
        command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        for (final String arg : ManagementFactory.getRuntimeMXBean().getInputArguments())
        {
            // the flags splitnet needs (jvm.options), system properties; not a debugger agent
            if (!arg.startsWith("-agentlib") && !arg.startsWith("-javaagent"))
            {
                command.add(arg);
            }
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Main.class.getName());
        command.addAll(List.of(args));
        return command;
    }

    /** Starts it with stdout piped to the caller and stderr appended to {@code log}. */
    public static Process start(final Path log, final String... args) throws java.io.IOException
    {
        final ProcessBuilder builder = new ProcessBuilder(command(args));
        builder.redirectError(ProcessBuilder.Redirect.appendTo(new File(log.toString())));
        builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        return builder.start();
    }
}

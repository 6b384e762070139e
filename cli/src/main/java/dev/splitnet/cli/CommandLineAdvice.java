package dev.splitnet.cli;

import dev.splitnet.api.SplitnetException;

/**
 * The command line's part of an error message: the library says which setting to change (its
 * {@link dev.splitnet.api.Remedy}), this names the option that changes it.
 */
final class CommandLineAdvice
{
    private CommandLineAdvice()
    {
    }

    /** The library's message followed by the option of {@code command} to use, if one helps. */
    static String describe(final Throwable failure, final String command)
    {
        final String message = failure.getMessage();
        if (!(failure instanceof SplitnetException))
        {
            return message;
        }
        switch (((SplitnetException)failure).remedy())
        {
            case DIRECTORY:
                // stat and layout take the directory or file as their argument, not as --dir
                return command.equals("stat") || command.equals("layout") ? message : message + " (--dir)";
            case NAME:
                return message + " (--name)";
            case REPLACE_STALE:
                return message + " (--replace)";
            case START_BACKEND:
                return message + " ('splitnet backend --dir DIR' starts one; --connect-timeout waits longer)";
            case MORE_SPACE:
                return message + " (--dir)";
            default:
                return message;
        }
    }
}

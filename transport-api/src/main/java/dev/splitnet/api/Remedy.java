package dev.splitnet.api;

/**
 * What the caller can change to get past a {@link SplitnetException}, beyond what its message
 * says. The library's messages speak of the setting (a directory, a name); a tool adds how its
 * users change it (the command line names its option).
 */
public enum Remedy
{
    /** No setting to change: the message says what to do. */
    NONE,
    /** Use another directory (the contexts' {@code directory}). */
    DIRECTORY,
    /** Use another frontend name ({@code FrontendContext.name}). */
    NAME,
    /** Delete the stale device file or let the frontend replace it ({@code FrontendContext.replaceStale}). */
    REPLACE_STALE,
    /** Start a backend in the directory, or wait longer for one ({@code FrontendContext.connectTimeoutMs}). */
    START_BACKEND,
    /** Use a directory on a file system with more free space (in a container: more shared memory). */
    MORE_SPACE
}

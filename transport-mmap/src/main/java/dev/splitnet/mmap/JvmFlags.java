package dev.splitnet.mmap;

import dev.splitnet.api.SplitnetException;
import java.util.ArrayList;
import java.util.List;

/**
 * The JVM flags splitnet needs on Java 17 (the repository's {@code jvm.options}), checked when a
 * frontend or backend is created so that a missing one fails at once with one message naming it,
 * not later with an {@code IllegalAccessError} on another thread or a handshake timeout.
 */
public final class JvmFlags
{
    /** Agrona's UnsafeBuffer, every flyweight over shared memory, uses jdk.internal.misc.Unsafe. */
    public static final String AGRONA_UNSAFE = "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED";
    /** The backend reads a connecting process's credentials (SO_PEERCRED) from its socket's descriptor. */
    public static final String SOCKET_DESCRIPTOR = "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED";

    private JvmFlags()
    {
    }

    /** The flags this JVM lacks, with why each is needed; empty when it has them all. */
    public static List<String> missing()
    {
        final Module base = Object.class.getModule();
        final Module splitnet = JvmFlags.class.getModule();
        final List<String> missing = new ArrayList<>(2);
        if (!base.isExported("jdk.internal.misc", splitnet))
        {
            missing.add(AGRONA_UNSAFE + " (Agrona's Unsafe, behind every view of shared memory)");
        }
        if (!base.isExported("sun.nio.ch", splitnet))
        {
            missing.add(SOCKET_DESCRIPTOR + " (a socket's descriptor, for the connecting process's credentials)");
        }
        return missing;
    }

    /**
     * @throws SplitnetException naming every missing flag and what to do, when one is missing.
     */
    public static void check()
    {
        final List<String> missing = missing();
        if (!missing.isEmpty())
        {
            throw new SplitnetException("this JVM lacks the flags splitnet needs: " + String.join(", ", missing)
                + "; start java with them (the splitnet repository's jvm.options holds them: java @jvm.options ...)");
        }
    }
}

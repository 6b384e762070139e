package dev.splitnet.it.container;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * The one thing the containers share: a host directory (on /dev/shm when it is writable, so the
 * device files are in memory as in production) bind-mounted at {@value #MOUNT} in each of them,
 * holding the device files and the backend's Unix socket. The containers run as the test JVM's
 * uid:gid, so what they create belongs to whoever runs the tests and is deleted afterwards.
 */
final class SharedDirectory implements AutoCloseable
{
    /** Where every container sees the directory. */
    static final String MOUNT = "/splitnet";

    private final Path path;
    private final String user;

    private SharedDirectory(final Path path, final String user)
    {
        this.path = path;
        this.user = user;
    }

    static SharedDirectory create(final String name) throws IOException
    {
        final Path shm = Paths.get("/dev/shm");
        final Path parent = Files.isDirectory(shm) && Files.isWritable(shm)
            ? shm : Paths.get(System.getProperty("splitnet.image.work", "target/splitnet-image")).toAbsolutePath();
        Files.createDirectories(parent);
        final Path path = Files.createTempDirectory(parent, "splitnet-it-" + name + "-");
        final int uid = (Integer)Files.getAttribute(path, "unix:uid");
        final int gid = (Integer)Files.getAttribute(path, "unix:gid");
        return new SharedDirectory(path, uid + ":" + gid);
    }

    /** The directory on the host. */
    Path path()
    {
        return path;
    }

    /** A file in it, as the host sees it. */
    Path resolve(final String name)
    {
        return path.resolve(name);
    }

    /** uid:gid of the test JVM, the user the containers run as. */
    String user()
    {
        return user;
    }

    @Override
    public void close() throws IOException
    {
        SplitnetImage.deleteTree(path);
    }
}

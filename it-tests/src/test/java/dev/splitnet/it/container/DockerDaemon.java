package dev.splitnet.it.container;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.testcontainers.DockerClientFactory;

/**
 * Is there a Docker daemon the container tests can use? Asked once per test JVM.
 *
 * <p>The probe first looks for the daemon's Unix socket and pings it ({@code GET /_ping}) itself,
 * so that a machine without Docker skips the tests with one line instead of Testcontainers' page
 * of errors; only when a daemon answers is Testcontainers asked too. The ping also reports the
 * daemon's API version: when it is older than the one docker-java asks for first (1.44), the
 * system property {@code api.version} is set to it (unless already given) so the first request
 * is not refused.
 */
final class DockerDaemon
{
    /** How to turn the container tests on, for the skip line and the failure message. */
    static final String HOW_TO_ENABLE = "install docker.io and start dockerd, or run .ci/run";

    /** What the probe found. */
    record Probe(boolean available, String reason, String apiVersion)
    {
    }

    private static Probe probe;

    private DockerDaemon()
    {
    }

    /** True when the run must fail rather than skip without Docker (-Dsplitnet.requireDocker=true or SPLITNET_REQUIRE_DOCKER=1). */
    static boolean required()
    {
        final String env = System.getenv("SPLITNET_REQUIRE_DOCKER");
        return Boolean.parseBoolean(System.getProperty("splitnet.requireDocker", "false"))
            || "1".equals(env) || "true".equalsIgnoreCase(env);
    }

    static synchronized Probe probe()
    {
        if (probe == null)
        {
            probe = doProbe();
        }
        return probe;
    }

    private static Probe doProbe()
    {
        final String dockerHost = System.getenv("DOCKER_HOST");
        if (dockerHost != null && !dockerHost.isBlank() && !dockerHost.startsWith("unix://"))
        {
            // Not a Unix socket: let Testcontainers decide.
            return askTestcontainers("DOCKER_HOST=" + dockerHost, null);
        }
        final List<Path> sockets = new ArrayList<>();
        if (dockerHost != null && dockerHost.startsWith("unix://"))
        {
            sockets.add(Paths.get(dockerHost.substring("unix://".length())));
        }
        else
        {
            sockets.add(Paths.get("/var/run/docker.sock"));
            final String runtimeDir = System.getenv("XDG_RUNTIME_DIR");
            if (runtimeDir != null)
            {
                sockets.add(Paths.get(runtimeDir, "docker.sock"));
            }
            final String home = System.getenv("HOME");
            if (home != null)
            {
                sockets.add(Paths.get(home, ".docker", "run", "docker.sock"));
            }
        }
        final Path socket = sockets.stream().filter(Files::exists).findFirst().orElse(null);
        if (socket == null)
        {
            return new Probe(false, "no Docker daemon (no socket at " + sockets.get(0) + ")", null);
        }
        final String apiVersion;
        try
        {
            apiVersion = ping(socket);
        }
        catch (final IOException ex)
        {
            return new Probe(false, "no Docker daemon answers on " + socket + " (" + ex.getMessage() + ")", null);
        }
        if (apiVersion != null && System.getProperty("api.version") == null && olderThan(apiVersion, 1, 44))
        {
            System.setProperty("api.version", apiVersion);
        }
        return askTestcontainers(socket.toString(), apiVersion);
    }

    private static Probe askTestcontainers(final String where, final String apiVersion)
    {
        try
        {
            if (DockerClientFactory.instance().isDockerAvailable())
            {
                final String version = apiVersion != null ? apiVersion : DockerClientFactory.instance().getActiveApiVersion();
                return new Probe(true, "Docker on " + where + ", API " + version, version);
            }
            return new Probe(false, "Docker on " + where + " answers but Testcontainers cannot use it (see its log above)", apiVersion);
        }
        catch (final RuntimeException ex)
        {
            return new Probe(false, "Docker on " + where + " answers but Testcontainers cannot use it: " + ex, apiVersion);
        }
    }

    /** {@code GET /_ping} over the socket; returns the daemon's API version (null if it sent none). */
    private static String ping(final Path socket) throws IOException
    {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX); Selector selector = Selector.open())
        {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.write(ByteBuffer.wrap("GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
            channel.configureBlocking(false);
            channel.register(selector, SelectionKey.OP_READ);
            final ByteBuffer in = ByteBuffer.allocate(8192);
            final long deadline = System.nanoTime() + 5_000_000_000L;
            while (in.hasRemaining())
            {
                final long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0)
                {
                    throw new IOException("no answer to /_ping within 5 s");
                }
                selector.select(left);
                selector.selectedKeys().clear();
                if (channel.read(in) < 0)
                {
                    break;
                }
            }
            final String response = new String(in.array(), 0, in.position(), StandardCharsets.US_ASCII);
            final String status = response.lines().findFirst().orElse("");
            if (!status.contains(" 200 "))
            {
                throw new IOException("/_ping answered '" + status + "'");
            }
            return response.lines()
                .filter(line -> line.toLowerCase(Locale.ROOT).startsWith("api-version:"))
                .map(line -> line.substring(line.indexOf(':') + 1).trim())
                .findFirst().orElse(null);
        }
    }

    private static boolean olderThan(final String version, final int major, final int minor)
    {
        try
        {
            final String[] parts = version.split("\\.");
            final int ma = Integer.parseInt(parts[0]);
            final int mi = Integer.parseInt(parts[1]);
            return ma < major || (ma == major && mi < minor);
        }
        catch (final RuntimeException ex)
        {
            return false;
        }
    }
}

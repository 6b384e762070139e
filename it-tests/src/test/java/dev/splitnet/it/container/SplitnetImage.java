package dev.splitnet.it.container;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Image;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.images.builder.ImageFromDockerfile;

/**
 * The image the container tests run: {@code FROM scratch} with a jlink'd Java runtime, the shared
 * libraries it links against, the built cli jar and its libraries, and jvm.options. Built locally
 * (nothing is pulled), tagged {@code splitnet-it:HASH} by a hash of its inputs, and not built again
 * while an image with that tag exists.
 *
 * <pre>
 * /opt/java/...            jlink --add-modules (jdeps of the jars, minus java.desktop)
 * /lib/x86_64-linux-gnu/*  what ldd lists for the runtime's executables and libraries (links resolved)
 * /lib64/ld-linux-x86-64.so.2
 * /app/lib/*.jar           cli/target/splitnet-cli.jar + cli/target/lib/*.jar
 * /app/jvm.options         jvm.options without the lines naming modules the runtime lacks
 * ENTRYPOINT /opt/java/bin/java @/app/jvm.options -cp /app/lib/* dev.splitnet.cli.Main
 * </pre>
 */
final class SplitnetImage
{
    /** Repository part of the tag. */
    static final String REPOSITORY = "splitnet-it";
    /** Label every splitnet test image carries (its value is the input hash). */
    static final String LABEL = "dev.splitnet.it.image";
    /** Bump when the way the image is made changes, so the hash changes. */
    private static final String RECIPE_VERSION = "1";
    /**
     * Modules jdeps names that the commands never use: java.desktop is reached only through JNA's
     * AWT helpers, and would drag in X11, ALSA and freetype libraries.
     */
    private static final Set<String> EXCLUDED_MODULES = Set.of("java.desktop");
    private static final String DOCKERFILE = String.join("\n",
        "# splitnet test image, made by it-tests (dev.splitnet.it.container.SplitnetImage); see docs/CONTAINERS.md",
        "FROM scratch",
        "LABEL " + LABEL + "=\"@HASH@\"",
        "COPY rootfs/ /",
        "COPY app /app",
        "ENTRYPOINT [\"/opt/java/bin/java\",\"@/app/jvm.options\",\"-cp\",\"/app/lib/*\",\"dev.splitnet.cli.Main\"]",
        "");
    private static final Pattern LINKED = Pattern.compile("^\\s*\\S+\\s+=>\\s+(/\\S+)\\s+\\(0x");
    private static final Pattern LOADER = Pattern.compile("^\\s*(/\\S+)\\s+\\(0x");
    private static final Pattern MODULE_FLAG = Pattern.compile("^--add-(?:exports|opens)[= ]([A-Za-z0-9_.]+)/");

    private static String tag;

    private SplitnetImage()
    {
    }

    /** The image's tag, building it first when no image with these inputs exists. */
    static synchronized String tag()
    {
        if (tag == null)
        {
            try
            {
                tag = resolve();
            }
            catch (final IOException | InterruptedException ex)
            {
                throw new IllegalStateException("cannot make the splitnet image: " + ex, ex);
            }
        }
        return tag;
    }

    private static String resolve() throws IOException, InterruptedException
    {
        final Path root = Paths.get(System.getProperty("splitnet.root", "..")).toAbsolutePath().normalize();
        final Path cliJar = root.resolve("cli/target/splitnet-cli.jar");
        final Path libDir = root.resolve("cli/target/lib");
        if (!Files.isRegularFile(cliJar) || !Files.isDirectory(libDir))
        {
            throw new IllegalStateException(cliJar + " or " + libDir + " is missing: build the cli first (mvn -B install -DskipTests)");
        }
        final List<Path> jars = new ArrayList<>();
        jars.add(cliJar);
        try (Stream<Path> list = Files.list(libDir))
        {
            list.filter(p -> p.toString().endsWith(".jar")).sorted().forEach(jars::add);
        }
        final String jvmOptions = Files.readString(root.resolve("jvm.options"), StandardCharsets.UTF_8);

        final MessageDigest digest = sha256();
        update(digest, RECIPE_VERSION, DOCKERFILE, jvmOptions, String.join(",", EXCLUDED_MODULES), jdkIdentity());
        for (final Path jar : jars)
        {
            update(digest, jar.getFileName().toString());
            digest.update(Files.readAllBytes(jar));
        }
        final String hash = HexFormat.of().formatHex(digest.digest()).substring(0, 16);
        final String name = REPOSITORY + ":" + hash;

        final DockerClient client = DockerClientFactory.instance().client();
        if (exists(client, name))
        {
            Timings.report("image " + name + " exists (inputs unchanged): build skipped, " + sizeOf(client, name));
            return name;
        }

        final long start = System.nanoTime();
        final Path work = Paths.get(System.getProperty("splitnet.image.work", "target/splitnet-image")).toAbsolutePath();
        Files.createDirectories(work);

        long t = System.nanoTime();
        final String modules = modules(jars);
        final double jdepsSeconds = Timings.secondsSince(t);

        t = System.nanoTime();
        final Path runtime = runtime(work, modules);
        final double jlinkSeconds = Timings.secondsSince(t);

        final Path context = work.resolve("context-" + hash);
        deleteTree(context);
        final Path rootfs = context.resolve("rootfs");
        copyTree(runtime, rootfs.resolve("opt/java"));
        final List<String> libraries = copyLibraries(rootfs.resolve("opt/java"), rootfs);
        final Path app = context.resolve("app");
        Files.createDirectories(app.resolve("lib"));
        for (final Path jar : jars)
        {
            Files.copy(jar, app.resolve("lib").resolve(jar.getFileName()));
        }
        Files.writeString(app.resolve("jvm.options"), imageJvmOptions(jvmOptions, runtimeModules(runtime)), StandardCharsets.UTF_8);
        Files.writeString(context.resolve("Dockerfile"), DOCKERFILE.replace("@HASH@", hash), StandardCharsets.UTF_8);

        t = System.nanoTime();
        try
        {
            new ImageFromDockerfile(name, false).withFileFromPath(".", context).get();
        }
        catch (final RuntimeException ex)
        {
            throw new IllegalStateException("docker build of " + name + " failed (context kept in " + context + "): " + ex, ex);
        }
        final double buildSeconds = Timings.secondsSince(t);
        deleteTree(context);
        Timings.report(String.format(Locale.ROOT,
            "image %s built in %.1f s (jdeps %.1f s, jlink %.1f s%s, docker build %.1f s), %s; modules %s; %d shared libraries",
            name, Timings.secondsSince(start), jdepsSeconds, jlinkSeconds, jlinkSeconds < 0.5 ? " (cached runtime)" : "", buildSeconds,
            sizeOf(client, name), modules, libraries.size()));
        removeOldImages(client, name);
        return name;
    }

    /** The modules jdeps says the jars need, minus {@link #EXCLUDED_MODULES}. */
    private static String modules(final List<Path> jars)
    {
        final List<String> args = new ArrayList<>(List.of("--print-module-deps", "--ignore-missing-deps", "--multi-release", "17",
            "--class-path", jars.stream().map(Path::toString).collect(Collectors.joining(":"))));
        jars.forEach(jar -> args.add(jar.toString()));
        final String out = runTool("jdeps", args).strip();
        final String last = out.lines().reduce((a, b) -> b).orElse("");
        final Set<String> modules = new TreeSet<>(Arrays.asList(last.split(",")));
        if (!modules.contains("java.base"))
        {
            throw new IllegalStateException("jdeps printed no module list: " + out);
        }
        modules.removeAll(EXCLUDED_MODULES);
        return String.join(",", modules);
    }

    /** A jlink'd runtime with these modules, kept under the work directory and reused while the JDK and modules are the same. */
    private static Path runtime(final Path work, final String modules) throws IOException
    {
        final MessageDigest digest = sha256();
        update(digest, RECIPE_VERSION, modules, jdkIdentity());
        final Path runtime = work.resolve("runtime-" + HexFormat.of().formatHex(digest.digest()).substring(0, 16));
        if (Files.exists(runtime.resolve("release")))
        {
            return runtime;
        }
        deleteTree(runtime);
        runTool("jlink", List.of("--add-modules", modules, "--strip-debug", "--no-header-files", "--no-man-pages",
            "--compress=2", "--output", runtime.toString()));
        return runtime;
    }

    private static Set<String> runtimeModules(final Path runtime) throws IOException
    {
        for (final String line : Files.readAllLines(runtime.resolve("release"), StandardCharsets.UTF_8))
        {
            if (line.startsWith("MODULES="))
            {
                return new TreeSet<>(Arrays.asList(line.substring("MODULES=".length()).replace("\"", "").trim().split("\\s+")));
            }
        }
        throw new IllegalStateException(runtime + "/release names no modules");
    }

    /** jvm.options for the image: the lines that name a module the runtime lacks would only print warnings. */
    static String imageJvmOptions(final String jvmOptions, final Set<String> modules)
    {
        final StringBuilder kept = new StringBuilder();
        final List<String> dropped = new ArrayList<>();
        for (final String line : jvmOptions.split("\n"))
        {
            final Matcher m = MODULE_FLAG.matcher(line.trim());
            if (m.find() && !modules.contains(m.group(1)))
            {
                dropped.add(line.trim());
                continue;
            }
            kept.append(line).append('\n');
        }
        return "# jvm.options of the splitnet repository" + (dropped.isEmpty() ? "" : ", without " + dropped
            + " (module not in this runtime)") + "\n" + kept;
    }

    /** Copies what ldd lists for every ELF file of the runtime into rootfs at the same paths, links resolved. */
    private static List<String> copyLibraries(final Path runtime, final Path rootfs) throws IOException, InterruptedException
    {
        final List<String> elves = new ArrayList<>();
        try (Stream<Path> files = Files.walk(runtime))
        {
            for (final Path file : (Iterable<Path>)files.filter(Files::isRegularFile)::iterator)
            {
                if (isElf(file))
                {
                    elves.add(file.toString());
                }
            }
        }
        final List<String> command = new ArrayList<>();
        command.add("ldd");
        command.addAll(elves);
        final Process ldd = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String out;
        try (InputStream in = ldd.getInputStream())
        {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        ldd.waitFor();
        final Set<String> libraries = new TreeSet<>();
        for (final String line : out.split("\n"))
        {
            Matcher m = LINKED.matcher(line);
            if (!m.find())
            {
                m = LOADER.matcher(line);
                if (!m.find())
                {
                    continue;
                }
            }
            final Path library = Paths.get(m.group(1)).normalize();
            if (!library.startsWith(runtime))
            {
                libraries.add(library.toString());
            }
        }
        if (libraries.stream().noneMatch(l -> l.contains("/libc.so")) || libraries.stream().noneMatch(l -> l.contains("ld-linux")))
        {
            throw new IllegalStateException("ldd found no libc or loader for the runtime: " + out);
        }
        for (final String library : libraries)
        {
            final Path target = rootfs.resolve(library.substring(1));
            Files.createDirectories(target.getParent());
            Files.copy(Paths.get(library).toRealPath(), target, StandardCopyOption.COPY_ATTRIBUTES, StandardCopyOption.REPLACE_EXISTING);
        }
        return new ArrayList<>(libraries);
    }

    private static boolean isElf(final Path file) throws IOException
    {
        try (InputStream in = Files.newInputStream(file))
        {
            final byte[] magic = in.readNBytes(4);
            return magic.length == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
        }
    }

    private static String runTool(final String name, final List<String> args)
    {
        final ToolProvider tool = ToolProvider.findFirst(name).orElseThrow(() -> new IllegalStateException(
            name + " is not in this Java (" + System.getProperty("java.home") + "): the container tests need a full JDK 17"));
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final StringWriter err = new StringWriter();
        final int code;
        try (PrintWriter out = new PrintWriter(bytes, true, StandardCharsets.UTF_8); PrintWriter errOut = new PrintWriter(err, true))
        {
            code = tool.run(out, errOut, args.toArray(new String[0]));
        }
        final String output = bytes.toString(StandardCharsets.UTF_8);
        if (code != 0)
        {
            throw new IllegalStateException(name + " " + String.join(" ", args) + " failed (" + code + "): " + output + err);
        }
        return output;
    }

    private static boolean exists(final DockerClient client, final String name)
    {
        try
        {
            client.inspectImageCmd(name).exec();
            return true;
        }
        catch (final NotFoundException ex)
        {
            return false;
        }
    }

    private static String sizeOf(final DockerClient client, final String name)
    {
        final Long size = client.inspectImageCmd(name).exec().getSize();
        return size == null ? "size unknown" : String.format(Locale.ROOT, "%.1f MB", size / 1e6);
    }

    /** Removes splitnet test images of other inputs made over an hour ago (unforced: one in use stays). */
    private static void removeOldImages(final DockerClient client, final String current)
    {
        final long hourAgo = System.currentTimeMillis() / 1000 - 3600;
        try
        {
            for (final Image image : client.listImagesCmd().withLabelFilter(LABEL).exec())
            {
                final boolean isCurrent = image.getRepoTags() != null && Arrays.asList(image.getRepoTags()).contains(current);
                if (!isCurrent && image.getCreated() != null && image.getCreated() < hourAgo)
                {
                    try
                    {
                        client.removeImageCmd(image.getId()).exec();
                    }
                    catch (final RuntimeException ignore)
                    {
                        // in use by a container, or removed meanwhile
                    }
                }
            }
        }
        catch (final RuntimeException ignore)
        {
            // housekeeping only
        }
    }

    private static String jdkIdentity()
    {
        return System.getProperty("java.home") + "|" + System.getProperty("java.runtime.version") + "|" + System.getProperty("os.arch");
    }

    private static MessageDigest sha256()
    {
        try
        {
            return MessageDigest.getInstance("SHA-256");
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    private static void update(final MessageDigest digest, final String... parts)
    {
        for (final String part : parts)
        {
            digest.update(part.getBytes(StandardCharsets.UTF_8));
            digest.update((byte)0);
        }
    }

    private static void copyTree(final Path from, final Path to) throws IOException
    {
        try (Stream<Path> files = Files.walk(from))
        {
            for (final Path file : (Iterable<Path>)files::iterator)
            {
                final Path target = to.resolve(from.relativize(file).toString());
                if (Files.isDirectory(file))
                {
                    Files.createDirectories(target);
                }
                else
                {
                    Files.copy(file, target, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    static void deleteTree(final Path dir) throws IOException
    {
        if (!Files.exists(dir))
        {
            return;
        }
        try (Stream<Path> files = Files.walk(dir))
        {
            for (final Path file : (Iterable<Path>)files.sorted((a, b) -> b.getNameCount() - a.getNameCount())::iterator)
            {
                Files.deleteIfExists(file);
            }
        }
    }
}

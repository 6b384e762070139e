package dev.splitnet.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

/**
 * The command line of {@code splitnet bench}: the quick set by default, {@code --full} for every
 * scenario and size with repeats. {@link #parse} throws IllegalArgumentException with a one-line
 * message naming the bad value.
 */
public final class BenchOptions
{
    /** Smallest packet: the 64-byte header every packet carries. */
    public static final int MIN_SIZE = 64;
    /** Largest packet: fits Xen's 16-bit TX size and Aeron's IPC MTU. */
    public static final int MAX_SIZE = 65000;
    public static final List<Integer> STANDARD_SIZES = List.of(64, 1500, 9000, 65000);

    static final String USAGE = String.join("\n",
        "usage: splitnet bench [--full] [--scenario S,...] [--size N,...] [--transport T,...] [--reps N]",
        "                      [--warmup-ms MS] [--measure-ms MS] [--dir SHM_DIR] [--out DIR] [--jmh | --no-jmh]",
        "  quick (default, under 3 min): forward at 64/1500/65000 B, read and rx at 64 and 65000 B, 64 B round trips;",
        "         one repeat, 1 s warm-up, 0.8 s measured; no JMH",
        "  --full: every scenario at 64/1500/9000/65000 B, 3 repeats, 2 s warm-up, 3 s measured, yielding consumers",
        "          as well as spinning ones at 64 B, then the JMH microbenchmarks with the gc profiler",
        "  scenarios: forward, read, rx, rx-read, rtt-spin, rtt-block; transports: splitnet, splitnet-v2, splitnet-flip, splitnet-lazy, aeron, agrona, uds",
        "  --jmh: only the JMH microbenchmarks; --dir: where the shared files go (default /dev/shm/splitnet-bench)");

    boolean full;
    boolean help;
    boolean jmhOnly;
    boolean jmh;
    EnumSet<Scenario> scenarios = EnumSet.allOf(Scenario.class);
    List<Integer> sizes = new ArrayList<>(List.of(64, 1500, 65000));
    List<Integer> smallSizes = List.of(64, 65000);
    EnumSet<Transport> transports = EnumSet.allOf(Transport.class);
    int reps = 1;
    long warmupMs = 1000;
    long measureMs = 800;
    boolean yieldingVariant;
    Path shmDir = Path.of("/dev/shm/splitnet-bench");
    Path out = Path.of(System.getProperty("splitnet.root", ".")).resolve("docs/benchmarks");

    /** Parses the arguments after {@code bench}. */
    public static BenchOptions parse(final String... args)
    {
        final BenchOptions o = new BenchOptions();
        boolean sizesGiven = false;
        boolean repsGiven = false;
        boolean warmupGiven = false;
        boolean measureGiven = false;
        Boolean jmhFlag = null;
        for (int i = 0; i < args.length; i++)
        {
            final String arg = args[i];
            switch (arg)
            {
                case "--full": o.full = true; break;
                case "-h":
                case "--help": o.help = true; break;
                case "--jmh": o.jmhOnly = true; break;
                case "--no-jmh": jmhFlag = Boolean.FALSE; break;
                case "--scenario":
                    o.scenarios = EnumSet.noneOf(Scenario.class);
                    for (final String s : value(args, ++i, arg).split(","))
                    {
                        o.scenarios.add(Scenario.parse(s.trim()));
                    }
                    break;
                case "--transport":
                    o.transports = EnumSet.noneOf(Transport.class);
                    for (final String s : value(args, ++i, arg).split(","))
                    {
                        o.transports.add(Transport.parse(s.trim()));
                    }
                    break;
                case "--size":
                    o.sizes = new ArrayList<>();
                    for (final String s : value(args, ++i, arg).split(","))
                    {
                        o.sizes.add(size(s.trim()));
                    }
                    sizesGiven = true;
                    break;
                case "--reps": o.reps = positive(arg, value(args, ++i, arg), 1, 50); repsGiven = true; break;
                case "--warmup-ms": o.warmupMs = positive(arg, value(args, ++i, arg), 1000, 60_000); warmupGiven = true; break;
                case "--measure-ms": o.measureMs = positive(arg, value(args, ++i, arg), 100, 600_000); measureGiven = true; break;
                case "--dir": o.shmDir = Path.of(value(args, ++i, arg)); break;
                case "--out": o.out = Path.of(value(args, ++i, arg)); break;
                default: throw new IllegalArgumentException("unknown option " + arg + "; see splitnet bench --help");
            }
        }
        if (o.full)
        {
            o.sizes = sizesGiven ? o.sizes : new ArrayList<>(STANDARD_SIZES);
            o.reps = repsGiven ? o.reps : 3;
            o.warmupMs = warmupGiven ? o.warmupMs : 2000;
            o.measureMs = measureGiven ? o.measureMs : 3000;
            o.yieldingVariant = true;
            o.smallSizes = o.sizes;
            o.jmh = jmhFlag == null || jmhFlag;
        }
        else if (sizesGiven)
        {
            o.smallSizes = o.sizes;
        }
        return o;
    }

    /** Sizes a scenario runs at: round trips only at 64 B; in the quick set read and rx at the ends. */
    List<Integer> sizesFor(final Scenario scenario)
    {
        if (!scenario.isThroughput())
        {
            return List.of(MIN_SIZE);
        }
        if (scenario == Scenario.FORWARD)
        {
            return sizes;
        }
        final List<Integer> result = new ArrayList<>();
        for (final int s : sizes)
        {
            if (smallSizes.contains(s))
            {
                result.add(s);
            }
        }
        return result;
    }

    private static String value(final String[] args, final int i, final String option)
    {
        if (i >= args.length)
        {
            throw new IllegalArgumentException(option + " needs a value; see splitnet bench --help");
        }
        return args[i];
    }

    private static int size(final String s)
    {
        final int n;
        try
        {
            n = Integer.parseInt(s);
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("unknown size=" + s + "; sizes are bytes from " + MIN_SIZE + " to " + MAX_SIZE);
        }
        if (n < MIN_SIZE || n > MAX_SIZE)
        {
            throw new IllegalArgumentException("size=" + n + " out of range; sizes are bytes from " + MIN_SIZE + " to " + MAX_SIZE);
        }
        return n;
    }

    private static int positive(final String option, final String s, final int min, final int max)
    {
        try
        {
            final int n = Integer.parseInt(s);
            if (n >= min && n <= max)
            {
                return n;
            }
        }
        catch (final NumberFormatException ignore)
        {
            // reported below
        }
        throw new IllegalArgumentException(option + "=" + s + " must be a number from " + min + " to " + max);
    }
}

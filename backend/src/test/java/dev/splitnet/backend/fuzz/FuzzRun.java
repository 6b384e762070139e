package dev.splitnet.backend.fuzz;

import dev.splitnet.api.IdleMode;
import dev.splitnet.backend.BackendContext;
import dev.splitnet.backend.RxMode;
import dev.splitnet.backend.NetBack;
import dev.splitnet.backend.NetBackRunner;
import dev.splitnet.frontend.FrontendContext;
import dev.splitnet.frontend.NetFront;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.agrona.concurrent.BackoffIdleStrategy;

/**
 * One fuzz run: a {@link NetBack} with its {@link NetBackRunner} on its own thread, a switch
 * handler, a {@link Bystander} on its own thread and an {@link Offender} on another, all in this
 * JVM. This thread supervises: the duty cycle must stay up with nothing reaching its error
 * handler, both other threads must make progress, and every few seconds it prints a progress
 * line. The run ends when the offender has written the fields asked for or at the first violation,
 * then the bystander drains and its accounting is checked.
 *
 * <p>The corruption sequence is a pure function of the seed (episode k's choices come from a
 * random seeded by the seed and k); the interleaving of traffic with it, and so which corruptions
 * the backend sees at which moment and where an episode ends, depends on thread timing and cannot
 * be reproduced exactly.
 */
public final class FuzzRun
{
    /** System property: the seed (default: random, printed). */
    public static final String SEED_PROP = "splitnet.fuzz.seed";
    /** System property: fields to corrupt (default 1,000,000). */
    public static final String FIELDS_PROP = "splitnet.fuzz.fields";
    /** System property: whether the switch copies offender packets into the bystander (default true). */
    public static final String CROSS_PROP = "splitnet.fuzz.cross";
    /** System property: whether episodes may truncate and regrow the offender's file (default true). */
    public static final String TRUNCATE_PROP = "splitnet.fuzz.truncate";
    /** System property: seconds between progress lines (default 10). */
    public static final String PROGRESS_PROP = "splitnet.fuzz.progress.seconds";
    /** System property: pass the backend's and frontends' log lines on to stderr (default false). */
    public static final String LOG_PROP = "splitnet.fuzz.log";
    /** System property: the switch holds packets past its handler and completes them later (default false). */
    public static final String HOLD_PROP = "splitnet.fuzz.hold";

    /** Holding mode: the copy deadline (held packets live up to twice that), the drop limit, the ring share, the copy memory. */
    /** Backend frames per lazy-rx offender: few, so claims run the pool low and lent frames are copied back. */
    static final int LAZY_POOL_FRAMES = 24;
    /** How long a lazy-rx offender may keep a lent frame: short, so the deadline's copy-back runs too. */
    static final long LAZY_DEADLINE_MS = 50;
    static final long HOLD_COPY_DEADLINE_MS = 20;
    static final long HOLD_DROP_LIMIT_MS = 35;
    static final double HOLD_PRESSURE_SHARE = 0.4;
    static final long HOLD_COPY_MEMORY_PER_FRONTEND = 256 << 10;
    static final int HOLD_SHARE_PERCENT = 50;

    private static final long STALL_NS = TimeUnit.SECONDS.toNanos(20);

    private final Path dir;
    private final long seed;
    private final long fields;
    private final boolean crossDelivery;
    private final boolean truncations;
    private final long progressNs;
    private final boolean passLog;
    private final PrintStream out;
    private boolean hold;

    public FuzzRun(final Path dir, final long seed, final long fields, final boolean crossDelivery, final boolean truncations,
        final long progressSeconds, final boolean passLog, final PrintStream out)
    {
        this.truncations = truncations;
        this.dir = dir;
        this.seed = seed;
        this.fields = fields;
        this.crossDelivery = crossDelivery;
        this.progressNs = TimeUnit.SECONDS.toNanos(progressSeconds);
        this.passLog = passLog;
        this.out = out;
    }

    /** Holding mode: the switch holds a share of packets past its handler (see {@link Holder}). */
    public FuzzRun hold(final boolean hold)
    {
        this.hold = hold;
        return this;
    }

    /** The seed from {@link #SEED_PROP}, or a fresh random one. */
    public static long seedFromProperties()
    {
        final String s = System.getProperty(SEED_PROP);
        return s == null || s.isBlank() ? new java.util.SplittableRandom().nextLong() : Long.parseLong(s.trim());
    }

    /** Runs it; returns the accounting, whose violations say whether it passed. */
    public FuzzAccounting run()
    {
        out.println("fuzz seed " + seed + "; rerun with -D" + SEED_PROP + "=" + seed + " (" + String.format("%,d", fields) + " fields, cross delivery "
            + crossDelivery + ", truncations " + truncations + ", holding " + hold + ")");
        final FuzzAccounting accounting = new FuzzAccounting();
        final ConcurrentLinkedQueue<Throwable> runnerErrors = new ConcurrentLinkedQueue<>();
        final SwitchHandler handler = new SwitchHandler(accounting, crossDelivery, seed);
        final HeldLedger ledger = hold ? new HeldLedger(accounting) : null;
        final Holder holder = hold ? handler.holding(ledger, seed, HOLD_SHARE_PERCENT, HOLD_COPY_DEADLINE_MS) : null;
        final TruncationWindow window = new TruncationWindow();
        final LogCapture log = LogCapture.install(passLog);
        NetBackRunner runner = null;
        NetFront bystanderFront = null;
        Thread bystanderThread = null;
        Thread offenderThread = null;
        Offender offender = null;
        Bystander bystander = null;
        try
        {
            final BackendContext context = new BackendContext().directory(dir).idleMode(IdleMode.BACKOFF).handler(handler)
                .allowFileMemory(true) // one offender episode in four is file-backed
                // lazy-rx offenders are lent backend frames, copied back under pressure and at a short deadline
                .rxMode(RxMode.LAZY).rxPoolFrames(LAZY_POOL_FRAMES).lendDeadlineMs(LAZY_DEADLINE_MS);
            if (hold)
            {
                context.holdCopyDeadlineMs(HOLD_COPY_DEADLINE_MS).holdDropLimitMs(HOLD_DROP_LIMIT_MS).holdPressureShare(HOLD_PRESSURE_SHARE)
                    .copyMemoryPerFrontendBytes(HOLD_COPY_MEMORY_PER_FRONTEND);
            }
            final NetBack backend = NetBack.launch(context);
            handler.backend(backend);
            runner = new NetBackRunner(backend, new BackoffIdleStrategy(), runnerErrors::add);
            bystanderFront = NetFront.connect(new FrontendContext().directory(dir).name("bystander").connectTimeoutMs(5000));
            handler.bystanderDomain(bystanderFront.domainId());
            bystander = new Bystander(bystanderFront, accounting, seed, window::take, ledger);
            offender = new Offender(dir, accounting, handler, log, seed, fields, window, truncations);
            bystanderThread = daemon(bystander, "fuzz-bystander");
            offenderThread = daemon(offender, "fuzz-offender");
            supervise(accounting, runner, runnerErrors, bystander, offender, offenderThread, bystanderThread);
            offender.stop();
            bystander.stopSending();
            join(offenderThread, accounting, "the offender thread");
            join(bystanderThread, accounting, "the bystander thread");
            if (hold && !accounting.failed())
            {
                new HoldChecks(accounting, ledger, holder, dir, bystanderFront.domainId()).afterQuiet();
            }
            if (accounting.failed())
            {
                accounting.violation("(for the record) the backend's thread at the end: " + stack(runner.thread()));
                for (final Thread t : Thread.getAllStackTraces().keySet())
                {
                    if (t.getName().startsWith("netback-"))
                    {
                        accounting.violation("(for the record) " + stack(t));
                    }
                }
            }
            if (!runner.isRunning())
            {
                accounting.violation("the backend's duty cycle is not running at the end");
            }
        }
        catch (final Throwable t)
        {
            accounting.violation("the fuzz run failed: " + t);
        }
        finally
        {
            if (offender != null)
            {
                offender.stop();
            }
            if (bystander != null)
            {
                bystander.stopSending();
            }
            for (final Throwable t : runnerErrors)
            {
                accounting.violation("the backend's error handler got " + t);
            }
            if (bystanderFront != null && (bystanderThread == null || !bystanderThread.isAlive()))
            {
                bystanderFront.close();
            }
            if (runner != null && (offenderThread == null || !offenderThread.isAlive()))
            {
                runner.close();
            }
            log.close();
        }
        out.println(accounting.report(seed));
        final Map<String, Long> lines = log.errorLines();
        if (!lines.isEmpty())
        {
            out.println("  warnings and errors logged, by shape:");
            lines.entrySet().stream().sorted(Map.Entry.comparingByValue((a, b) -> Long.compare(b, a))).limit(40)
                .forEach(e -> out.println("    " + e.getValue() + "  " + e.getKey()));
        }
        if (accounting.failed())
        {
            out.println("FUZZ FAILED: seed " + seed + " after " + String.format("%,d", accounting.fields())
                + " fields; rerun with -D" + SEED_PROP + "=" + seed + ". Last log lines:");
            final List<String> last = log.lastLines();
            last.subList(Math.max(0, last.size() - 60), last.size()).forEach(l -> out.println("    | " + l));
        }
        return accounting;
    }

    private void supervise(final FuzzAccounting accounting, final NetBackRunner runner, final ConcurrentLinkedQueue<Throwable> runnerErrors,
        final Bystander bystander, final Offender offender, final Thread offenderThread, final Thread bystanderThread)
    {
        long nextProgress = System.nanoTime() + progressNs;
        long lastCompletions = -1;
        long lastCompletionsAt = System.nanoTime();
        long lastFields = -1;
        long lastFieldsAt = System.nanoTime();
        while (!offender.finished() && !accounting.failed())
        {
            LockSupport.parkNanos(50_000_000);
            final long now = System.nanoTime();
            if (!runner.isRunning())
            {
                accounting.violation("the backend's duty cycle stopped (NetBackRunner.isRunning() is false)"
                    + (runnerErrors.isEmpty() ? "" : ": " + runnerErrors.peek()));
                break;
            }
            if (!runnerErrors.isEmpty())
            {
                accounting.violation("the backend's error handler got " + runnerErrors.peek());
                break;
            }
            if (bystander.completions() != lastCompletions)
            {
                lastCompletions = bystander.completions();
                lastCompletionsAt = now;
            }
            else if (now - lastCompletionsAt > STALL_NS)
            {
                accounting.violation("the bystander completed no packet for 20 s (" + bystander.inFlight() + " in flight); backend thread: "
                    + stack(runner.thread()) + "; bystander thread: " + stack(bystanderThread));
                break;
            }
            if (accounting.fields() != lastFields)
            {
                lastFields = accounting.fields();
                lastFieldsAt = now;
            }
            else if (now - lastFieldsAt > STALL_NS)
            {
                accounting.violation("the offender wrote no field for 20 s in episode " + offender.episode() + "; offender thread: "
                    + stack(offenderThread) + "; backend thread: " + stack(runner.thread()));
                break;
            }
            if (bystander.finished() && !offender.finished())
            {
                accounting.violation("the bystander stopped before the run ended");
                break;
            }
            if (now - nextProgress >= 0)
            {
                nextProgress = now + progressNs;
                out.println(accounting.progressLine());
            }
        }
    }

    private static String stack(final Thread thread)
    {
        final StringBuilder sb = new StringBuilder(thread.getName()).append(' ').append(thread.getState());
        final StackTraceElement[] trace = thread.getStackTrace();
        for (int i = 0; i < Math.min(12, trace.length); i++)
        {
            sb.append("\n        at ").append(trace[i]);
        }
        return sb.toString();
    }

    private static Thread daemon(final Runnable task, final String name)
    {
        final Thread thread = new Thread(task, name);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    private static void join(final Thread thread, final FuzzAccounting accounting, final String what) throws InterruptedException
    {
        thread.join(TimeUnit.SECONDS.toMillis(30));
        if (thread.isAlive())
        {
            accounting.violation(what + " did not end within 30 s: " + stack(thread));
        }
    }
}

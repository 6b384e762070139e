package dev.splitnet.backend.fuzz;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Captures what slf4j-simple writes to {@code System.err} while a fuzz run is on: it remembers,
 * per domain id, why the backend said it disconnected that domain (the logged reason), keeps the
 * last lines for a failure report, and passes lines on only when asked to (thousands of connect
 * and disconnect lines would drown the progress output).
 */
final class LogCapture extends OutputStream implements AutoCloseable
{
    private static final Pattern DISCONNECTED = Pattern.compile("domain (\\d+) \\((.*?)\\) disconnected: (.*)");
    private static final int KEPT_LINES = 400;

    private final PrintStream original;
    private final boolean passOn;
    private final StringBuilder line = new StringBuilder();
    private final ArrayDeque<String> last = new ArrayDeque<>();
    private final Map<Integer, String> reasons = new ConcurrentHashMap<>();
    private final Map<String, Long> errorLines = new ConcurrentHashMap<>();

    private LogCapture(final PrintStream original, final boolean passOn)
    {
        this.original = original;
        this.passOn = passOn;
    }

    /** Installs itself as {@code System.err} until closed. */
    static LogCapture install(final boolean passOn)
    {
        final LogCapture capture = new LogCapture(System.err, passOn);
        System.setErr(new PrintStream(capture, true, StandardCharsets.UTF_8));
        return capture;
    }

    @Override
    public synchronized void write(final int b)
    {
        if (b == '\n')
        {
            onLine(line.toString());
            line.setLength(0);
        }
        else if (line.length() < 4096)
        {
            line.append((char)b);
        }
    }

    @Override
    public synchronized void write(final byte[] bytes, final int off, final int len)
    {
        final String text = new String(bytes, off, len, StandardCharsets.UTF_8);
        for (int i = 0; i < text.length(); i++)
        {
            write(text.charAt(i));
        }
    }

    private void onLine(final String text)
    {
        if (passOn)
        {
            original.println(text);
        }
        last.addLast(text);
        if (last.size() > KEPT_LINES)
        {
            last.removeFirst();
        }
        final Matcher m = DISCONNECTED.matcher(text);
        if (m.find())
        {
            final boolean error = text.contains(" ERROR ");
            reasons.put(Integer.parseInt(m.group(1)), (error ? "" : "info: ") + m.group(3));
        }
        else if (text.contains(" ERROR ") || text.contains(" WARN "))
        {
            // counted by shape: digits stand for any number
            final int dash = text.indexOf(" - ");
            final String key = (dash >= 0 ? text.substring(dash + 3) : text).replaceAll("\\d+", "N");
            errorLines.merge(key.length() > 160 ? key.substring(0, 160) : key, 1L, Long::sum);
        }
    }

    /** Whether a reason for disconnecting {@code domain} was logged and not yet taken. */
    boolean hasReason(final int domain)
    {
        return reasons.containsKey(domain);
    }

    /** The reason the backend logged for disconnecting {@code domain}, removed once taken; null if none yet. */
    String takeReason(final int domain)
    {
        return reasons.remove(domain);
    }

    /** Error and warning lines other than disconnects, by shape, with counts. */
    Map<String, Long> errorLines()
    {
        return errorLines;
    }

    /** The last lines written, oldest first. */
    synchronized List<String> lastLines()
    {
        return new ArrayList<>(last);
    }

    /** Prints the original stream's way again. */
    @Override
    public void close()
    {
        System.setErr(original);
    }

    PrintStream original()
    {
        return original;
    }
}

package dev.splitnet.frontend;

import dev.splitnet.api.XenbusState;
import dev.splitnet.mmap.ControlDescriptor;
import dev.splitnet.mmap.Device;
import dev.splitnet.mmap.Doorbell;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.AtomicBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the backend on the wall clock, every {@link #CHECK_INTERVAL_NS} of it however often the
 * application polls: the device file still whole (checked first, so a truncated file is noticed
 * without touching the mapping), the doorbell socket still open, no doorbell storm, and the
 * backend's heartbeat word (PROTOCOL.md 7.3) still moving. Allocation-free while the heartbeat moves.
 *
 * <p>A heartbeat that stands still for the backend timeout ends the connection at once when the
 * backend's process cannot beat (stopped, a zombie, gone) or cannot be seen (another PID namespace).
 * When it could run (a loaded machine starving it of CPU, a handler holding its duty thread), the
 * frontend warns and waits up to {@link #LATE_FACTOR} times the timeout: a starved backend is not
 * a dead one, and a live connection is not thrown away for a scheduling hiccup.
 */
final class PeerWatch
{
    /** How often the peer is checked, in wall time. */
    static final long CHECK_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(10);
    /**
     * Drains in a row that found more than a drain's bound (16 KiB) of doorbells waiting. An honest
     * backend rings at most once per event the frontend armed, so even one such drain means a storm;
     * eight (about 80 ms of it at the check interval) disconnect.
     */
    static final int MAX_FLOODS_IN_A_ROW = 8;
    /** How many backend timeouts a backend whose process may run gets before it is given up on. */
    static final int LATE_FACTOR = 10;
    /** How often the backend's process is looked at while its heartbeat is late. */
    private static final long PROCESS_CHECK_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final Logger LOG = LoggerFactory.getLogger(PeerWatch.class);

    private final Device device;
    private final AtomicBuffer control;
    private final Doorbell doorbell;
    private final long timeoutNs;
    private final long fileLength;
    // sealed memory cannot change size (PROTOCOL.md 2.5): its length needs no fstat every check
    private final boolean sizeSealed;
    private final long peerPid;
    private final String name;
    private long nextProcessCheckNs;
    private char peerState = PeerProcess.MAY_RUN;
    private boolean warnedLate;
    private long nextCheckNs;
    private long lastBeat;
    private long lastBeatChangeNs;
    private int floodsInARow;

    /**
     * @param peerPid the backend's pid in this PID namespace (SO_PEERCRED), 0 when unknown.
     * @param name the frontend's name, for the log.
     */
    PeerWatch(final Device device, final Doorbell doorbell, final long backendTimeoutMs, final long peerPid, final String name,
        final long nowNs)
    {
        this.peerPid = peerPid;
        this.name = name;
        this.device = device;
        this.control = device.control();
        this.doorbell = doorbell;
        this.timeoutNs = TimeUnit.MILLISECONDS.toNanos(backendTimeoutMs);
        this.fileLength = device.layout().fileLength();
        this.sizeSealed = device.isSealedMemory();
        this.lastBeat = ControlDescriptor.backendHeartbeat(control);
        this.lastBeatChangeNs = nowNs;
        this.nextCheckNs = nowNs + CHECK_INTERVAL_NS;
    }

    /** Whether a check is due at {@code nowNs}. */
    boolean isDue(final long nowNs)
    {
        return nowNs - nextCheckNs >= 0;
    }

    /**
     * Checks the peer now.
     *
     * @return why the backend must be treated as gone, or null while it is fine.
     */
    String check(final long nowNs)
    {
        nextCheckNs = nowNs + CHECK_INTERVAL_NS;
        final String file = checkLength();
        if (file != null)
        {
            return file;
        }
        if (doorbell.drain() < 0)
        {
            // a backend that lets a frontend go says so in its state first (CLOSING, CLOSED); a
            // dead one cannot. INIT_WAIT too is a backend that died: it writes CONNECTED just after
            // its WELCOME, so one killed in between leaves INIT_WAIT (KilledPeerLeakTest saw it)
            final XenbusState state = device.backendState();
            return state == XenbusState.CONNECTED || state == XenbusState.INIT_WAIT ? "backend closed the connection (it exited or died)"
                : "backend closed the connection (it disconnected this frontend or shut down: backend state " + state + ")";
        }
        floodsInARow = doorbell.isFlooding() ? floodsInARow + 1 : 0;
        if (floodsInARow >= MAX_FLOODS_IN_A_ROW)
        {
            return "doorbell storm: " + floodsInARow + " drains in a row found more doorbells than an honest backend rings";
        }
        final long beat = ControlDescriptor.backendHeartbeat(control);
        if (beat != lastBeat)
        {
            if (warnedLate)
            {
                LOG.info("frontend {}: backend heartbeat again after {} ms", name, TimeUnit.NANOSECONDS.toMillis(nowNs - lastBeatChangeNs));
                warnedLate = false;
            }
            lastBeat = beat;
            lastBeatChangeNs = nowNs;
            return null;
        }
        final long stillNs = nowNs - lastBeatChangeNs;
        return stillNs > timeoutNs ? late(nowNs, stillNs) : null;
    }

    /** The heartbeat stood still past the timeout: give up, or (the backend may run) warn and wait. */
    private String late(final long nowNs, final long stillNs)
    {
        if (nowNs - nextProcessCheckNs >= 0)
        {
            nextProcessCheckNs = nowNs + PROCESS_CHECK_INTERVAL_NS;
            peerState = PeerProcess.state(peerPid);
        }
        final long stillMs = TimeUnit.NANOSECONDS.toMillis(stillNs);
        final long timeoutMs = TimeUnit.NANOSECONDS.toMillis(timeoutNs);
        if (peerState == PeerProcess.CANNOT_RUN)
        {
            return "backend heartbeat stopped for " + stillMs + " ms (backendTimeoutMs=" + timeoutMs + ") and its process "
                + peerPid + " is stopped or gone; its socket is still open";
        }
        if (peerState == PeerProcess.UNKNOWN)
        {
            return "backend heartbeat stopped for " + stillMs + " ms (backendTimeoutMs=" + timeoutMs
                + "): the backend is stopped, hung or starved (its process cannot be seen from here); its socket is still open";
        }
        if (stillNs > LATE_FACTOR * timeoutNs)
        {
            return "backend heartbeat stopped for " + stillMs + " ms (" + LATE_FACTOR + " x backendTimeoutMs=" + timeoutMs
                + ") while its process " + peerPid + " runs: hung (a handler holding its duty thread?) or starved of CPU";
        }
        if (!warnedLate)
        {
            warnedLate = true;
            LOG.warn("frontend {}: backend heartbeat late ({} ms, backendTimeoutMs={}) but its process {} runs (starved of CPU, "
                + "or a handler holds its duty thread); waiting up to {} ms", name, stillMs, timeoutMs, peerPid, LATE_FACTOR * timeoutMs);
        }
        return null;
    }

    /**
     * Null while the device file is as long as its layout, else what is wrong: one fstat, no
     * allocation (a file truncated and regrown is caught by the fault it causes, see {@link #checkFile}).
     */
    String checkLength()
    {
        if (sizeSealed)
        {
            return null;
        }
        final long size = device.mapping().currentFileSize();
        if (size >= 0 && size < fileLength)
        {
            return "device file " + device.path() + " was truncated to " + size + " of " + fileLength
                + " bytes under the mapping; the mapping is no longer touched";
        }
        return null;
    }

    /** Null while the device file is as long as its layout and has no hole, else what is wrong (allocates). */
    String checkFile()
    {
        final String length = checkLength();
        if (length != null)
        {
            return length;
        }
        final long hole = device.firstHole();
        if (hole >= 0 && hole < fileLength)
        {
            return "device file " + device.path() + " has a hole at " + hole + " (truncated and regrown, or punched)"
                + "; the mapping is no longer touched";
        }
        return null;
    }
}

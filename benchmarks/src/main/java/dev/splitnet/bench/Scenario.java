package dev.splitnet.bench;

import java.util.Locale;

/** What one measurement does; each runs at every packet size of the run. */
public enum Scenario
{
    /** One-way frontend to backend; the receiver hands the payload on without reading it. */
    FORWARD("forward", "one-way, payload untouched", true),
    /** One-way frontend to backend; the receiver reads every byte (checksum). */
    READ("read", "one-way, payload read (checksum)", true),
    /** One-way backend to frontend (splitnet copies into receive buffers; peers offer a copy). */
    RX("rx", "receive direction (backend to frontend), dropped unread", true),
    /** One-way backend to frontend; the frontend reads every byte (checksum). */
    RX_READ("rx-read", "receive direction, payload read (checksum)", true),
    /** Round trip of one packet, both sides busy-spinning. */
    RTT_SPIN("rtt-spin", "round trip, busy-spin", false),
    /** Round trip of one packet, both sides blocking (or parking) when idle. */
    RTT_BLOCK("rtt-block", "round trip, blocking idle", false);

    private final String cliName;
    private final String title;
    private final boolean throughput;

    Scenario(final String cliName, final String title, final boolean throughput)
    {
        this.cliName = cliName;
        this.title = title;
        this.throughput = throughput;
    }

    public String cliName()
    {
        return cliName;
    }

    public String title()
    {
        return title;
    }

    /** Backend to frontend: side A (the backend, or the peer's publisher) sends. */
    public boolean isReceiveDirection()
    {
        return this == RX || this == RX_READ;
    }

    /** Throughput (messages per second) rather than latency percentiles. */
    public boolean isThroughput()
    {
        return throughput;
    }

    /** The scenario for a command-line name; throws naming the known ones. */
    public static Scenario parse(final String name)
    {
        for (final Scenario s : values())
        {
            if (s.cliName.equals(name.toLowerCase(Locale.ROOT)))
            {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown scenario=" + name + "; known: forward, read, rx, rx-read, rtt-spin, rtt-block");
    }
}

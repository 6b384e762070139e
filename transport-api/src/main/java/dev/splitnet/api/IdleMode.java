package dev.splitnet.api;

/** How a side waits when its rings are idle. */
public enum IdleMode
{
    /** Spin on the ring indices: lowest latency, one core per side. */
    BUSY_SPIN,
    /** Spin, then yield, then park with growing pauses. */
    BACKOFF,
    /** Arm the ring's event threshold and block on the doorbell socket. */
    BLOCKING
}

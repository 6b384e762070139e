package dev.splitnet.api;

/** Outcome of an attempt to transmit: an expected condition, not an exception. */
public enum SendResult
{
    /** The packet is on the ring; its status arrives later through a completion. */
    SENT,
    /** No ring slot, header slot or frame is free now; poll completions and retry. */
    BACK_PRESSURED,
    /** The frontend is not connected to a backend. */
    NOT_CONNECTED
}

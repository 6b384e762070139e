package dev.splitnet.mmap;

/**
 * The frontend's end of one ring region (TX or RX), in either format ({@link RingFormat}): it
 * produces requests and consumes responses. The paths (netfront's TX and RX) talk to this and
 * never to the bytes, so the same path code runs over Xen's shared ring and over ring v2.
 *
 * <p>A response is read by {@link #pollResponse}, which copies its fields out of shared memory
 * once; the accessors then return the copy, never the ring, which the backend may rewrite. A
 * broken backend (an impossible index, a tag that is neither this lap's nor the last) makes
 * {@link #pollResponse} return {@link #CORRUPT} for good, and {@link #violation()} say what was
 * wrong. Nothing here allocates after construction.
 */
public interface FrontendRing
{
    /** {@link #pollResponse} result: a response was copied out. */
    int READY = 1;
    /** {@link #pollResponse} result: no response is there yet. */
    int EMPTY = 0;
    /** {@link #pollResponse} result: the backend broke the ring ({@link #violation()}). */
    int CORRUPT = -1;

    /** Entries of the ring: the most requests that can be outstanding. */
    int size();

    /** Whether {@code requests} more requests fit now. */
    boolean hasRoomFor(int requests);

    /** Appends a TX request (not visible to the backend before {@link #pushRequests}). */
    void putTxRequest(int gref, int dataOffset, int flags, int id, int size);

    /** Appends an RX request: a buffer, by id, and the gref of its frame. */
    void putRxRequest(int id, int gref);

    /**
     * Publishes the requests appended since the last push.
     *
     * @return whether the backend asked to be woken for them.
     */
    boolean pushRequests();

    /** Copies the next response out: {@link #READY}, {@link #EMPTY} or {@link #CORRUPT}. */
    int pollResponse();

    /** The polled response's id (TX: the first id of its run; RX: the buffer it filled). */
    int responseId();

    /** The polled response's status: a netif status code, or (RX) the bytes written. */
    int responseStatus();

    /** TX: how many consecutive ids the polled response answers (from {@link #responseId()}); RX: 1. */
    int responseRun();

    /** RX: where in its buffer the polled response's data starts. */
    int responseOffset();

    /** RX: the polled response's NETRXF_* flags. */
    int responseFlags();

    /**
     * Consumes the polled response. Done before anything it freed is reused: with ring v2 this
     * also tells the backend the response slot is free, so it never has more responses to write
     * than slots to write them in.
     */
    void consumeResponse();

    /**
     * Before sleeping (RING_FINAL_CHECK_FOR_RESPONSES): asks to be woken at the next response,
     * then looks again.
     *
     * @return whether a response (or a corruption) is waiting.
     */
    boolean finalCheckForResponses();

    /** What the backend broke, once {@link #pollResponse} returned {@link #CORRUPT}; else null. */
    String violation();
}

package dev.splitnet.mmap;

/**
 * The backend's end of one ring region (TX or RX), in either format ({@link RingFormat}): it
 * consumes requests and produces responses. netback's paths talk to this, never to the bytes.
 *
 * <p>Requests are hostile input. {@link #fetchRequest} copies one out of shared memory once; the
 * accessors return the copy. An impossible producer index or tag, or a full response ring (the
 * frontend did not free the slots it consumed), makes the ring {@link #CORRUPT} for good, and
 * {@link #violation()} says what was wrong. Nothing here allocates after construction.
 */
public interface BackendRing
{
    /** {@link #fetchRequest} result: a request was copied out. */
    int READY = 1;
    /** {@link #fetchRequest} result: no request is there yet. */
    int EMPTY = 0;
    /** {@link #fetchRequest} result: the frontend broke the ring ({@link #violation()}). */
    int CORRUPT = -1;

    /** Entries of the ring: the most requests that can be outstanding. */
    int size();

    /**
     * Copies the request {@code ahead} past the consumer out (0 to size - 1): {@link #READY},
     * {@link #EMPTY} or {@link #CORRUPT}. Consumes nothing.
     */
    int fetchRequest(int ahead);

    /** The fetched request's gref. */
    int requestGref();

    /** TX: the fetched request's data offset. */
    int requestOffset();

    /** TX: the fetched request's NETTXF_* flags. */
    int requestFlags();

    /** The fetched request's id. */
    int requestId();

    /** TX: the fetched request's size. */
    int requestSize();

    /** Consumes {@code n} fetched requests. */
    void consumeRequests(int n);

    /**
     * The private index of the next request to consume (it moves only by {@link #consumeRequests}):
     * after a late memory fault, whether a chain was consumed before the fault.
     */
    int requestConsumer();

    /** Tells the frontend how far requests were consumed (ring v2; a no-op on Xen's ring, whose slots free with their responses). */
    void publishConsumed();

    /** Appends a TX response for request {@code id} (not visible before {@link #pushResponses}). */
    void putTxResponse(int id, short status);

    /** Appends an RX response for buffer {@code id}. */
    void putRxResponse(int id, int dataOffset, int flags, int status);

    /**
     * Publishes the responses appended since the last push.
     *
     * @return whether the frontend asked to be woken for them.
     */
    boolean pushResponses();

    /**
     * Before sleeping (RING_FINAL_CHECK_FOR_REQUESTS): publishes what was consumed, asks to be
     * woken at the next request, then looks again.
     *
     * @return whether a request (or a corruption) is waiting.
     */
    boolean finalCheckForRequests();

    /** What the frontend broke, once the ring is corrupt; else null. */
    String violation();
}

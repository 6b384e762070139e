package dev.splitnet.backend;

/**
 * The order in which the backend fills a frontend's posted receive buffers. Xen's ring returns
 * them in the order they were posted (Linux netfront depends on it); ring v2 names each buffer in
 * its response, so any order is correct there, and {@link #SHUFFLE} proves it.
 */
public enum RxOrder
{
    /** The order the buffers were posted in: the only order on Xen's ring. */
    POSTED,
    /**
     * A random posted buffer for each part of each packet, on ring v2 frontends (a test of the
     * frontend's by-id completion: every byte must still arrive, no buffer be posted twice). A
     * frontend on Xen's ring still gets posting order.
     */
    SHUFFLE
}

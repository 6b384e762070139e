package dev.splitnet.backend;

/**
 * How the backend hands a packet built in its own frames ({@link dev.splitnet.api.Backend#claimRx})
 * to a frontend that negotiated {@link dev.splitnet.api.Features#LAZY_RX} (docs/PROTOCOL.md,
 * "Lazy receive"). A frontend without the feature always gets {@link #COPY}.
 */
public enum RxMode
{
    /** Copy into the frontend's posted buffers (Xen's netback today); the backend declines lazy-rx, and {@code claimRx} returns null. */
    COPY,
    /**
     * Lend the backend frame: the buffer's P2M entry points at it until the frontend posts the
     * buffer again. Never copies: a frame held past the lend deadline is taken back and its
     * packet lost (counted in {@code rx_lent_dropped}).
     */
    FLIP,
    /**
     * The default. Lend, and copy into the frontend's own frame only when needed: the frontend writes the packet
     * ({@code rx_lazy_copies_write}), the backend's frames run low ({@code rx_lazy_copies_pressure}),
     * or the frontend holds one past the lend deadline ({@code rx_lazy_copies_deadline}).
     */
    LAZY
}

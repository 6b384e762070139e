package dev.splitnet.backend;

/**
 * How much and how long deliveries may wait for a frontend's RX buffers, from {@link BackendContext}
 * (netback's {@code XENVIF_RX_QUEUE_BYTES}, {@code rx_drain_timeout_msecs} and
 * {@code rx_stall_timeout_msecs}).
 */
record RxQueueLimits(long capBytes, long drainTimeoutNs, long stallTimeoutNs)
{
}

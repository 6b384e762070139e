package dev.splitnet.backend;

/**
 * How long and how much the backend lets consumers hold packets, from {@link BackendContext}:
 * held past {@code copyDeadlineNs} a packet is copied late (Herbert Xu's netloop patch used
 * 0.5 s); its copy is dropped past {@code dropLimitNs}; a frontend with more than
 * {@code pressureShare} of its TX ring unanswered has its oldest held packets copied; a frontend's
 * copies take at most {@code copyBytesPerFrontend} of the copy memory (netback caps a guest's
 * queue at 512 KiB); a frontend with more than {@code pressureShare} of its ring waiting in other
 * frontends' RX queues has its TX ring left unread for at most {@code senderPauseNs} (0: never).
 */
record HoldLimits(long copyDeadlineNs, long dropLimitNs, double pressureShare, long copyBytesPerFrontend, long senderPauseNs)
{
}

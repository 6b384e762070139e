package dev.splitnet.api;

/** The backend's consumer of transmitted packets: a switch, a router, a capture tool, a sink. */
@FunctionalInterface
public interface PacketHandler
{
    /**
     * Decides the packet's fate; the backend then releases its grants and answers the frontend.
     * A handler that {@linkplain Packet#hold() holds} the packet answers it later instead, with
     * {@link Backend#complete}; the return value is then ignored.
     */
    PacketStatus onPacket(Packet packet);
}

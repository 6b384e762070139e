package dev.splitnet.api;

/** The backend's consumer of transmitted packets: a switch, a router, a capture tool, a sink. */
@FunctionalInterface
public interface PacketHandler
{
    /** Decides the packet's fate; the backend then releases its grants and answers the frontend. */
    PacketStatus onPacket(Packet packet);
}

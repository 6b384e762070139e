package dev.splitnet.frontend;

import dev.splitnet.api.PacketStatus;
import dev.splitnet.api.TxCompletionHandler;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Every completion by correlation id, in order. */
final class Completions implements TxCompletionHandler
{
    private final Map<Long, List<PacketStatus>> byId = new HashMap<>();

    @Override
    public void onTxComplete(final long correlationId, final PacketStatus status)
    {
        byId.computeIfAbsent(correlationId, id -> new ArrayList<>()).add(status);
    }

    List<PacketStatus> of(final long correlationId)
    {
        return byId.getOrDefault(correlationId, List.of());
    }

    /** Packets first to first+count-1 each completed exactly once, with {@code status}. */
    void assertEach(final long first, final int count, final PacketStatus status)
    {
        for (long id = first; id < first + count; id++)
        {
            assertEquals(List.of(status), of(id), "packet " + id + " must be reported " + status + " exactly once");
        }
    }
}

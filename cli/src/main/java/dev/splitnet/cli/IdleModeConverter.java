package dev.splitnet.cli;

import dev.splitnet.api.IdleMode;

/** Reads {@code busy-spin}, {@code backoff} or {@code blocking}. */
final class IdleModeConverter extends NamedEnumConverter<IdleMode>
{
    IdleModeConverter()
    {
        super(IdleMode.class, "an idle mode");
    }
}

package dev.splitnet.cli;

import dev.splitnet.api.IdleMode;
import java.util.Locale;
import picocli.CommandLine;

/** Reads {@code busy-spin}, {@code backoff} or {@code blocking}. */
final class IdleModeConverter implements CommandLine.ITypeConverter<IdleMode>
{
    @Override
    public IdleMode convert(final String value)
    {
        try
        {
            return IdleMode.valueOf(value.toUpperCase(Locale.ROOT).replace('-', '_'));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new CommandLine.TypeConversionException("'" + value + "' is not an idle mode; use busy-spin, backoff or blocking");
        }
    }
}

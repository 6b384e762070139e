package dev.splitnet.cli;

import java.util.Locale;
import picocli.CommandLine;

/**
 * Reads an enum constant from its lower-case name with dashes for underscores ({@code busy-spin}
 * for {@code BUSY_SPIN}, as the command line's options show them), and names the choices when the
 * value is none of them.
 */
abstract class NamedEnumConverter<E extends Enum<E>> implements CommandLine.ITypeConverter<E>
{
    private final Class<E> type;
    private final String what;

    NamedEnumConverter(final Class<E> type, final String what)
    {
        this.type = type;
        this.what = what;
    }

    @Override
    public E convert(final String value)
    {
        try
        {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT).replace('-', '_'));
        }
        catch (final IllegalArgumentException ex)
        {
            final StringBuilder choices = new StringBuilder();
            final E[] constants = type.getEnumConstants();
            for (int i = 0; i < constants.length; i++)
            {
                choices.append(i == 0 ? "" : i == constants.length - 1 ? " or " : ", ").append(constants[i].name().toLowerCase(Locale.ROOT).replace('_', '-'));
            }
            throw new CommandLine.TypeConversionException("'" + value + "' is not " + what + "; use " + choices);
        }
    }
}

package dev.splitnet.it.container;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Just enough JSON to read what the splitnet commands print (objects, arrays, strings, integers,
 * true/false/null), so the tests assert on values rather than on substrings.
 */
final class Json
{
    private final String text;
    private int pos;

    private Json(final String text)
    {
        this.text = text;
    }

    /** Parses one JSON value; fails with the text when it is not JSON (e.g. a log line). */
    static Object parse(final String text)
    {
        final Json json = new Json(text);
        try
        {
            final Object value = json.value();
            json.skipSpace();
            if (json.pos != text.length())
            {
                throw json.error("trailing characters");
            }
            return value;
        }
        catch (final RuntimeException ex)
        {
            throw new AssertionError("not a JSON line: " + ex.getMessage() + ": " + text, ex);
        }
    }

    /** Parses a JSON object. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> object(final String text)
    {
        final Object value = parse(text);
        if (!(value instanceof Map))
        {
            throw new AssertionError("not a JSON object: " + text);
        }
        return (Map<String, Object>)value;
    }

    /** A number member of an object. */
    static long number(final Map<String, Object> object, final String key)
    {
        final Object value = object.get(key);
        if (!(value instanceof Long))
        {
            throw new AssertionError("no number \"" + key + "\" in " + object);
        }
        return (Long)value;
    }

    /** A string member of an object. */
    static String string(final Map<String, Object> object, final String key)
    {
        final Object value = object.get(key);
        if (!(value instanceof String))
        {
            throw new AssertionError("no string \"" + key + "\" in " + object);
        }
        return (String)value;
    }

    /** An object member of an object. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> member(final Map<String, Object> object, final String key)
    {
        final Object value = object.get(key);
        if (!(value instanceof Map))
        {
            throw new AssertionError("no object \"" + key + "\" in " + object);
        }
        return (Map<String, Object>)value;
    }

    /** An array-of-objects member of an object. */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> objects(final Map<String, Object> object, final String key)
    {
        final Object value = object.get(key);
        if (!(value instanceof List))
        {
            throw new AssertionError("no array \"" + key + "\" in " + object);
        }
        return (List<Map<String, Object>>)value;
    }

    private Object value()
    {
        skipSpace();
        if (pos >= text.length())
        {
            throw error("unexpected end");
        }
        final char c = text.charAt(pos);
        switch (c)
        {
            case '{':
                return objectValue();
            case '[':
                return arrayValue();
            case '"':
                return stringValue();
            case 't':
                return literal("true", Boolean.TRUE);
            case 'f':
                return literal("false", Boolean.FALSE);
            case 'n':
                return literal("null", null);
            default:
                return numberValue();
        }
    }

    private Map<String, Object> objectValue()
    {
        final Map<String, Object> map = new LinkedHashMap<>();
        pos++;
        skipSpace();
        if (peek() == '}')
        {
            pos++;
            return map;
        }
        while (true)
        {
            skipSpace();
            final String key = stringValue();
            skipSpace();
            expect(':');
            map.put(key, value());
            skipSpace();
            if (peek() == ',')
            {
                pos++;
                continue;
            }
            expect('}');
            return map;
        }
    }

    private List<Object> arrayValue()
    {
        final List<Object> list = new ArrayList<>();
        pos++;
        skipSpace();
        if (peek() == ']')
        {
            pos++;
            return list;
        }
        while (true)
        {
            list.add(value());
            skipSpace();
            if (peek() == ',')
            {
                pos++;
                continue;
            }
            expect(']');
            return list;
        }
    }

    private String stringValue()
    {
        expect('"');
        final StringBuilder sb = new StringBuilder();
        while (true)
        {
            if (pos >= text.length())
            {
                throw error("unterminated string");
            }
            final char c = text.charAt(pos++);
            if (c == '"')
            {
                return sb.toString();
            }
            if (c != '\\')
            {
                sb.append(c);
                continue;
            }
            final char e = text.charAt(pos++);
            switch (e)
            {
                case 'n': sb.append('\n'); break;
                case 't': sb.append('\t'); break;
                case 'r': sb.append('\r'); break;
                case 'b': sb.append('\b'); break;
                case 'f': sb.append('\f'); break;
                case 'u':
                    sb.append((char)Integer.parseInt(text.substring(pos, pos + 4), 16));
                    pos += 4;
                    break;
                default: sb.append(e); break;
            }
        }
    }

    private Long numberValue()
    {
        final int start = pos;
        if (peek() == '-')
        {
            pos++;
        }
        while (pos < text.length() && Character.isDigit(text.charAt(pos)))
        {
            pos++;
        }
        if (pos == start || (pos < text.length() && (text.charAt(pos) == '.' || text.charAt(pos) == 'e' || text.charAt(pos) == 'E')))
        {
            throw error("expected an integer");
        }
        return Long.parseLong(text.substring(start, pos));
    }

    private Object literal(final String word, final Object value)
    {
        if (!text.startsWith(word, pos))
        {
            throw error("expected " + word);
        }
        pos += word.length();
        return value;
    }

    private char peek()
    {
        return pos < text.length() ? text.charAt(pos) : '\0';
    }

    private void expect(final char c)
    {
        if (peek() != c)
        {
            throw error("expected '" + c + "'");
        }
        pos++;
    }

    private void skipSpace()
    {
        while (pos < text.length() && Character.isWhitespace(text.charAt(pos)))
        {
            pos++;
        }
    }

    private IllegalArgumentException error(final String what)
    {
        return new IllegalArgumentException(what + " at " + pos);
    }
}

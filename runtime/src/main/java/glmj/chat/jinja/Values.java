package glmj.chat.jinja;

import glmj.chat.jinja.Renderer.Namespace;
import glmj.chat.jinja.Renderer.Undefined;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** Python-like printing, comparison and arithmetic of template values. */
final class Values {
    private Values() {
    }

    static String typeName(Object value) {
        return switch (value) {
            case null -> "none";
            case Undefined u -> "an undefined value";
            case Boolean b -> "a boolean";
            case Long l -> "an integer";
            case Double d -> "a float";
            case String s -> "a string";
            case List<?> l -> "a list";
            case Map<?, ?> m -> "a mapping";
            case Namespace ns -> "a namespace";
            default -> "a " + value.getClass().getSimpleName().toLowerCase();
        };
    }

    /** What {{ value }} prints: Python's str(). */
    static String str(Object value) {
        return switch (value) {
            case Undefined u -> "";
            case String s -> s;
            case null, default -> repr(value, false);
        };
    }

    private static String repr(Object value, boolean quoteStrings) {
        return switch (value) {
            case null -> "None";
            case Undefined u -> "";
            case Boolean b -> b ? "True" : "False";
            case Long l -> Long.toString(l);
            case Double d -> pythonFloat(d);
            case String s -> quoteStrings ? "'" + s.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'" : s;
            case List<?> list -> {
                StringBuilder sb = new StringBuilder("[");
                for (int i = 0; i < list.size(); i++) {
                    sb.append(i > 0 ? ", " : "").append(repr(list.get(i), true));
                }
                yield sb.append(']').toString();
            }
            case Map<?, ?> map -> {
                StringBuilder sb = new StringBuilder("{");
                boolean first = true;
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    sb.append(first ? "" : ", ").append(repr(e.getKey(), true)).append(": ").append(repr(e.getValue(), true));
                    first = false;
                }
                yield sb.append('}').toString();
            }
            case Namespace ns -> "<Namespace>";
            default -> "<" + typeName(value) + ">";
        };
    }

    static String pythonFloat(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == Math.rint(d) && Math.abs(d) < 1e16) {
            return (long) d + ".0";
        }
        return Double.toString(d);
    }

    static boolean equal(Object a, Object b) {
        if (a instanceof Number x && b instanceof Number y) {
            return x.doubleValue() == y.doubleValue();
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            if (x.size() != y.size()) {
                return false;
            }
            for (int i = 0; i < x.size(); i++) {
                if (!equal(x.get(i), y.get(i))) {
                    return false;
                }
            }
            return true;
        }
        return Objects.equals(a, b);
    }

    static int compare(int line, Object a, Object b) {
        if (a instanceof Number x && b instanceof Number y) {
            return Double.compare(x.doubleValue(), y.doubleValue());
        }
        if (a instanceof String x && b instanceof String y) {
            return x.compareTo(y);
        }
        throw TemplateException.at(line, "cannot compare " + typeName(a) + " with " + typeName(b));
    }

    static Object arithmetic(int line, String op, Object a, Object b) {
        if (!(a instanceof Long || a instanceof Double) || !(b instanceof Long || b instanceof Double)) {
            throw TemplateException.at(line, "cannot apply '" + op + "' to " + typeName(a) + " and " + typeName(b));
        }
        if (a instanceof Long x && b instanceof Long y) {
            try {
                return integerArithmetic(line, op, x, y);
            } catch (ArithmeticException e) {
                throw TemplateException.at(line, "integer overflow in '" + op + "'");
            }
        }
        double x = ((Number) a).doubleValue();
        double y = ((Number) b).doubleValue();
        return switch (op) {
            case "+" -> x + y;
            case "-" -> x - y;
            case "*" -> x * y;
            case "/" -> divide(line, x, y);
            case "//" -> Math.floor(divide(line, x, y));
            case "%" -> x - y * Math.floor(divide(line, x, y));
            case "**" -> Math.pow(x, y);
            default -> throw TemplateException.at(line, "unknown operator '" + op + "'");
        };
    }

    private static Object integerArithmetic(int line, String op, long x, long y) {
        return switch (op) {
                case "+" -> Math.addExact(x, y);
                case "-" -> Math.subtractExact(x, y);
                case "*" -> Math.multiplyExact(x, y);
                case "/" -> divide(line, x, y);
                case "//" -> {
                    if (y == 0) {
                        throw TemplateException.at(line, "division by zero");
                    }
                    yield Math.floorDiv(x, y);
                }
                case "%" -> {
                    if (y == 0) {
                        throw TemplateException.at(line, "division by zero");
                    }
                    yield Math.floorMod(x, y);
                }
                case "**" -> {
                    if (y < 0 || y > 64) {
                        yield Math.pow(x, y);
                    }
                    long r = 1;
                    for (long i = 0; i < y; i++) {
                        r = Math.multiplyExact(r, x);
                    }
                    yield r;
                }
                default -> throw TemplateException.at(line, "unknown operator '" + op + "'");
            };
    }

    private static double divide(int line, double x, double y) {
        if (y == 0) {
            throw TemplateException.at(line, "division by zero");
        }
        return x / y;
    }

    /** The positions Python's seq[start:stop:step] selects. */
    static List<Integer> slicePositions(int line, int length, Long start, Long stop, Long step) {
        long s = step == null ? 1 : step;
        if (s == 0) {
            throw TemplateException.at(line, "slice step must not be zero");
        }
        long lo = s > 0 ? 0 : -1;
        long hi = s > 0 ? length : length - 1;
        long from = start == null ? (s > 0 ? lo : hi) : clamp(start < 0 ? start + length : start, lo, hi);
        long to = stop == null ? (s > 0 ? hi : lo) : clamp(stop < 0 ? stop + length : stop, lo, hi);
        List<Integer> positions = new ArrayList<>();
        for (long i = from; s > 0 ? i < to : i > to; i += s) {
            positions.add((int) i);
        }
        return positions;
    }

    private static long clamp(long v, long lo, long hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    /** JSON as Python's json.dumps with its default separators; ensure_ascii escapes everything outside ASCII. */
    static void toJson(int line, Object value, boolean ensureAscii, String indent, int depth, StringBuilder out, int maxChars) {
        if (depth > 100) {
            throw TemplateException.at(line, "tojson: value nests deeper than 100");
        }
        if (out.length() > maxChars) {
            throw TemplateException.at(line, "tojson: output exceeds the limit of " + maxChars + " characters");
        }
        switch (value) {
            case null -> out.append("null");
            case Undefined u -> out.append("null");
            case Boolean b -> out.append(b);
            case Long l -> out.append(l);
            case Double d -> out.append(Double.isFinite(d) ? pythonFloat(d) : d.isNaN() ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
            case String s -> jsonString(s, ensureAscii, out);
            case List<?> list -> {
                out.append('[');
                for (int i = 0; i < list.size(); i++) {
                    out.append(i > 0 ? "," : "");
                    newline(indent, depth + 1, out, i > 0);
                    toJson(line, list.get(i), ensureAscii, indent, depth + 1, out, maxChars);
                }
                if (!list.isEmpty()) {
                    newline(indent, depth, out, false);
                }
                out.append(']');
            }
            case Map<?, ?> map -> {
                out.append('{');
                int i = 0;
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    out.append(i > 0 ? "," : "");
                    newline(indent, depth + 1, out, i > 0);
                    jsonString(String.valueOf(e.getKey()), ensureAscii, out);
                    out.append(": ");
                    toJson(line, e.getValue(), ensureAscii, indent, depth + 1, out, maxChars);
                    i++;
                }
                if (!map.isEmpty()) {
                    newline(indent, depth, out, false);
                }
                out.append('}');
            }
            default -> throw TemplateException.at(line, "tojson: cannot serialise " + typeName(value));
        }
    }

    private static void newline(String indent, int depth, StringBuilder out, boolean afterComma) {
        if (indent == null) {
            if (afterComma) {
                out.append(' ');
            }
            return;
        }
        out.append('\n').append(indent.repeat(depth));
    }

    private static void jsonString(String s, boolean ensureAscii, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || (ensureAscii && c > 0x7e)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}

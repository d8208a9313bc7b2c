package glmj.chat.jinja;

import glmj.chat.jinja.Renderer.Namespace;
import glmj.chat.jinja.Renderer.Undefined;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The filters chat templates use ({@code value | name(args)}). */
final class Filters {
    static final Set<String> NAMES = Set.of("tojson", "string", "trim", "length", "count", "join", "upper", "lower",
            "default", "d", "first", "last", "list", "safe", "replace", "int", "float", "abs", "capitalize", "title",
            "items", "reverse");

    private Filters() {
    }

    static Object apply(Renderer renderer, Node.Filter f, Object value, List<Object> args, Map<String, Object> kwargs) {
        int line = f.line();
        String name = f.name();
        if (!NAMES.contains(name)) {
            throw TemplateException.at(line, "unknown filter '" + name + "'");
        }
        if (value instanceof Undefined && !name.equals("default") && !name.equals("d") && !name.equals("string")
                && !name.equals("tojson")) {
            throw TemplateException.at(line, "filter '" + name + "' applied to an undefined value");
        }
        return switch (name) {
            case "tojson" -> {
                Object indentArg = kwargs.containsKey("indent") ? kwargs.get("indent") : args.isEmpty() ? null : args.getFirst();
                String indent = indentArg instanceof Long n ? " ".repeat((int) Math.min(Math.max(n, 0), 16)) : null;
                boolean ensureAscii = !Boolean.FALSE.equals(kwargs.getOrDefault("ensure_ascii", Boolean.TRUE));
                StringBuilder out = new StringBuilder();
                Values.toJson(line, value, ensureAscii, indent, 0, out, renderer.maxChars());
                yield renderer.charge(line, out.toString());
            }
            case "string" -> renderer.charge(line, Values.str(value));
            case "trim" -> Methods.strip(text(line, name, value), args.isEmpty() ? null : Methods.argument(line, name, args, 0, String.class, null), true, true);
            case "length", "count" -> (long) switch (value) {
                case String s -> s.length();
                case List<?> l -> l.size();
                case Map<?, ?> m -> m.size();
                case Namespace ns -> ns.values.size();
                case null, default -> throw TemplateException.at(line, "filter '" + name + "' needs a string or collection, not " + Values.typeName(value));
            };
            case "join" -> {
                String separator = args.isEmpty() ? "" : Methods.argument(line, name, args, 0, String.class, null);
                StringBuilder sb = new StringBuilder();
                List<?> items = sequence(line, name, value);
                for (int i = 0; i < items.size(); i++) {
                    sb.append(i > 0 ? separator : "").append(Values.str(items.get(i)));
                    renderer.charge(line, "", sb.length());
                }
                yield renderer.charge(line, sb.toString());
            }
            case "upper" -> text(line, name, value).toUpperCase();
            case "lower" -> text(line, name, value).toLowerCase();
            case "capitalize" -> {
                String s = text(line, name, value);
                yield s.isEmpty() ? s : s.substring(0, 1).toUpperCase() + s.substring(1).toLowerCase();
            }
            case "title" -> Methods.title(text(line, name, value));
            case "default", "d" -> {
                Object fallback = args.isEmpty() ? "" : args.getFirst();
                boolean alsoFalsy = args.size() > 1 && Renderer.truthy(args.get(1));
                yield value instanceof Undefined || (alsoFalsy && !Renderer.truthy(value)) ? fallback : value;
            }
            case "first" -> {
                List<?> items = sequence(line, name, value);
                yield items.isEmpty() ? Undefined.VALUE : items.getFirst();
            }
            case "last" -> {
                List<?> items = sequence(line, name, value);
                yield items.isEmpty() ? Undefined.VALUE : items.getLast();
            }
            case "list" -> sequence(line, name, value);
            case "reverse" -> {
                if (value instanceof String s) {
                    yield new StringBuilder(s).reverse().toString();
                }
                List<Object> items = new ArrayList<>(sequence(line, name, value));
                Collections.reverse(items);
                yield Collections.unmodifiableList(items);
            }
            case "items" -> {
                if (!(value instanceof Map<?, ?> map)) {
                    throw TemplateException.at(line, "filter 'items' needs a mapping, not " + Values.typeName(value));
                }
                List<Object> items = new ArrayList<>();
                map.forEach((k, v) -> items.add(Collections.unmodifiableList(Arrays.asList(k, v))));
                yield renderer.charge(line, Collections.unmodifiableList(items), items.size());
            }
            case "safe" -> value;
            case "replace" -> Methods.call(renderer, line, text(line, name, value), "replace", args);
            case "int" -> switch (value) {
                case Long l -> l;
                case Double d -> (long) d.doubleValue();
                case Boolean b -> b ? 1L : 0L;
                case String s -> {
                    try {
                        yield Long.parseLong(s.strip());
                    } catch (NumberFormatException e) {
                        yield args.isEmpty() ? 0L : args.getFirst();
                    }
                }
                case null, default -> args.isEmpty() ? 0L : args.getFirst();
            };
            case "float" -> switch (value) {
                case Long l -> l.doubleValue();
                case Double d -> d;
                case String s -> {
                    try {
                        yield Double.parseDouble(s.strip());
                    } catch (NumberFormatException e) {
                        yield args.isEmpty() ? 0.0 : args.getFirst();
                    }
                }
                case null, default -> args.isEmpty() ? 0.0 : args.getFirst();
            };
            case "abs" -> switch (value) {
                case Long l -> Math.abs(l);
                case Double d -> Math.abs(d);
                case null, default -> throw TemplateException.at(line, "filter 'abs' needs a number, not " + Values.typeName(value));
            };
            default -> throw TemplateException.at(line, "unknown filter '" + name + "'");
        };
    }

    private static String text(int line, String filter, Object value) {
        if (value instanceof String s) {
            return s;
        }
        throw TemplateException.at(line, "filter '" + filter + "' needs a string, not " + Values.typeName(value));
    }

    private static List<?> sequence(int line, String filter, Object value) {
        return switch (value) {
            case List<?> l -> l;
            case String s -> s.codePoints().mapToObj(Character::toString).toList();
            case Map<?, ?> m -> List.copyOf(m.keySet());
            case null, default -> throw TemplateException.at(line, "filter '" + filter + "' needs a sequence, not " + Values.typeName(value));
        };
    }
}

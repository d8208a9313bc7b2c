package glmj.chat.jinja;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The few methods templates call on strings and mappings, with Python's semantics. */
final class Methods {
    private static final Set<String> STRING_METHODS = Set.of("strip", "lstrip", "rstrip", "split", "startswith", "endswith",
            "upper", "lower", "replace", "title", "capitalize", "find", "count");
    private static final Set<String> MAP_METHODS = Set.of("items", "keys", "values", "get");

    private Methods() {
    }

    static boolean isMethod(Object receiver, String name) {
        return receiver instanceof String ? STRING_METHODS.contains(name)
                : receiver instanceof Map<?, ?> && MAP_METHODS.contains(name);
    }

    static Object call(Renderer renderer, int line, Object receiver, String name, List<Object> args) {
        if (receiver instanceof Map<?, ?> map) {
            return switch (name) {
                case "items" -> {
                    List<Object> items = new ArrayList<>(map.size());
                    map.forEach((k, v) -> items.add(Collections.unmodifiableList(Arrays.asList(k, v))));
                    yield renderer.charge(line, Collections.unmodifiableList(items), items.size());
                }
                case "keys" -> renderer.charge(line, List.copyOf(map.keySet()), map.size());
                case "values" -> renderer.charge(line, Collections.unmodifiableList(new ArrayList<>(map.values())), map.size());
                default -> {
                    Object key = argument(line, name, args, 0, Object.class, null);
                    yield map.containsKey(key) ? map.get(key) : args.size() > 1 ? args.get(1) : null;
                }
            };
        }
        String s = (String) receiver;
        return switch (name) {
            case "strip" -> strip(s, chars(line, name, args), true, true);
            case "lstrip" -> strip(s, chars(line, name, args), true, false);
            case "rstrip" -> strip(s, chars(line, name, args), false, true);
            case "split" -> renderer.charge(line, split(line, s, args), s.length());
            case "startswith", "endswith" -> {
                Object suffix = argument(line, name, args, 0, Object.class, null);
                List<?> options = suffix instanceof List<?> l ? l : List.of(suffix);
                boolean matched = false;
                for (Object option : options) {
                    if (!(option instanceof String o)) {
                        throw TemplateException.at(line, name + "() takes a string, not " + Values.typeName(option));
                    }
                    matched |= name.equals("startswith") ? s.startsWith(o) : s.endsWith(o);
                }
                yield matched;
            }
            case "upper" -> s.toUpperCase();
            case "lower" -> s.toLowerCase();
            case "title" -> title(s);
            case "capitalize" -> s.isEmpty() ? s : s.substring(0, 1).toUpperCase() + s.substring(1).toLowerCase();
            case "find" -> (long) s.indexOf(argument(line, name, args, 0, String.class, null));
            case "count" -> {
                String part = argument(line, name, args, 0, String.class, null);
                yield part.isEmpty() ? (long) s.length() + 1 : (long) split(s, part, -1).size() - 1;
            }
            default -> {
                String old = argument(line, name, args, 0, String.class, null);
                String replacement = argument(line, name, args, 1, String.class, null);
                if (old.isEmpty()) {
                    throw TemplateException.at(line, "replace() of an empty string is not supported");
                }
                long size = (long) s.length() + (long) (split(s, old, -1).size() - 1) * Math.max(0, replacement.length() - old.length());
                if (size > Integer.MAX_VALUE) {
                    throw TemplateException.at(line, "replace() result is too large");
                }
                renderer.charge(line, "", (int) size);
                yield s.replace(old, replacement);
            }
        };
    }

    static <T> T argument(int line, String method, List<Object> args, int index, Class<T> type, T defaultValue) {
        if (index >= args.size()) {
            if (defaultValue != null) {
                return defaultValue;
            }
            throw TemplateException.at(line, method + "() needs argument " + (index + 1));
        }
        Object value = args.get(index);
        if (!type.isInstance(value)) {
            throw TemplateException.at(line, method + "() argument " + (index + 1) + " must be "
                    + (type == String.class ? "a string" : type == Long.class ? "an integer" : "a value") + ", not " + Values.typeName(value));
        }
        return type.cast(value);
    }

    private static String chars(int line, String method, List<Object> args) {
        if (args.isEmpty() || args.getFirst() == null) {
            return null;
        }
        return argument(line, method, args, 0, String.class, null);
    }

    /** Python's strip family: {@code chars} null means whitespace. */
    static String strip(String s, String chars, boolean leading, boolean trailing) {
        int start = 0;
        int end = s.length();
        while (leading && start < end && strippable(s.charAt(start), chars)) {
            start++;
        }
        while (trailing && end > start && strippable(s.charAt(end - 1), chars)) {
            end--;
        }
        return s.substring(start, end);
    }

    private static boolean strippable(char c, String chars) {
        return chars == null ? Character.isWhitespace(c) : chars.indexOf(c) >= 0;
    }

    private static List<Object> split(int line, String s, List<Object> args) {
        Object separator = args.isEmpty() ? null : args.getFirst();
        long maxSplit = args.size() > 1 ? argument(line, "split", args, 1, Long.class, null) : -1;
        if (separator == null) {
            List<Object> parts = new ArrayList<>();
            for (String part : s.strip().split("\\s+", maxSplit < 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, maxSplit + 1))) {
                if (!part.isEmpty()) {
                    parts.add(part);
                }
            }
            return Collections.unmodifiableList(parts);
        }
        if (!(separator instanceof String sep) || sep.isEmpty()) {
            throw TemplateException.at(line, "split() separator must be a non-empty string");
        }
        return Collections.unmodifiableList(split(s, sep, maxSplit));
    }

    /** Python's str.split(sep, maxsplit): exact separators, empty parts kept. */
    static List<Object> split(String s, String separator, long maxSplit) {
        List<Object> parts = new ArrayList<>();
        int from = 0;
        while (maxSplit < 0 || parts.size() < maxSplit) {
            int at = s.indexOf(separator, from);
            if (at < 0) {
                break;
            }
            parts.add(s.substring(from, at));
            from = at + separator.length();
        }
        parts.add(s.substring(from));
        return parts;
    }

    static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean startOfWord = true;
        for (char c : s.toCharArray()) {
            sb.append(startOfWord ? Character.toUpperCase(c) : Character.toLowerCase(c));
            startOfWord = !Character.isLetter(c);
        }
        return sb.toString();
    }
}

package glmj.chat.jinja;

import glmj.chat.jinja.Renderer.BoundMethod;
import glmj.chat.jinja.Renderer.Builtin;
import glmj.chat.jinja.Renderer.MacroValue;
import glmj.chat.jinja.Renderer.Namespace;
import glmj.chat.jinja.Renderer.Undefined;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** The tests of {@code value is name}. */
final class Tests {
    static final Set<String> NAMES = Set.of("defined", "undefined", "none", "string", "number", "integer", "float",
            "boolean", "mapping", "iterable", "sequence", "true", "false", "odd", "even", "divisibleby", "eq", "equalto",
            "ne", "callable", "lower", "upper", "in");

    private Tests() {
    }

    static boolean apply(Node.Test t, Object value, List<Object> args) {
        int line = t.line();
        return switch (t.name()) {
            case "defined" -> !(value instanceof Undefined);
            case "undefined" -> value instanceof Undefined;
            case "none" -> value == null;
            case "string" -> value instanceof String;
            case "number" -> value instanceof Long || value instanceof Double;
            case "integer" -> value instanceof Long;
            case "float" -> value instanceof Double;
            case "boolean" -> value instanceof Boolean;
            case "true" -> Boolean.TRUE.equals(value);
            case "false" -> Boolean.FALSE.equals(value);
            case "mapping" -> value instanceof Map<?, ?> || value instanceof Namespace;
            case "iterable" -> value instanceof List<?> || value instanceof Map<?, ?> || value instanceof String;
            case "sequence" -> value instanceof List<?> || value instanceof String;
            case "callable" -> value instanceof MacroValue || value instanceof BoundMethod || value instanceof Builtin;
            case "lower" -> value instanceof String s && s.equals(s.toLowerCase());
            case "upper" -> value instanceof String s && s.equals(s.toUpperCase());
            case "odd", "even" -> {
                if (!(value instanceof Long n)) {
                    throw TemplateException.at(line, "test '" + t.name() + "' needs an integer, not " + Values.typeName(value));
                }
                yield (n % 2 == 0) == t.name().equals("even");
            }
            case "divisibleby" -> {
                if (!(value instanceof Long n) || args.size() != 1 || !(args.getFirst() instanceof Long d) || d == 0) {
                    throw TemplateException.at(line, "test 'divisibleby' needs an integer and a non-zero integer");
                }
                yield n % d == 0;
            }
            case "eq", "equalto", "ne" -> {
                if (args.size() != 1) {
                    throw TemplateException.at(line, "test '" + t.name() + "' needs one argument");
                }
                yield Values.equal(value, args.getFirst()) != t.name().equals("ne");
            }
            case "in" -> {
                if (args.size() != 1) {
                    throw TemplateException.at(line, "test 'in' needs one argument");
                }
                yield switch (args.getFirst()) {
                    case List<?> l -> l.stream().anyMatch(e -> Values.equal(e, value));
                    case Map<?, ?> m -> m.containsKey(value);
                    case String s when value instanceof String v -> s.contains(v);
                    case null, default -> throw TemplateException.at(line, "test 'in' needs a collection");
                };
            }
            default -> throw TemplateException.at(line, "unknown test '" + t.name() + "'");
        };
    }
}

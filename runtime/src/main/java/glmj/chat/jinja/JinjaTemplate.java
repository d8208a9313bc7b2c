package glmj.chat.jinja;

import glmj.chat.jinja.Node.Stmt;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;

/**
 * A chat template in the subset of Jinja that chat templates use: text, {{ }}, if/elif/else, for (with loop variables,
 * unpacking, filter, else, break/continue), set (also of namespace attributes and as a block), macros, the usual operators,
 * filters, tests and string/mapping methods. A template is data from a model file: rendering it sees only the plain values
 * passed in, cannot reach Java objects, files or code, and stops with a {@link TemplateException} when it breaks its
 * {@link TemplateLimits}.
 */
public final class JinjaTemplate {
    private final List<Stmt> body;
    private final TemplateLimits limits;

    private JinjaTemplate(List<Stmt> body, TemplateLimits limits) {
        this.body = body;
        this.limits = limits;
    }

    public static JinjaTemplate parse(String source) {
        return parse(source, TemplateLimits.defaults());
    }

    public static JinjaTemplate parse(String source, TemplateLimits limits) {
        if (source.length() > limits.maxOutputChars()) {
            throw new TemplateException("template of " + source.length() + " characters exceeds the limit of " + limits.maxOutputChars());
        }
        try {
            return new JinjaTemplate(Parser.parse(source, limits.maxNesting()), limits);
        } catch (StackOverflowError e) {
            throw new TemplateException("template nests too deeply to parse");
        }
    }

    /**
     * Renders with the given variables: null, Boolean, Integer, Long, Float, Double, String, List and Map with String keys,
     * nested. Anything else is refused.
     */
    public String render(Map<String, ?> variables) {
        return render(variables, () -> false);
    }

    /**
     * {@link #render(Map)}, asking {@code cancelled} every few thousand steps (well under a millisecond apart).
     *
     * @throws CancellationException when {@code cancelled} says so
     */
    public String render(Map<String, ?> variables, BooleanSupplier cancelled) {
        Map<String, Object> context = new LinkedHashMap<>();
        variables.forEach((k, v) -> context.put(k, plain(v, k, 0)));
        return new Renderer(limits, context, cancelled).render(body);
    }

    private static Object plain(Object value, String path, int depth) {
        if (depth > 64) {
            throw new IllegalArgumentException("template variable " + path + " nests deeper than 64");
        }
        return switch (value) {
            case null -> null;
            case Boolean b -> b;
            case Integer i -> i.longValue();
            case Long l -> l;
            case Float f -> f.doubleValue();
            case Double d -> d;
            case String s -> s;
            case List<?> list -> {
                List<Object> copy = new ArrayList<>(list.size());
                for (int i = 0; i < list.size(); i++) {
                    copy.add(plain(list.get(i), path + "[" + i + "]", depth + 1));
                }
                yield Collections.unmodifiableList(copy);
            }
            case Map<?, ?> map -> {
                Map<String, Object> copy = new LinkedHashMap<>();
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    if (!(e.getKey() instanceof String key)) {
                        throw new IllegalArgumentException("template variable " + path + " has a key that is not a string");
                    }
                    copy.put(key, plain(e.getValue(), path + "." + key, depth + 1));
                }
                yield Collections.unmodifiableMap(copy);
            }
            default -> throw new IllegalArgumentException("template variable " + path + " is a "
                    + value.getClass().getSimpleName() + ", not a plain value");
        };
    }
}

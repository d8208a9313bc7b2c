package glmj.chat.jinja;

import glmj.chat.jinja.Node.Expr;
import glmj.chat.jinja.Node.Stmt;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;

/**
 * Evaluates a parsed template over plain values only: null (none), Boolean, Long, Double, String, List, Map with String
 * keys, plus the interpreter's own undefined, namespace, loop, macro and method values. Nothing reaches a Java object's
 * members; attributes and methods are a fixed list. Every step is counted against {@link TemplateLimits}, and every few
 * thousand ask whether the rendering is cancelled.
 */
final class Renderer {
    /** A missing variable, attribute or item: falsy, prints as nothing, fails when used as a value. */
    enum Undefined { VALUE }

    /** The mutable object {@code namespace(...)} makes so assignments can leave a loop. */
    static final class Namespace {
        final Map<String, Object> values = new LinkedHashMap<>();
    }

    record MacroValue(Node.Macro definition) {}

    record BoundMethod(Object receiver, String name) {}

    enum Builtin { RANGE, NAMESPACE, RAISE_EXCEPTION, DICT }

    record Loop(int index0, int length, Object previous, Object next) {}

    private static final class Scope {
        final Scope parent;
        final Map<String, Object> variables = new HashMap<>();

        Scope(Scope parent) {
            this.parent = parent;
        }

        Object lookup(String name) {
            for (Scope s = this; s != null; s = s.parent) {
                if (s.variables.containsKey(name)) {
                    return s.variables.get(name);
                }
            }
            return Undefined.VALUE;
        }
    }

    private static final class LoopControl extends RuntimeException {
        final boolean isBreak;

        LoopControl(boolean isBreak) {
            super(null, null, false, false);
            this.isBreak = isBreak;
        }
    }

    /** Steps between two questions whether the rendering is cancelled. */
    private static final long STEPS_PER_CANCEL_CHECK = 4096;

    private final TemplateLimits limits;
    private final BooleanSupplier cancelled;
    private final Scope globals = new Scope(null);
    private long steps;
    private long nextCancelCheck = STEPS_PER_CANCEL_CHECK;
    private int callDepth;

    Renderer(TemplateLimits limits, Map<String, Object> context, BooleanSupplier cancelled) {
        this.limits = limits;
        this.cancelled = cancelled;
        globals.variables.putAll(context);
        globals.variables.put("range", Builtin.RANGE);
        globals.variables.put("namespace", Builtin.NAMESPACE);
        globals.variables.put("raise_exception", Builtin.RAISE_EXCEPTION);
        globals.variables.put("dict", Builtin.DICT);
    }

    String render(List<Stmt> body) {
        StringBuilder out = new StringBuilder();
        try {
            execute(body, globals, out);
        } catch (LoopControl e) {
            throw new TemplateException("template: break or continue outside a loop");
        } catch (StackOverflowError e) {
            throw new TemplateException("template nests too deeply to render");
        }
        return out.toString();
    }

    // ---- accounting

    private void step(int line) {
        if (++steps > limits.maxSteps()) {
            throw TemplateException.at(line, "rendering exceeded its budget of " + limits.maxSteps() + " steps");
        }
        if (steps >= nextCancelCheck) {
            nextCancelCheck = steps + STEPS_PER_CANCEL_CHECK;
            if (cancelled.getAsBoolean()) {
                throw new CancellationException("rendering cancelled at template line " + line);
            }
        }
    }

    /** Charges for a string or list an operation built, and refuses one longer than the output may be. */
    private <T> T built(int line, T value, int size) {
        if (size > limits.maxOutputChars()) {
            throw TemplateException.at(line, "a value of " + size + " characters or items exceeds the limit of " + limits.maxOutputChars());
        }
        steps += size / 16;
        step(line);
        return value;
    }

    private String built(int line, String value) {
        return built(line, value, value.length());
    }

    private void emit(int line, StringBuilder out, String text) {
        if ((long) out.length() + text.length() > limits.maxOutputChars()) {
            throw TemplateException.at(line, "output exceeds the limit of " + limits.maxOutputChars() + " characters");
        }
        steps += text.length() / 16;
        out.append(text);
    }

    // ---- statements

    private void execute(List<Stmt> body, Scope scope, StringBuilder out) {
        for (Stmt stmt : body) {
            execute(stmt, scope, out);
        }
    }

    private void execute(Stmt stmt, Scope scope, StringBuilder out) {
        step(stmt.line());
        switch (stmt) {
            case Node.Text t -> emit(t.line(), out, t.text());
            case Node.Output o -> emit(o.line(), out, Values.str(evaluate(o.value(), scope)));
            case Node.If i -> execute(truthy(evaluate(i.condition(), scope)) ? i.then() : i.otherwise(), scope, out);
            case Node.For f -> loop(f, scope, out);
            case Node.Set s -> assign(s, scope);
            case Node.SetBlock s -> {
                StringBuilder captured = new StringBuilder();
                execute(s.body(), scope, captured);
                scope.variables.put(s.name(), captured.toString());
            }
            case Node.Macro m -> scope.variables.put(m.name(), new MacroValue(m));
            case Node.LoopControl c -> throw new LoopControl(c.isBreak());
        }
    }

    private void assign(Node.Set s, Scope scope) {
        Object value = evaluate(s.value(), scope);
        if (s.attribute() == null) {
            scope.variables.put(s.name(), value);
            return;
        }
        if (!(scope.lookup(s.name()) instanceof Namespace ns)) {
            throw TemplateException.at(s.line(), "cannot set attribute '" + s.attribute() + "' of '" + s.name() + "', which is not a namespace");
        }
        checkAttributeName(s.line(), s.attribute());
        ns.values.put(s.attribute(), value);
    }

    private void loop(Node.For f, Scope scope, StringBuilder out) {
        List<Object> items = new ArrayList<>();
        for (Object item : iterate(f.line(), evaluate(f.iterable(), scope))) {
            step(f.line());
            if (f.filter() != null) {
                Scope test = new Scope(scope);
                bindTargets(f, test, item);
                if (!truthy(evaluate(f.filter(), test))) {
                    continue;
                }
            }
            items.add(item);
        }
        if (items.isEmpty()) {
            execute(f.otherwise(), scope, out);
            return;
        }
        for (int i = 0; i < items.size(); i++) {
            step(f.line());
            Scope iteration = new Scope(scope);
            bindTargets(f, iteration, items.get(i));
            iteration.variables.put("loop", new Loop(i, items.size(),
                    i > 0 ? items.get(i - 1) : Undefined.VALUE, i + 1 < items.size() ? items.get(i + 1) : Undefined.VALUE));
            try {
                execute(f.body(), iteration, out);
            } catch (LoopControl control) {
                if (control.isBreak) {
                    break;
                }
            }
        }
    }

    private void bindTargets(Node.For f, Scope scope, Object item) {
        if (f.targets().size() == 1) {
            scope.variables.put(f.targets().getFirst(), item);
            return;
        }
        List<?> parts = item instanceof List<?> l ? l : null;
        if (parts == null || parts.size() != f.targets().size()) {
            throw TemplateException.at(f.line(), "cannot unpack " + Values.typeName(item) + " into " + f.targets().size() + " loop variables");
        }
        for (int i = 0; i < parts.size(); i++) {
            scope.variables.put(f.targets().get(i), parts.get(i));
        }
    }

    private List<?> iterate(int line, Object value) {
        return switch (value) {
            case List<?> list -> list;
            case Map<?, ?> map -> new ArrayList<>(map.keySet());
            case String s -> s.codePoints().mapToObj(Character::toString).toList();
            case Namespace ns -> new ArrayList<>(ns.values.keySet());
            case null, default -> throw TemplateException.at(line, Values.typeName(value) + " is not iterable");
        };
    }

    // ---- expressions

    Object evaluate(Expr expr, Scope scope) {
        step(expr.line());
        return switch (expr) {
            case Node.Literal l -> l.value();
            case Node.Name n -> scope.lookup(n.name());
            case Node.ListExpr l -> {
                List<Object> items = new ArrayList<>(l.items().size());
                for (Expr item : l.items()) {
                    items.add(evaluate(item, scope));
                }
                yield Collections.unmodifiableList(items);
            }
            case Node.DictExpr d -> {
                Map<String, Object> map = new LinkedHashMap<>();
                for (int i = 0; i < d.keys().size(); i++) {
                    Object key = evaluate(d.keys().get(i), scope);
                    if (!(key instanceof String k)) {
                        throw TemplateException.at(d.line(), "dictionary keys must be strings, not " + Values.typeName(key));
                    }
                    map.put(k, evaluate(d.values().get(i), scope));
                }
                yield Collections.unmodifiableMap(map);
            }
            case Node.Attribute a -> attribute(a.line(), evaluate(a.target(), scope), a.name());
            case Node.Index i -> index(i.line(), evaluate(i.target(), scope), evaluate(i.index(), scope));
            case Node.Slice s -> slice(s, scope);
            case Node.Call c -> call(c, scope);
            case Node.Filter f -> Filters.apply(this, f, evaluate(f.value(), scope), evaluateAll(f.args(), scope),
                    keywords(f.keywordNames(), f.keywordValues(), scope));
            case Node.Test t -> Tests.apply(t, evaluate(t.value(), scope), evaluateAll(t.args(), scope)) != t.negated();
            case Node.Unary u -> unary(u, scope);
            case Node.Binary b -> binary(b, scope);
            case Node.Conditional c -> truthy(evaluate(c.condition(), scope)) ? evaluate(c.then(), scope)
                    : c.otherwise() == null ? Undefined.VALUE : evaluate(c.otherwise(), scope);
        };
    }

    private List<Object> evaluateAll(List<Expr> exprs, Scope scope) {
        List<Object> values = new ArrayList<>(exprs.size());
        for (Expr e : exprs) {
            values.add(evaluate(e, scope));
        }
        return values;
    }

    private Map<String, Object> keywords(List<String> names, List<Expr> values, Scope scope) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            map.put(names.get(i), evaluate(values.get(i), scope));
        }
        return map;
    }

    static boolean truthy(Object value) {
        return switch (value) {
            case null -> false;
            case Undefined u -> false;
            case Boolean b -> b;
            case Long l -> l != 0;
            case Double d -> d != 0;
            case String s -> !s.isEmpty();
            case List<?> l -> !l.isEmpty();
            case Map<?, ?> m -> !m.isEmpty();
            default -> true;
        };
    }

    private static void checkAttributeName(int line, String name) {
        if (name.startsWith("_")) {
            throw TemplateException.at(line, "attribute '" + name + "' is not accessible");
        }
    }

    private Object attribute(int line, Object target, String name) {
        checkAttributeName(line, name);
        return switch (target) {
            case Undefined u -> throw TemplateException.at(line, "cannot read attribute '" + name + "' of an undefined value");
            case null -> throw TemplateException.at(line, "cannot read attribute '" + name + "' of none");
            case Namespace ns -> ns.values.containsKey(name) ? ns.values.get(name) : Undefined.VALUE;
            case Loop loop -> loopAttribute(loop, name);
            case Map<?, ?> map when Methods.isMethod(target, name) -> new BoundMethod(target, name);
            case Map<?, ?> map -> map.containsKey(name) ? map.get(name) : Undefined.VALUE;
            default -> Methods.isMethod(target, name) ? new BoundMethod(target, name) : Undefined.VALUE;
        };
    }

    private static Object loopAttribute(Loop loop, String name) {
        return switch (name) {
            case "index0" -> (long) loop.index0();
            case "index" -> (long) loop.index0() + 1;
            case "revindex0" -> (long) (loop.length() - loop.index0() - 1);
            case "revindex" -> (long) (loop.length() - loop.index0());
            case "first" -> loop.index0() == 0;
            case "last" -> loop.index0() == loop.length() - 1;
            case "length" -> (long) loop.length();
            case "previtem" -> loop.previous();
            case "nextitem" -> loop.next();
            default -> Undefined.VALUE;
        };
    }

    private Object index(int line, Object target, Object key) {
        return switch (target) {
            case Undefined u -> throw TemplateException.at(line, "cannot index an undefined value");
            case List<?> list when key instanceof Long i -> {
                long at = i < 0 ? list.size() + i : i;
                yield at >= 0 && at < list.size() ? list.get((int) at) : Undefined.VALUE;
            }
            case String s when key instanceof Long i -> {
                long at = i < 0 ? s.length() + i : i;
                yield at >= 0 && at < s.length() ? String.valueOf(s.charAt((int) at)) : Undefined.VALUE;
            }
            case Map<?, ?> map when key instanceof String k -> map.containsKey(k) ? map.get(k) : Undefined.VALUE;
            case Namespace ns when key instanceof String k -> attribute(line, ns, k);
            case Loop loop when key instanceof String k -> loopAttribute(loop, k);
            case null, default -> throw TemplateException.at(line, "cannot index " + Values.typeName(target) + " with " + Values.typeName(key));
        };
    }

    private Object slice(Node.Slice s, Scope scope) {
        Object target = evaluate(s.target(), scope);
        Long start = optionalInt(s.line(), s.start() == null ? null : evaluate(s.start(), scope));
        Long stop = optionalInt(s.line(), s.stop() == null ? null : evaluate(s.stop(), scope));
        Long step = optionalInt(s.line(), s.step() == null ? null : evaluate(s.step(), scope));
        int length = switch (target) {
            case List<?> l -> l.size();
            case String str -> str.length();
            case null, default -> throw TemplateException.at(s.line(), "cannot slice " + Values.typeName(target));
        };
        List<Integer> positions = Values.slicePositions(s.line(), length, start, stop, step);
        if (target instanceof String str) {
            StringBuilder sb = new StringBuilder();
            for (int p : positions) {
                sb.append(str.charAt(p));
            }
            return built(s.line(), sb.toString());
        }
        List<?> list = (List<?>) target;
        List<Object> result = new ArrayList<>();
        for (int p : positions) {
            result.add(list.get(p));
        }
        return built(s.line(), Collections.unmodifiableList(result), result.size());
    }

    private static Long optionalInt(int line, Object value) {
        if (value == null || value instanceof Undefined) {
            return null;
        }
        if (value instanceof Long l) {
            return l;
        }
        throw TemplateException.at(line, "slice bounds must be integers, not " + Values.typeName(value));
    }

    private Object call(Node.Call c, Scope scope) {
        Object callee = evaluate(c.callee(), scope);
        List<Object> args = evaluateAll(c.args(), scope);
        Map<String, Object> kwargs = keywords(c.keywordNames(), c.keywordValues(), scope);
        return switch (callee) {
            case MacroValue m -> callMacro(c.line(), m.definition(), args, kwargs);
            case BoundMethod b -> Methods.call(this, c.line(), b.receiver(), b.name(), args);
            case Builtin b -> callBuiltin(c.line(), b, args, kwargs);
            case Undefined u -> throw TemplateException.at(c.line(), "call of an undefined function"
                    + (c.callee() instanceof Node.Name n ? " '" + n.name() + "'" : ""));
            case null, default -> throw TemplateException.at(c.line(), Values.typeName(callee) + " is not callable");
        };
    }

    private Object callMacro(int line, Node.Macro macro, List<Object> args, Map<String, Object> kwargs) {
        if (callDepth >= limits.maxCallDepth()) {
            throw TemplateException.at(line, "macro calls nest deeper than " + limits.maxCallDepth());
        }
        if (args.size() > macro.parameters().size()) {
            throw TemplateException.at(line, "macro '" + macro.name() + "' takes " + macro.parameters().size() + " arguments, got " + args.size());
        }
        Scope scope = new Scope(globals);
        scope.variables.put(macro.name(), new MacroValue(macro));
        for (int i = 0; i < macro.parameters().size(); i++) {
            String parameter = macro.parameters().get(i);
            Object value;
            if (i < args.size()) {
                value = args.get(i);
            } else if (kwargs.containsKey(parameter)) {
                value = kwargs.get(parameter);
            } else if (macro.defaults().get(i) != null) {
                value = evaluate(macro.defaults().get(i), scope);
            } else {
                value = Undefined.VALUE;
            }
            scope.variables.put(parameter, value);
        }
        callDepth++;
        try {
            StringBuilder out = new StringBuilder();
            execute(macro.body(), scope, out);
            return out.toString();
        } finally {
            callDepth--;
        }
    }

    private Object callBuiltin(int line, Builtin builtin, List<Object> args, Map<String, Object> kwargs) {
        return switch (builtin) {
            case RANGE -> range(line, args);
            case NAMESPACE -> {
                Namespace ns = new Namespace();
                for (Object arg : args) {
                    if (!(arg instanceof Map<?, ?> map)) {
                        throw TemplateException.at(line, "namespace() takes a mapping or keyword arguments");
                    }
                    map.forEach((k, v) -> ns.values.put((String) k, v));
                }
                ns.values.putAll(kwargs);
                yield ns;
            }
            case DICT -> Collections.unmodifiableMap(new LinkedHashMap<>(kwargs));
            case RAISE_EXCEPTION -> throw TemplateException.at(line, "the template raised: "
                    + (args.isEmpty() ? "" : Values.str(args.getFirst()).lines().findFirst().orElse("")));
        };
    }

    private List<Object> range(int line, List<Object> args) {
        long[] bounds = new long[args.size()];
        for (int i = 0; i < args.size(); i++) {
            if (!(args.get(i) instanceof Long l)) {
                throw TemplateException.at(line, "range() takes integers, not " + Values.typeName(args.get(i)));
            }
            bounds[i] = l;
        }
        long start = 0;
        long stop;
        long step = 1;
        switch (bounds.length) {
            case 1 -> stop = bounds[0];
            case 2 -> {
                start = bounds[0];
                stop = bounds[1];
            }
            case 3 -> {
                start = bounds[0];
                stop = bounds[1];
                step = bounds[2];
            }
            default -> throw TemplateException.at(line, "range() takes 1 to 3 arguments, got " + bounds.length);
        }
        if (step == 0) {
            throw TemplateException.at(line, "range() step must not be zero");
        }
        double count = Math.max(0, Math.ceil(((double) stop - start) / step));
        if (count > limits.maxOutputChars()) {
            throw TemplateException.at(line, "range of " + (long) count + " items exceeds the limit of " + limits.maxOutputChars());
        }
        List<Object> items = new ArrayList<>((int) count);
        for (long v = start; step > 0 ? v < stop : v > stop; v += step) {
            items.add(v);
        }
        return built(line, Collections.unmodifiableList(items), items.size());
    }

    private Object unary(Node.Unary u, Scope scope) {
        Object value = evaluate(u.operand(), scope);
        return switch (u.op()) {
            case "not" -> !truthy(value);
            case "-" -> switch (value) {
                case Long l -> -l;
                case Double d -> -d;
                case null, default -> throw TemplateException.at(u.line(), "cannot negate " + Values.typeName(value));
            };
            default -> {
                if (!(value instanceof Long || value instanceof Double)) {
                    throw TemplateException.at(u.line(), "unary + needs a number, not " + Values.typeName(value));
                }
                yield value;
            }
        };
    }

    private Object binary(Node.Binary b, Scope scope) {
        int line = b.line();
        if (b.op().equals("and")) {
            Object left = evaluate(b.left(), scope);
            return truthy(left) ? evaluate(b.right(), scope) : left;
        }
        if (b.op().equals("or")) {
            Object left = evaluate(b.left(), scope);
            return truthy(left) ? left : evaluate(b.right(), scope);
        }
        Object left = evaluate(b.left(), scope);
        Object right = evaluate(b.right(), scope);
        return switch (b.op()) {
            case "==" -> Values.equal(left, right);
            case "!=" -> !Values.equal(left, right);
            case "<", ">", "<=", ">=" -> {
                int order = Values.compare(line, left, right);
                yield switch (b.op()) {
                    case "<" -> order < 0;
                    case ">" -> order > 0;
                    case "<=" -> order <= 0;
                    default -> order >= 0;
                };
            }
            case "in" -> contains(line, right, left);
            case "~" -> built(line, Values.str(left) + Values.str(right));
            case "+" -> plus(line, left, right);
            case "*" -> times(line, left, right);
            default -> Values.arithmetic(line, b.op(), left, right);
        };
    }

    private static boolean contains(int line, Object container, Object item) {
        return switch (container) {
            case String s when item instanceof String t -> s.contains(t);
            case List<?> l -> l.stream().anyMatch(e -> Values.equal(e, item));
            case Map<?, ?> m -> m.containsKey(item);
            case Namespace ns -> ns.values.containsKey(item);
            case null, default -> throw TemplateException.at(line, "cannot test membership of " + Values.typeName(item) + " in " + Values.typeName(container));
        };
    }

    private Object plus(int line, Object left, Object right) {
        if (left instanceof String l && right instanceof String r) {
            if ((long) l.length() + r.length() > limits.maxOutputChars()) {
                throw TemplateException.at(line, "a string of " + ((long) l.length() + r.length()) + " characters exceeds the limit of " + limits.maxOutputChars());
            }
            return built(line, l + r);
        }
        if (left instanceof List<?> l && right instanceof List<?> r) {
            if ((long) l.size() + r.size() > limits.maxOutputChars()) {
                throw TemplateException.at(line, "a list of " + ((long) l.size() + r.size()) + " items exceeds the limit of " + limits.maxOutputChars());
            }
            List<Object> joined = new ArrayList<>(l);
            joined.addAll(r);
            return built(line, Collections.unmodifiableList(joined), joined.size());
        }
        return Values.arithmetic(line, "+", left, right);
    }

    private Object times(int line, Object left, Object right) {
        if (left instanceof String s && right instanceof Long n || right instanceof String && left instanceof Long) {
            String text = left instanceof String ? (String) left : (String) right;
            long count = Math.max(0, left instanceof Long ? (Long) left : (Long) right);
            if (count * text.length() > limits.maxOutputChars() || count > limits.maxOutputChars()) {
                throw TemplateException.at(line, "a string of " + text.length() + " x " + count + " characters exceeds the limit of " + limits.maxOutputChars());
            }
            return built(line, text.repeat((int) count));
        }
        return Values.arithmetic(line, "*", left, right);
    }

    int maxChars() {
        return limits.maxOutputChars();
    }

    /** For filters and methods: charges a built string. */
    String charge(int line, String value) {
        return built(line, value);
    }

    /** For filters and methods: charges a built list. */
    <T> T charge(int line, T value, int size) {
        return built(line, value, size);
    }
}

package glmj.chat.jinja;

import glmj.chat.jinja.Lexer.Kind;
import glmj.chat.jinja.Lexer.Token;
import glmj.chat.jinja.Node.Expr;
import glmj.chat.jinja.Node.Stmt;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Recursive descent over the tokens, with Jinja's operator precedence; nesting is bounded so it cannot overflow the stack. */
final class Parser {
    private final List<Token> tokens;
    private final int maxNesting;
    private int pos;
    private int nesting;

    private Parser(List<Token> tokens, int maxNesting) {
        this.tokens = tokens;
        this.maxNesting = maxNesting;
    }

    static List<Stmt> parse(String source, int maxNesting) {
        Parser parser = new Parser(Lexer.tokenize(source), maxNesting);
        List<Stmt> body = parser.statements(Set.of());
        Token end = parser.peek();
        if (end.kind() != Kind.EOF) {
            throw TemplateException.at(end.line(), "unexpected '" + parser.peekTagName() + "'");
        }
        return body;
    }

    private Token peek() {
        return tokens.get(pos);
    }

    private Token peek(int ahead) {
        return tokens.get(Math.min(pos + ahead, tokens.size() - 1));
    }

    private Token next() {
        Token t = tokens.get(pos);
        if (t.kind() != Kind.EOF) {
            pos++;
        }
        return t;
    }

    private String peekTagName() {
        return peek().kind() == Kind.BLOCK_START ? peek(1).text() : peek().text();
    }

    private Token expect(Kind kind, String text) {
        Token t = next();
        if (t.kind() != kind || (text != null && !t.text().equals(text))) {
            throw TemplateException.at(t.line(), "expected " + (text != null ? "'" + text + "'" : kind.name().toLowerCase())
                    + " but found '" + excerpt(t) + "'");
        }
        return t;
    }

    private String expectName() {
        return expect(Kind.NAME, null).text();
    }

    private void enter(int line) {
        if (++nesting > maxNesting) {
            throw TemplateException.at(line, "nesting deeper than " + maxNesting);
        }
    }

    /** Statements until a block tag whose name is in {@code terminators} (left unconsumed) or the end. */
    private List<Stmt> statements(Set<String> terminators) {
        List<Stmt> body = new ArrayList<>();
        while (true) {
            Token t = peek();
            switch (t.kind()) {
                case EOF -> {
                    if (!terminators.isEmpty()) {
                        throw TemplateException.at(t.line(), "missing " + String.join(" or ", terminators.stream().sorted().toList()));
                    }
                    return body;
                }
                case TEXT -> {
                    next();
                    body.add(new Node.Text(t.line(), t.text()));
                }
                case VAR_START -> {
                    next();
                    Expr value = expression();
                    expect(Kind.VAR_END, null);
                    body.add(new Node.Output(t.line(), value));
                }
                case BLOCK_START -> {
                    Token name = peek(1);
                    if (name.kind() == Kind.NAME && terminators.contains(name.text())) {
                        return body;
                    }
                    next();
                    body.add(block(name));
                }
                default -> throw TemplateException.at(t.line(), "unexpected '" + t.text() + "'");
            }
        }
    }

    private Stmt block(Token nameToken) {
        String name = expectName();
        int line = nameToken.line();
        enter(line);
        Stmt result = switch (name) {
            case "if" -> ifBlock(line);
            case "for" -> forBlock(line);
            case "set" -> setBlock(line);
            case "macro" -> macroBlock(line);
            case "break", "continue" -> {
                expect(Kind.BLOCK_END, null);
                yield new Node.LoopControl(line, name.equals("break"));
            }
            default -> throw TemplateException.at(line, "unknown tag '" + name + "'");
        };
        nesting--;
        return result;
    }

    private void endTag(String name) {
        expect(Kind.BLOCK_START, null);
        expect(Kind.NAME, name);
        expect(Kind.BLOCK_END, null);
    }

    private Stmt ifBlock(int line) {
        Expr condition = expression();
        expect(Kind.BLOCK_END, null);
        List<Stmt> then = statements(Set.of("elif", "else", "endif"));
        expect(Kind.BLOCK_START, null);
        String tag = expectName();
        List<Stmt> otherwise = List.of();
        if (tag.equals("elif")) {
            otherwise = List.of(ifBlock(peek().line()));
            return new Node.If(line, condition, then, otherwise);
        }
        if (tag.equals("else")) {
            expect(Kind.BLOCK_END, null);
            otherwise = statements(Set.of("endif"));
            expect(Kind.BLOCK_START, null);
            expect(Kind.NAME, "endif");
        }
        expect(Kind.BLOCK_END, null);
        return new Node.If(line, condition, then, otherwise);
    }

    private Stmt forBlock(int line) {
        List<String> targets = new ArrayList<>();
        targets.add(expectName());
        while (peek().isOp(",")) {
            next();
            targets.add(expectName());
        }
        expect(Kind.NAME, "in");
        Expr iterable = conditionalFree();
        Expr filter = null;
        if (peek().isName("if")) {
            next();
            filter = conditionalFree();
        }
        if (peek().isName("recursive")) {
            throw TemplateException.at(line, "recursive loops are not supported");
        }
        expect(Kind.BLOCK_END, null);
        List<Stmt> body = statements(Set.of("else", "endfor"));
        List<Stmt> otherwise = List.of();
        expect(Kind.BLOCK_START, null);
        if (expectName().equals("else")) {
            expect(Kind.BLOCK_END, null);
            otherwise = statements(Set.of("endfor"));
            endTag("endfor");
        } else {
            expect(Kind.BLOCK_END, null);
        }
        return new Node.For(line, targets, iterable, filter, body, otherwise);
    }

    private Stmt setBlock(int line) {
        String name = expectName();
        String attribute = null;
        if (peek().isOp(".")) {
            next();
            attribute = expectName();
        }
        if (attribute == null && peek().kind() == Kind.BLOCK_END) {
            next();
            List<Stmt> body = statements(Set.of("endset"));
            endTag("endset");
            return new Node.SetBlock(line, name, body);
        }
        expect(Kind.OP, "=");
        Expr value = expression();
        expect(Kind.BLOCK_END, null);
        return new Node.Set(line, name, attribute, value);
    }

    private Stmt macroBlock(int line) {
        String name = expectName();
        List<String> parameters = new ArrayList<>();
        List<Expr> defaults = new ArrayList<>();
        expect(Kind.OP, "(");
        while (!peek().isOp(")")) {
            parameters.add(expectName());
            Expr defaultValue = null;
            if (peek().isOp("=")) {
                next();
                defaultValue = expression();
            }
            defaults.add(defaultValue);
            if (!peek().isOp(")")) {
                expect(Kind.OP, ",");
            }
        }
        next();
        expect(Kind.BLOCK_END, null);
        List<Stmt> body = statements(Set.of("endmacro"));
        endTag("endmacro");
        return new Node.Macro(line, name, parameters, defaults, body);
    }

    // ---- expressions, loosest binding first

    private Expr expression() {
        int line = peek().line();
        enter(line);
        Expr value = conditionalFree();
        if (peek().isName("if")) {
            next();
            Expr condition = conditionalFree();
            Expr otherwise = null;
            if (peek().isName("else")) {
                next();
                otherwise = expression();
            }
            value = new Node.Conditional(line, condition, value, otherwise);
        }
        nesting--;
        return value;
    }

    /** An expression without a trailing {@code if ... else ...} (for loop heads and conditions). */
    private Expr conditionalFree() {
        Expr left = andExpr();
        while (peek().isName("or")) {
            int line = next().line();
            left = new Node.Binary(line, "or", left, andExpr());
        }
        return left;
    }

    private Expr andExpr() {
        Expr left = notExpr();
        while (peek().isName("and")) {
            int line = next().line();
            left = new Node.Binary(line, "and", left, notExpr());
        }
        return left;
    }

    private Expr notExpr() {
        if (peek().isName("not")) {
            int line = next().line();
            enter(line);
            Expr operand = notExpr();
            nesting--;
            return new Node.Unary(line, "not", operand);
        }
        return comparison();
    }

    private static final Set<String> COMPARISONS = Set.of("==", "!=", "<", ">", "<=", ">=");

    private Expr comparison() {
        Expr left = concatenation();
        while (true) {
            Token t = peek();
            if (t.kind() == Kind.OP && COMPARISONS.contains(t.text())) {
                next();
                left = new Node.Binary(t.line(), t.text(), left, concatenation());
            } else if (t.isName("in")) {
                next();
                left = new Node.Binary(t.line(), "in", left, concatenation());
            } else if (t.isName("not") && peek(1).isName("in")) {
                next();
                next();
                left = new Node.Unary(t.line(), "not", new Node.Binary(t.line(), "in", left, concatenation()));
            } else {
                return left;
            }
        }
    }

    private Expr concatenation() {
        Expr left = sum();
        while (peek().isOp("~")) {
            int line = next().line();
            left = new Node.Binary(line, "~", left, sum());
        }
        return left;
    }

    private Expr sum() {
        Expr left = product();
        while (peek().isOp("+") || peek().isOp("-")) {
            Token op = next();
            left = new Node.Binary(op.line(), op.text(), left, product());
        }
        return left;
    }

    private Expr product() {
        Expr left = power();
        while (peek().isOp("*") || peek().isOp("/") || peek().isOp("//") || peek().isOp("%")) {
            Token op = next();
            left = new Node.Binary(op.line(), op.text(), left, power());
        }
        return left;
    }

    private Expr power() {
        Expr left = unary();
        while (peek().isOp("**")) {
            Token op = next();
            left = new Node.Binary(op.line(), "**", left, unary());
        }
        return left;
    }

    private Expr unary() {
        Token t = peek();
        if (t.isOp("-") || t.isOp("+")) {
            next();
            enter(t.line());
            Expr operand = unary();
            nesting--;
            return new Node.Unary(t.line(), t.text(), operand);
        }
        return filtersAndTests(postfix(primary()));
    }

    private Expr filtersAndTests(Expr value) {
        while (true) {
            Token t = peek();
            if (t.isOp("|")) {
                next();
                String name = expectName();
                if (!Filters.NAMES.contains(name)) {
                    throw TemplateException.at(t.line(), "unknown filter '" + name + "'");
                }
                List<Expr> args = new ArrayList<>();
                List<String> keywordNames = new ArrayList<>();
                List<Expr> keywordValues = new ArrayList<>();
                if (peek().isOp("(")) {
                    next();
                    arguments(args, keywordNames, keywordValues);
                }
                value = new Node.Filter(t.line(), value, name, args, keywordNames, keywordValues);
            } else if (t.isName("is")) {
                next();
                boolean negated = false;
                if (peek().isName("not")) {
                    next();
                    negated = true;
                }
                String name = expectName();
                if (!Tests.NAMES.contains(name)) {
                    throw TemplateException.at(t.line(), "unknown test '" + name + "'");
                }
                List<Expr> args = new ArrayList<>();
                if (peek().isOp("(")) {
                    next();
                    arguments(args, new ArrayList<>(), new ArrayList<>());
                } else if (startsOperand(peek())) {
                    args.add(postfix(primary()));
                }
                value = new Node.Test(t.line(), value, name, args, negated);
            } else {
                return value;
            }
        }
    }

    private static boolean startsOperand(Token t) {
        return t.kind() == Kind.STRING || t.kind() == Kind.INTEGER || t.kind() == Kind.FLOAT
                || (t.kind() == Kind.NAME && !Set.of("and", "or", "if", "else", "in", "not", "is").contains(t.text()));
    }

    /** Arguments after an already consumed '(' up to and including ')'. */
    private void arguments(List<Expr> args, List<String> keywordNames, List<Expr> keywordValues) {
        while (!peek().isOp(")")) {
            if (peek().kind() == Kind.NAME && peek(1).isOp("=")) {
                keywordNames.add(next().text());
                next();
                keywordValues.add(expression());
            } else {
                if (!keywordNames.isEmpty()) {
                    throw TemplateException.at(peek().line(), "positional argument after a keyword argument");
                }
                args.add(expression());
            }
            if (!peek().isOp(")")) {
                expect(Kind.OP, ",");
            }
        }
        next();
    }

    /** The value of an integer token: one that does not fit a long is refused (an index after '.' too, found by fuzzing). */
    private static long integer(Token t) {
        try {
            return Long.parseLong(t.text());
        } catch (NumberFormatException e) {
            throw TemplateException.at(t.line(), "integer " + excerpt(t) + " is too large");
        }
    }

    /** A token's text for a message: at most 40 characters. */
    private static String excerpt(Token t) {
        return t.text().length() > 40 ? t.text().substring(0, 40) + "..." : t.text();
    }

    private Expr postfix(Expr value) {
        while (true) {
            Token t = peek();
            if (t.isOp(".")) {
                next();
                Token name = next();
                if (name.kind() == Kind.INTEGER) {
                    value = new Node.Index(t.line(), value, new Node.Literal(t.line(), integer(name)));
                } else if (name.kind() == Kind.NAME) {
                    value = new Node.Attribute(t.line(), value, name.text());
                } else {
                    throw TemplateException.at(t.line(), "expected an attribute name after '.'");
                }
            } else if (t.isOp("[")) {
                next();
                enter(t.line());
                value = subscript(t.line(), value);
                nesting--;
            } else if (t.isOp("(")) {
                next();
                enter(t.line());
                List<Expr> args = new ArrayList<>();
                List<String> keywordNames = new ArrayList<>();
                List<Expr> keywordValues = new ArrayList<>();
                arguments(args, keywordNames, keywordValues);
                nesting--;
                value = new Node.Call(t.line(), value, args, keywordNames, keywordValues);
            } else {
                return value;
            }
        }
    }

    private Expr subscript(int line, Expr target) {
        Expr start = peek().isOp(":") ? null : expression();
        if (peek().isOp("]")) {
            next();
            return new Node.Index(line, target, start);
        }
        expect(Kind.OP, ":");
        Expr stop = peek().isOp(":") || peek().isOp("]") ? null : expression();
        Expr step = null;
        if (peek().isOp(":")) {
            next();
            step = peek().isOp("]") ? null : expression();
        }
        expect(Kind.OP, "]");
        return new Node.Slice(line, target, start, stop, step);
    }

    private Expr primary() {
        Token t = next();
        int line = t.line();
        switch (t.kind()) {
            case STRING -> {
                StringBuilder text = new StringBuilder(t.text());
                while (peek().kind() == Kind.STRING) {
                    text.append(next().text());
                }
                return new Node.Literal(line, text.toString());
            }
            case INTEGER -> {
                return new Node.Literal(line, integer(t));
            }
            case FLOAT -> {
                return new Node.Literal(line, Double.parseDouble(t.text()));
            }
            case NAME -> {
                return switch (t.text()) {
                    case "true", "True" -> new Node.Literal(line, Boolean.TRUE);
                    case "false", "False" -> new Node.Literal(line, Boolean.FALSE);
                    case "none", "None" -> new Node.Literal(line, null);
                    default -> new Node.Name(line, t.text());
                };
            }
            case OP -> {
                enter(line);
                Expr result = switch (t.text()) {
                    case "(" -> parenthesized(line);
                    case "[" -> new Node.ListExpr(line, sequence("]"));
                    case "{" -> dict(line);
                    default -> throw TemplateException.at(line, "unexpected '" + t.text() + "'");
                };
                nesting--;
                return result;
            }
            default -> throw TemplateException.at(line, "unexpected " + (t.kind() == Kind.EOF ? "end of template" : "'" + t.text() + "'"));
        }
    }

    private Expr parenthesized(int line) {
        if (peek().isOp(")")) {
            next();
            return new Node.ListExpr(line, List.of());
        }
        Expr first = expression();
        if (peek().isOp(")")) {
            next();
            return first;
        }
        List<Expr> items = new ArrayList<>();
        items.add(first);
        expect(Kind.OP, ",");
        items.addAll(sequence(")"));
        return new Node.ListExpr(line, items);
    }

    /** Comma-separated expressions up to and including {@code closer}, a trailing comma allowed. */
    private List<Expr> sequence(String closer) {
        List<Expr> items = new ArrayList<>();
        while (!peek().isOp(closer)) {
            items.add(expression());
            if (!peek().isOp(closer)) {
                expect(Kind.OP, ",");
            }
        }
        next();
        return items;
    }

    private Expr dict(int line) {
        List<Expr> keys = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (!peek().isOp("}")) {
            keys.add(expression());
            expect(Kind.OP, ":");
            values.add(expression());
            if (!peek().isOp("}")) {
                expect(Kind.OP, ",");
            }
        }
        next();
        return new Node.DictExpr(line, keys, values);
    }
}

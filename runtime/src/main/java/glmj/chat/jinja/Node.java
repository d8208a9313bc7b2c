package glmj.chat.jinja;

import java.util.List;

/** The parsed template: statements and expressions, each with its source line for error messages. */
sealed interface Node {
    int line();

    sealed interface Stmt extends Node {}

    sealed interface Expr extends Node {}

    record Text(int line, String text) implements Stmt {}

    record Output(int line, Expr value) implements Stmt {}

    record If(int line, Expr condition, List<Stmt> then, List<Stmt> otherwise) implements Stmt {}

    record For(int line, List<String> targets, Expr iterable, Expr filter, List<Stmt> body, List<Stmt> otherwise) implements Stmt {}

    /** {@code set name = value} or {@code set target.attribute = value}; attribute null for a plain name. */
    record Set(int line, String name, String attribute, Expr value) implements Stmt {}

    record SetBlock(int line, String name, List<Stmt> body) implements Stmt {}

    record Macro(int line, String name, List<String> parameters, List<Expr> defaults, List<Stmt> body) implements Stmt {}

    record LoopControl(int line, boolean isBreak) implements Stmt {}

    record Literal(int line, Object value) implements Expr {}

    record Name(int line, String name) implements Expr {}

    record ListExpr(int line, List<Expr> items) implements Expr {}

    record DictExpr(int line, List<Expr> keys, List<Expr> values) implements Expr {}

    record Attribute(int line, Expr target, String name) implements Expr {}

    record Index(int line, Expr target, Expr index) implements Expr {}

    record Slice(int line, Expr target, Expr start, Expr stop, Expr step) implements Expr {}

    record Call(int line, Expr callee, List<Expr> args, List<String> keywordNames, List<Expr> keywordValues) implements Expr {}

    record Filter(int line, Expr value, String name, List<Expr> args, List<String> keywordNames, List<Expr> keywordValues) implements Expr {}

    record Test(int line, Expr value, String name, List<Expr> args, boolean negated) implements Expr {}

    record Unary(int line, String op, Expr operand) implements Expr {}

    record Binary(int line, String op, Expr left, Expr right) implements Expr {}

    record Conditional(int line, Expr condition, Expr then, Expr otherwise) implements Expr {}
}

package glmj.chat.jinja;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits template source into text and tag tokens, with the whitespace rules chat templates are written for (Jinja's
 * trim_blocks and lstrip_blocks, as transformers and llama.cpp set them): the newline after a block or comment tag is
 * dropped, spaces before a block tag that starts a line are dropped, and '-' inside a tag delimiter strips all whitespace
 * on that side.
 */
final class Lexer {
    enum Kind { TEXT, VAR_START, VAR_END, BLOCK_START, BLOCK_END, NAME, STRING, INTEGER, FLOAT, OP, EOF }

    record Token(Kind kind, String text, int line) {
        boolean is(Kind k, String t) {
            return kind == k && text.equals(t);
        }

        boolean isOp(String t) {
            return is(Kind.OP, t);
        }

        boolean isName(String t) {
            return is(Kind.NAME, t);
        }
    }

    private static final String[] TWO_CHAR_OPS = {"==", "!=", "<=", ">=", "//", "**"};
    private static final String ONE_CHAR_OPS = "+-*/%<>=()[]{}.,:|~";

    private final String src;
    private final List<Token> tokens = new ArrayList<>();
    private int pos;
    private int line = 1;

    private Lexer(String src) {
        this.src = src;
    }

    static List<Token> tokenize(String src) {
        Lexer lexer = new Lexer(src);
        lexer.run();
        return lexer.tokens;
    }

    private void run() {
        boolean stripNextText = false;   // the previous tag ended with '-'
        boolean afterBlock = false;      // the previous tag was a block or comment (trim_blocks)
        while (pos < src.length()) {
            int tagStart = nextTag(pos);
            int textEnd = tagStart < 0 ? src.length() : tagStart;
            String text = src.substring(pos, textEnd);
            int textLine = line;
            advanceLines(pos, textEnd);
            if (afterBlock && !stripNextText) {
                if (text.startsWith("\r\n")) {
                    text = text.substring(2);
                } else if (text.startsWith("\n")) {
                    text = text.substring(1);
                }
            }
            if (stripNextText) {
                text = text.stripLeading();
            }
            if (tagStart >= 0) {
                char kind = src.charAt(tagStart + 1);
                char modifier = tagStart + 2 < src.length() ? src.charAt(tagStart + 2) : ' ';
                if (modifier == '-') {
                    text = text.stripTrailing();
                } else if ((kind == '%' || kind == '#') && modifier != '+') {
                    text = stripIndentBeforeBlock(text, textEnd);
                }
            }
            if (!text.isEmpty()) {
                tokens.add(new Token(Kind.TEXT, text, textLine));
            }
            if (tagStart < 0) {
                break;
            }
            pos = tagStart;
            char kind = src.charAt(pos + 1);
            pos += 2;
            if (pos < src.length() && (src.charAt(pos) == '-' || src.charAt(pos) == '+')) {
                pos++;
            }
            if (kind == '#') {
                int end = src.indexOf("#}", pos);
                if (end < 0) {
                    throw TemplateException.at(line, "comment is not closed");
                }
                stripNextText = src.charAt(end - 1) == '-';
                advanceLines(pos, end);
                pos = end + 2;
                afterBlock = true;
            } else {
                boolean block = kind == '%';
                tokens.add(new Token(block ? Kind.BLOCK_START : Kind.VAR_START, block ? "{%" : "{{", line));
                stripNextText = lexTag(block ? '%' : '}');
                tokens.add(new Token(block ? Kind.BLOCK_END : Kind.VAR_END, block ? "%}" : "}}", line));
                afterBlock = block;
            }
        }
        tokens.add(new Token(Kind.EOF, "", line));
    }

    /** Drops spaces and tabs between the start of the line and a block tag, when nothing else precedes the tag. */
    private String stripIndentBeforeBlock(String text, int tagStart) {
        int i = text.length();
        while (i > 0 && (text.charAt(i - 1) == ' ' || text.charAt(i - 1) == '\t')) {
            i--;
        }
        boolean atLineStart;
        if (i > 0) {
            atLineStart = text.charAt(i - 1) == '\n';
        } else {
            // the text is all indentation: look at what precedes it in the source (a newline trim_blocks removed)
            int textStart = tagStart - text.length();
            atLineStart = textStart == 0 || src.charAt(textStart - 1) == '\n';
        }
        return atLineStart ? text.substring(0, i) : text;
    }

    private int nextTag(int from) {
        for (int i = src.indexOf('{', from); i >= 0 && i + 1 < src.length(); i = src.indexOf('{', i + 1)) {
            char c = src.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') {
                return i;
            }
        }
        return -1;
    }

    private void advanceLines(int from, int to) {
        for (int i = from; i < to; i++) {
            if (src.charAt(i) == '\n') {
                line++;
            }
        }
    }

    /** Tokens up to the closing delimiter; returns whether it was written with '-'. */
    private boolean lexTag(char closer) {
        int startLine = line;
        while (true) {
            if (pos >= src.length()) {
                throw TemplateException.at(startLine, "tag is not closed");
            }
            char c = src.charAt(pos);
            if (c == '\n') {
                line++;
                pos++;
            } else if (Character.isWhitespace(c)) {
                pos++;
            } else if (c == '-' && src.startsWith(closer + "}", pos + 1)) {
                pos += 3;
                return true;
            } else if (c == closer && pos + 1 < src.length() && src.charAt(pos + 1) == '}') {
                pos += 2;
                return false;
            } else if (c == '\'' || c == '"') {
                lexString(c);
            } else if (Character.isDigit(c)) {
                lexNumber();
            } else if (Character.isLetter(c) || c == '_') {
                int start = pos;
                while (pos < src.length() && (Character.isLetterOrDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
                    pos++;
                }
                tokens.add(new Token(Kind.NAME, src.substring(start, pos), line));
            } else {
                String two = pos + 1 < src.length() ? src.substring(pos, pos + 2) : "";
                String op = null;
                for (String candidate : TWO_CHAR_OPS) {
                    if (candidate.equals(two)) {
                        op = candidate;
                    }
                }
                if (op == null && ONE_CHAR_OPS.indexOf(c) >= 0) {
                    op = String.valueOf(c);
                }
                if (op == null) {
                    throw TemplateException.at(line, "unexpected character '" + c + "'");
                }
                tokens.add(new Token(Kind.OP, op, line));
                pos += op.length();
            }
        }
    }

    private void lexString(char quote) {
        int startLine = line;
        StringBuilder value = new StringBuilder();
        pos++;
        while (true) {
            if (pos >= src.length()) {
                throw TemplateException.at(startLine, "string is not closed");
            }
            char c = src.charAt(pos++);
            if (c == quote) {
                break;
            }
            if (c == '\n') {
                line++;
            }
            if (c == '\\' && pos < src.length()) {
                char e = src.charAt(pos++);
                switch (e) {
                    case 'n' -> value.append('\n');
                    case 't' -> value.append('\t');
                    case 'r' -> value.append('\r');
                    case '\\', '\'', '"' -> value.append(e);
                    default -> value.append('\\').append(e);
                }
            } else {
                value.append(c);
            }
        }
        tokens.add(new Token(Kind.STRING, value.toString(), startLine));
    }

    private void lexNumber() {
        int start = pos;
        while (pos < src.length() && (Character.isDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
            pos++;
        }
        boolean fraction = pos + 1 < src.length() && src.charAt(pos) == '.' && Character.isDigit(src.charAt(pos + 1));
        if (fraction) {
            pos++;
            while (pos < src.length() && Character.isDigit(src.charAt(pos))) {
                pos++;
            }
        }
        String digits = src.substring(start, pos).replace("_", "");
        tokens.add(new Token(fraction ? Kind.FLOAT : Kind.INTEGER, digits, line));
    }
}

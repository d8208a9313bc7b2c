package glmj.chat.jinja;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Jinja subset, with Jinja's semantics, and the refusals of hostile templates. */
class JinjaTemplateTest {

    private static String render(String source, Map<String, ?> variables) {
        return JinjaTemplate.parse(source).render(variables);
    }

    private static String render(String source) {
        return render(source, Map.of());
    }

    @Test
    void loopsWithLoopVariablesFiltersAndElse() {
        assertEquals("0:a:first 1:b 2:c:last ", render(
                "{% for x in items %}{{ loop.index0 }}:{{ x }}{% if loop.first %}:first{% elif loop.last %}:last{% endif %} {% endfor %}",
                Map.of("items", List.of("a", "b", "c"))));
        assertEquals("3-2-1", render("{% for i in range(3, 0, -1) %}{{ i }}{% if not loop.last %}-{% endif %}{% endfor %}"));
        assertEquals("13", render("{% for i in range(5) if i is odd %}{{ i }}{% endfor %}"));
        assertEquals("empty", render("{% for i in [] %}x{% else %}empty{% endfor %}"));
        assertEquals("a=1,b=2,", render("{% for k, v in d.items() %}{{ k }}={{ v }},{% endfor %}",
                Map.of("d", new java.util.LinkedHashMap<>(Map.of("a", 1)) {{ put("b", 2); }})));
        assertEquals("01", render("{% for i in range(10) %}{% if i == 2 %}{% break %}{% endif %}{{ i }}{% endfor %}"));
        assertEquals("02", render("{% for i in range(3) %}{% if i == 1 %}{% continue %}{% endif %}{{ i }}{% endfor %}"));
    }

    @Test
    void setStaysInsideTheLoopButNamespacesLeaveIt() {
        assertEquals("0 3", render("{% set n = 0 %}{% set ns = namespace(n=0) %}{% for i in range(3) %}"
                + "{% set n = n + 1 %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ n }} {{ ns.n }}"));
        assertEquals("[b]", render("{% set x %}[{{ y }}]{% endset %}{{ x }}", Map.of("y", "b")));
    }

    @Test
    void macrosWithDefaultsAndKeywords() {
        assertEquals("<a|z> <b|c>", render("{% macro tag(x, y='z') %}<{{ x }}|{{ y }}>{% endmacro %}{{ tag('a') }} {{ tag('b', y='c') }}"));
    }

    @Test
    void stringMethodsFollowPython() {
        assertEquals("['a', '', 'b']", render("{{ 'a,,b'.split(',') }}"));
        assertEquals("['a', 'b c']", render("{{ ' a  b c '.split(None, 1) if false else 'a b c'.split(' ', 1) }}"));
        assertEquals("x|y", render("{{ '\\n\\nx\\n'.strip('\\n') }}|{{ '  y'.lstrip() }}"));
        assertEquals("r", render("{{ 'a<think>\\nr\\n</think>c'.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}"));
        assertEquals("True False True", render("{{ 'abc'.endswith('bc') }} {{ 'abc'.startswith('b') }} {{ 'abc'.startswith(('x', 'a')) }}"));
        assertEquals("bc|cba|ac", render("{{ 'abc'[1:] }}|{{ 'abc'[::-1] }}|{{ 'abc'[::2] }}"));
        assertEquals("A-B", render("{{ 'a-b'.upper() }}"));
    }

    @Test
    void operatorsTestsAndFilters() {
        assertEquals("7 2.5 2 1 8 x-3", render("{{ 1 + 2 * 3 }} {{ 5 / 2 }} {{ 5 // 2 }} {{ 5 % 2 }} {{ 2 ** 3 }} {{ 'x' ~ '-' ~ 3 }}"));
        assertEquals("True True False", render("{{ 'b' in 'abc' }} {{ 2 in [1, 2] }} {{ 'k' not in {'k': 1} }}"));
        assertEquals("yes", render("{{ 'yes' if x is defined and x is string and x is not mapping else 'no' }}", Map.of("x", "s")));
        assertEquals("no", render("{{ 'yes' if x is defined else 'no' }}"));
        assertEquals("{\"a\": [1, 2.5, true, null], \"\\u00e9\": \"\\u00e9\"}", render("{{ v | tojson }}",
                Map.of("v", new java.util.LinkedHashMap<String, Object>() {{
                    put("a", java.util.Arrays.asList(1, 2.5, true, null));
                    put("é", "é");
                }})));
        assertEquals("\"é\"", render("{{ 'é' | tojson(ensure_ascii=False) }}"));
        assertEquals("3|a, b|dflt|X", render("{{ [1, 2, 3] | length }}|{{ ['a', 'b'] | join(', ') }}|{{ nothing | default('dflt') }}|{{ 'x' | upper }}"));
        assertEquals("None True 1.0", render("{{ none }} {{ true }} {{ 1.0 }}"));
        assertEquals("b", render("{{ m.role }}{{ m.missing }}", Map.of("m", Map.of("role", "b"))));
        assertEquals("2", render("{{ xs[-1] }}{{ xs[5] }}", Map.of("xs", List.of(1, 2))));
    }

    @Test
    void whitespaceControlTrimBlocksAndLstripBlocks() {
        assertEquals("a\nb\n", render("{% if true %}\na\n{% endif %}\n  {% if true %}\nb\n  {% endif %}\n"));
        assertEquals("ab", render("a  {%- if true -%}  \n  b{% endif %}"));
        assertEquals("a b", render("a {{- ' ' -}} b"));
        assertEquals("x\ny", render("x\n{# a comment #}\ny"));
        assertEquals("1\n", render("{{ 1 }}\n"));
    }

    @Test
    void raiseExceptionStopsWithTheTemplatesMessage() {
        var e = assertThrows(TemplateException.class, () -> render("\n{{ raise_exception('bad input') }}"));
        assertEquals("template line 2: the template raised: bad input", e.getMessage());
    }

    @Test
    void renderingOnlyAcceptsPlainValues() {
        var e = assertThrows(IllegalArgumentException.class, () -> render("{{ x }}", Map.of("x", List.of(new Object()))));
        assertEquals("template variable x[0] is a Object, not a plain value", e.getMessage());
    }

    // ---- hostile templates: each must fail fast with one line

    private static TemplateException refuse(String source) {
        return assertTimeoutPreemptively(Duration.ofSeconds(5), () -> assertThrows(TemplateException.class, () -> render(source)));
    }

    private static void assertOneLine(TemplateException e, String expectedPart) {
        String message = e.getMessage();
        assertFalse(message.contains("\n"), message);
        assertTrue(message.contains(expectedPart), message);
    }

    @Test
    void textQuotedFromTheTemplateKeepsTheMessageOnOneLine() {
        // found by fuzzing: an unexpected string was quoted with its line break
        assertOneLine(refuse("{{ x 'two\nlines' }}"), "expected var_end but found 'two\\nlines'");
        assertOneLine(refuse("{{ raise_exception('two\\nlines') }}"), "the template raised: two");
    }

    @Test
    void anIntegerTooLargeForALongIsRefusedWhereverItStands() {
        assertOneLine(refuse("{{ 99999999999999999999 }}"), "integer 99999999999999999999 is too large");
        // found by fuzzing: an index after '.'
        assertOneLine(refuse("{{ messages.33333333333333333333 }}"), "integer 33333333333333333333 is too large");
    }

    @Test
    void aHugeRangeIsRefused() {
        assertOneLine(refuse("{% for i in range(10000000000) %}x{% endfor %}"), "range of 10000000000 items exceeds the limit");
    }

    @Test
    void nestedLoopsRunOutOfSteps() {
        assertOneLine(refuse("{% for i in range(3000) %}{% for j in range(3000) %}{% set k = i * j %}{% endfor %}{% endfor %}"),
                "exceeded its budget of 5000000 steps");
    }

    @Test
    void recursionIsBounded() {
        assertOneLine(refuse("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"), "macro calls nest deeper than 32");
        assertOneLine(refuse("{{ " + "(".repeat(100_000) + "1" + ")".repeat(100_000) + " }}"), "nesting deeper than 100");
        assertOneLine(refuse("{{ " + "not ".repeat(100_000) + "x }}"), "nesting deeper than 100");
        assertOneLine(refuse("{% if x %}".repeat(10_000)), "nesting deeper than 100");
    }

    @Test
    void pythonInternalsCannotBeReached() {
        assertOneLine(refuse("{{ ''.__class__.__mro__[1].__subclasses__() }}"), "attribute '__class__' is not accessible");
        assertOneLine(refuse("{{ messages.__len__ }}"), "attribute '__len__' is not accessible");
        assertOneLine(refuse("{% set ns = namespace() %}{% set ns.__dict__ = 1 %}"), "attribute '__dict__' is not accessible");
        assertOneLine(refuse("{{ cycler.__init__.__globals__ }}"), "attribute '__init__' is not accessible");
        assertOneLine(refuse("{{ ''.getClass() }}"), "call of an undefined function");
        assertOneLine(refuse("{% import 'os' as os %}"), "unknown tag 'import'");
        assertOneLine(refuse("{% include '/etc/passwd' %}"), "unknown tag 'include'");
    }

    @Test
    void hugeOutputIsRefused() {
        assertOneLine(refuse("{{ 'x' * 1000000000 }}"), "exceeds the limit of 4194304");
        assertOneLine(refuse("{% set ns = namespace(s='xxxxxxxxxxxxxxxx') %}{% for i in range(100) %}{% set ns.s = ns.s + ns.s %}{% endfor %}"),
                "exceeds the limit of 4194304");
        assertOneLine(refuse("{% for i in range(1000000) %}" + "x".repeat(100) + "{% endfor %}"), "output exceeds the limit of 4194304 characters");
        assertOneLine(refuse("{% set ns = namespace(l=[1]) %}{% for i in range(100) %}{% set ns.l = ns.l + ns.l %}{% endfor %}"),
                "exceeds the limit of 4194304");
    }

    @Test
    void quadraticStringBuildingRunsOutOfSteps() {
        // appending to an ever longer string copies it each time; the cost is charged per character built
        assertOneLine(refuse("{% set ns = namespace(s='') %}{% for i in range(200000) %}{% set ns.s = ns.s + 'xxxxxxxxxxxxxxxxxxxx' %}{% endfor %}"),
                "exceeded its budget");
    }

    @Test
    void malformedTemplatesAreOneLineParseErrors() {
        assertEquals("template line 2: missing else or endfor", refuse("x\n{% for a in b %}").getMessage());
        assertEquals("template line 1: unknown filter 'system'", refuse("{{ 'ls' | system }}").getMessage());
        assertEquals("template line 1: tag is not closed", refuse("{{ x ").getMessage());
        assertEquals("template line 1: string is not closed", refuse("{{ 'x }}").getMessage());
        assertEquals("template line 1: unexpected character '$'", refuse("{{ $x }}").getMessage());
        assertEquals("template line 1: cannot read attribute 'b' of an undefined value", refuse("{{ a.b }}").getMessage());
    }
}

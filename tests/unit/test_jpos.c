/* test_jpos.c - JSON with positions (cs/jpos.h): values and where they are, and errors that
 * say where. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs/jpos.h"
#include "cs/mem.h"

static void test_values_positions(void **state)
{
    (void)state;
    const char *text = "{\n"
                       "  \"name\": \"r\\u00e9sum\\u00e9 \\ud83d\\ude00\",\n"
                       "  \"n\": -12.5e1,\n"
                       "  \"list\": [true, false, null, 0],\n"
                       "  \"nested\": {\"k\": \"v\"}\n"
                       "}";
    struct cs_error err;
    struct jnode *r = jpos_parse(text, strlen(text), &err);
    assert_non_null(r);
    assert_int_equal(r->type, JP_OBJECT);
    assert_int_equal(r->n, 4);
    const struct jnode *name = jpos_get(r, "name");
    assert_string_equal(name->str, "r\xc3\xa9sum\xc3\xa9 \xf0\x9f\x98\x80");
    assert_int_equal(name->key_line, 2);
    assert_int_equal(name->key_col, 3);
    assert_int_equal(name->line, 2);
    assert_int_equal(name->col, 11);
    const struct jnode *n = jpos_get(r, "n");
    assert_true(n->num == -125.0);
    assert_int_equal(n->line, 3);
    const struct jnode *l = jpos_get(r, "list");
    assert_int_equal(l->n, 4);
    assert_true(l->child->type == JP_BOOL && l->child->b);
    assert_int_equal(l->child->col, 12);
    assert_int_equal(l->child->next->next->type, JP_NULL);
    assert_int_equal(l->child->next->next->col, 25);
    assert_string_equal(jpos_get(jpos_get(r, "nested"), "k")->str, "v");
    assert_null(jpos_get(r, "nope"));
    assert_null(jpos_get(l, "x"));
    jpos_free(r);
}

/* Columns count characters: a UTF-8 letter before an error moves it by one. */
static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"", "line 1, column 1: unexpected end of the text"},
        {"{", "line 1, column 2: expected a key in double quotes"},
        {"{\"a\" 1}", "line 1, column 6: expected ':' after the key"},
        {"{\"a\": 1,}", "line 1, column 9: expected a key in double quotes"},
        {"[1, 2", "line 1, column 6: expected ',' or ']'"},
        {"[1 2]", "line 1, column 4: expected ',' or ']'"},
        {"{\"a\": 1}\n x", "line 2, column 2: text after the end of the document"},
        {"{\"é\": tru}", "line 1, column 7: expected a value"},
        {"\"abc", "line 1, column 5: unterminated string"},
        {"\"a\nb\"", "line 1, column 3: a control character in a string"},
        {"\"\\x\"", "line 1, column 3: unknown escape"},
        {"\"\\u12\"", "line 1, column 6: \\u needs four hex digits"},
        {"\"\\ud800\"", "a lone surrogate"},
        {"\"\\udc00\"", "a lone surrogate"},
        {"\"\\u0000\"", "\\u0000 is not allowed"},
        {"01", "line 1, column 2: text after the end of the document"},
        {"-", "line 1, column 2: expected a digit"},
        {"1.", "line 1, column 3: expected a digit after '.'"},
        {"1e+", "line 1, column 4: expected a digit in the exponent"},
        {"{\"a\": 1,\n \"a\": 2}", "line 2, column 2: duplicate key \"a\" (first at line 1)"},
        {"nul", "expected a value"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct cs_error err = {0};
        struct jnode *r = jpos_parse(cases[i].text, strlen(cases[i].text), &err);
        if (r)
            fail_msg("'%s' parsed", cases[i].text);
        if (!strstr(err.msg, cases[i].msg))
            fail_msg("'%s': '%s' does not say '%s'", cases[i].text, err.msg, cases[i].msg);
    }
    struct cs_error err;
    assert_null(jpos_parse("{\"a\":\0}", 7, &err));
    assert_non_null(strstr(err.msg, "NUL"));
}

static void test_bounds(void **state)
{
    (void)state;
    struct cs_error err;
    char deep[200];
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    assert_null(jpos_parse(deep, 130, &err));
    assert_non_null(strstr(err.msg, "64 levels"));
    struct jnode *r = jpos_parse(deep + 1, 128, &err); /* 64 deep: fine */
    assert_non_null(r);
    jpos_free(r);
    /* a byte order mark is skipped */
    r = jpos_parse("\xef\xbb\xbf{}", 5, &err);
    assert_non_null(r);
    jpos_free(r);
    size_t n = JPOS_MAX_NODES + 10, len = 2 + n * 2;
    char *many = cs_malloc(len + 1);
    many[0] = '[';
    for (size_t i = 0; i < n; i++)
        memcpy(many + 1 + i * 2, i + 1 < n ? "0," : "0]", 2);
    assert_null(jpos_parse(many, len - 1, &err));
    assert_non_null(strstr(err.msg, "too many values"));
    cs_free(many);
    jpos_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_positions),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

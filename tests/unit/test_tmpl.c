/* test_tmpl.c - {placeholder} substitution (cs/tmpl.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cs/buf.h"
#include "cs/mem.h"
#include "cs/tmpl.h"

static const struct tmpl_var vars[] = {
    {"id", "CP-000042"}, {"index", "42"},    {"msg", "Heartbeat"}, {"worker", "w0"},
    {"empty", ""},       {"braces", "{id}"}, {"i", "short"}, /* a prefix of another name */
};

static const struct {
    const char *tmpl;
    const char *out;
} good[] = {
    {"chargers/{id}/up/{msg}", "chargers/CP-000042/up/Heartbeat"},
    {"{id}", "CP-000042"},
    {"{id}{index}", "CP-00004242"},
    {"a{id}b{id}c", "aCP-000042bCP-000042c"},
    {"cs-{worker}-{index}", "cs-w0-42"},
    {"{i}/{id}/{index}", "short/CP-000042/42"},
    {"", ""},
    {"plain/topic", "plain/topic"},
    {"x{empty}y", "xy"},
    {"}", "}"}, /* a lone closing brace is text */
    {"a}b{id}", "a}bCP-000042"},
    {"{braces}", "{id}"}, /* values are not expanded again */
    {"\xc3\xa9/{id}", "\xc3\xa9/CP-000042"},
};

static void test_render(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        struct buf b = BUF_INIT;
        struct cs_error err;
        buf_puts(&b, ">"); /* appends */
        int rc = tmpl_render(good[i].tmpl, vars, ARRAY_SIZE(vars), &b, &err);
        print_message("  '%s' -> '%s'\n", good[i].tmpl, buf_cstr(&b));
        assert_int_equal(rc, CS_OK);
        assert_string_equal(buf_cstr(&b) + 1, good[i].out);
        buf_free(&b);
    }
}

static const struct {
    const char *tmpl;
    size_t nvars;
    int code;
    const char *msg;
} bad[] = {
    {"{nope}", 7, CS_ERR_UNKNOWN, "template: unknown placeholder 'nope'"},
    {"a/{id}/{ID}", 7, CS_ERR_UNKNOWN, "unknown placeholder 'ID'"},
    {"{}", 7, CS_ERR_UNKNOWN, "unknown placeholder ''"},
    {"{id }", 7, CS_ERR_UNKNOWN, "unknown placeholder 'id '"},
    {"{in}", 7, CS_ERR_UNKNOWN, "unknown placeholder 'in'"},
    {"{indexx}", 7, CS_ERR_UNKNOWN, "unknown placeholder 'indexx'"},
    {"{id}", 0, CS_ERR_UNKNOWN, "unknown placeholder 'id'"},
    {"{a{id}", 7, CS_ERR_UNKNOWN, "unknown placeholder 'a{id'"},
    {"a{id", 7, CS_ERR_PARSE, "template: unterminated '{' at offset 1"},
    {"{id}/{", 7, CS_ERR_PARSE, "unterminated '{' at offset 5"},
    {"{", 7, CS_ERR_PARSE, "unterminated '{' at offset 0"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct buf b = BUF_INIT;
        struct cs_error err;
        memset(&err, 0, sizeof(err));
        int rc = tmpl_render(bad[i].tmpl, vars, bad[i].nvars, &b, &err);
        print_message("  '%s' -> %s\n", bad[i].tmpl, rc ? err.msg : "(ok)");
        assert_int_equal(rc, bad[i].code);
        assert_int_equal(err.code, bad[i].code);
        assert_non_null(strstr(err.msg, bad[i].msg));
        assert_int_equal(tmpl_render(bad[i].tmpl, vars, bad[i].nvars, &b, NULL), bad[i].code);
        buf_free(&b);
    }
    /* a long unknown name is cut in the message */
    struct buf b = BUF_INIT;
    struct cs_error err;
    const char *longname = "{aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}";
    assert_int_equal(tmpl_render(longname, vars, ARRAY_SIZE(vars), &b, &err), CS_ERR_UNKNOWN);
    assert_non_null(strstr(err.msg, "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'"));
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_scenario.c - scenario files (cs/scenario.h): a full one into steps, repeats expanded,
 * and every kind of mistake reported with its file, line and column. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cs/cmd.h"
#include "cs/mem.h"
#include "cs/scenario.h"

static const char *full =
    "{\n"
    "  \"name\": \"soak\",\n"
    "  \"seed\": 42,\n"
    "  \"fleet\": {\"ramp_per_s\": 50, \"history_interval_s\": 1},\n"
    "  \"config\": {\"heartbeat_s\": 30, \"boot_on_reconnect\": true, \"max_kw\": 22.5},\n"
    "  \"stages\": [\n"
    "    {\"scale\": 100, \"ramp_per_s\": 20, \"timeout\": \"2m\"},\n"
    "    {\"wait\": \"30s\", \"label\": \"warm up\"},\n"
    "    {\"reset_stats\": true},\n"
    "    {\"config\": {\"sessions_per_h\": 2}, \"select\": \"random:10%\", \"layer\": \"busy\"},\n"
    "    {\"config\": {\"meter_s\": 5}, \"charger\": \"CP-000001\"},\n"
    "    {\"fleet\": {\"stats_window_s\": 30}},\n"
    "    {\"repeat\": 2, \"stages\": [\n"
    "      {\"chaos\": \"offline\", \"select\": \"CP-000001..CP-000010\", \"args\": {\"seconds\": "
    "5}},\n"
    "      {\"wait\": 1.5}\n"
    "    ]},\n"
    "    {\"command\": \"start 'CP-0000*' kw=11\"},\n"
    "    {\"scale\": 0, \"wait_connected\": false}\n"
    "  ],\n"
    "  \"thresholds\": [\"conf.BootNotification.p95<500ms\", \"errors.rate<1%\"],\n"
    "  \"report\": {\"format\": \"html\", \"out\": \"soak.html\"}\n"
    "}\n";

static void test_full(void **state)
{
    (void)state;
    struct scenario s;
    struct cs_error err = {0};
    if (scenario_parse(full, strlen(full), "soak.json", &s, &err) != CS_OK)
        fail_msg("%s", err.msg);
    assert_string_equal(s.name, "soak");
    assert_int_equal(s.seed, 42);
    assert_string_equal(kv_get(&s.fleet, "ramp_per_s"), "50");
    assert_string_equal(kv_get(&s.config, "boot_on_reconnect"), "1");
    assert_string_equal(kv_get(&s.config, "max_kw"), "22.5");
    assert_int_equal(s.nsteps, 12);
    static const struct {
        enum scn_kind k;
        const char *label;
    } want[] = {
        {SK_SCALE, "scale 100 (ramp 20/s)"},
        {SK_WAIT, "warm up"},
        {SK_RESET, "reset stats"},
        {SK_CONFIG, "config 1 key for random:10%"},
        {SK_CONFIG, "config 1 key of CP-000001"},
        {SK_FLEET, "fleet 1 setting"},
        {SK_CHAOS, "repeat 1/2: chaos offline CP-000001..CP-000010"},
        {SK_WAIT, "repeat 1/2: wait 1.5 s"},
        {SK_CHAOS, "repeat 2/2: chaos offline CP-000001..CP-000010"},
        {SK_WAIT, "repeat 2/2: wait 1.5 s"},
        {SK_COMMAND, "start 'CP-0000*' kw=11"},
        {SK_SCALE, "scale 0"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        assert_int_equal(s.steps[i].kind, want[i].k);
        assert_string_equal(s.steps[i].label, want[i].label);
    }
    assert_int_equal(s.steps[0].timeout_ms, 120000);
    assert_true(s.steps[0].wait);
    assert_false(s.steps[11].wait);
    assert_int_equal(s.steps[3].line, 10);
    assert_int_equal(s.steps[3].col, 5);
    assert_string_equal(s.steps[3].select, "random:10%");
    assert_string_equal(s.steps[3].layer, "busy");
    assert_string_equal(s.steps[6].line_, "offline \"CP-000001..CP-000010\" seconds=\"5\"");
    assert_int_equal(s.planned_ms, 30000 + 3000);
    assert_int_equal(s.nth, 2);
    assert_string_equal(s.report_format, "html");
    struct buf b = BUF_INIT;
    scenario_thresholds_text(&s, &b);
    assert_string_equal(buf_cstr(&b), "conf.BootNotification.p95<500ms\nerrors.rate<1%");
    buf_free(&b);
    scenario_free(&s);
}

/* Each mistake: the file, the line and column of the culprit, and what is wrong. */
static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"[]", "f.json:1:1: a scenario is an object, not an array"},
        {"{\"stages\": [{\"wait\": 1}]}", "f.json:1:1: the scenario without \"name\""},
        {"{\"name\": \"x\"}", "without \"stages\""},
        {"{\"name\": \"x\", \"stages\": []}", "f.json:1:25: \"stages\": 1 to 1000 entries"},
        {"{\"name\": \"x\",\n \"stages\": [{\"wait\": 1}],\n \"sead\": 3}",
         "f.json:3:2: unknown key \"sead\" in the scenario (name, description, seed, fleet"},
        {"{\"name\": 5, \"stages\": [{\"wait\": 1}]}",
         "f.json:1:10: \"name\" is a string, not a number"},
        {"{\"name\": \"x\", \"seed\": 1.5, \"stages\": [{\"wait\": 1}]}",
         "f.json:1:23: \"seed\" is an integer, not a number"},
        {"{\"name\": \"x\", \"config\": {\"heartbeat_s\": 0}, \"stages\": [{\"wait\": 1}]}",
         "f.json:1:41: heartbeat_s: "},
        {"{\"name\": \"x\", \"config\": {\"nope\": 1}, \"stages\": [{\"wait\": 1}]}",
         "f.json:1:26: unknown charger setting \"nope\""},
        {"{\"name\": \"x\", \"fleet\": {\"size\": [1]}, \"stages\": [{\"wait\": 1}]}",
         "f.json:1:33: \"size\": a string, number or boolean, not an array"},
        {"{\"name\": \"x\", \"stages\": [\n  {\"wait\": 1},\n  {\"hold\": 1}]}",
         "f.json:3:3: a stage needs one of scale, wait, config"},
        {"{\"name\": \"x\", \"stages\": [{\"wait\": 1, \"scale\": 3}]}",
         "f.json:1:38: a stage does one thing: \"wait\" and \"scale\""},
        {"{\"name\": \"x\", \"stages\": [{\"wait\": \"soon\"}]}",
         "f.json:1:35: \"wait\": a duration"},
        {"{\"name\": \"x\", \"stages\": [{\"wait\": 1, \"speed\": 2}]}",
         "f.json:1:38: unknown key \"speed\" in a wait stage (wait, label)"},
        {"{\"name\": \"x\", \"stages\": [{\"scale\": -1}]}",
         "f.json:1:36: \"scale\": 0..100000000"},
        {"{\"name\": \"x\", \"stages\": [{\"command\": \"launch *\"}]}", "f.json:1:38: "},
        {"{\"name\": \"x\", \"stages\": [{\"command\": \"start BAD/ID\"}]}", "f.json:1:38: "},
        {"{\"name\": \"x\", \"stages\": [{\"chaos\": \"melt\", \"select\": \"*\"}]}",
         "f.json:1:36: \"melt\" is not a chaos verb"},
        {"{\"name\": \"x\", \"stages\": [{\"chaos\": \"offline\"}]}",
         "f.json:1:26: a chaos stage without \"select\""},
        {"{\"name\": \"x\", \"stages\": [{\"chaos\": \"offline\", \"select\": \"random:200%\"}]}",
         "f.json:1:57: selector: random:"},
        {"{\"name\": \"x\", \"stages\": [{\"chaos\": \"offline\", \"select\": \"*\", \"args\": "
         "{\"nope\": 1}}]}",
         "f.json:1:36: "},
        {"{\"name\": \"x\", \"stages\": [{\"config\": {\"meter_s\": 1}, \"charger\": \"C/1\"}]}",
         "f.json:1:64: \"C/1\" is not a charger ID"},
        {"{\"name\": \"x\", \"stages\": [{\"config\": {\"meter_s\": 1}, \"layer\": \"l\"}]}",
         "f.json:1:26: \"layer\" names the layer of a \"select\""},
        {"{\"name\": \"x\", \"stages\": [{\"reset_stats\": false}]}",
         "f.json:1:42: \"reset_stats\" is true, not a boolean"},
        {"{\"name\": \"x\", \"stages\": [{\"repeat\": 0, \"stages\": [{\"wait\": 1}]}]}",
         "f.json:1:37: \"repeat\": 1..1000"},
        {"{\"name\": \"x\", \"stages\": [{\"repeat\": 1000, \"stages\": [{\"repeat\": 1000, "
         "\"stages\": [{\"wait\": 1}]}]}]}",
         "more than 10000 steps"},
        {"{\"name\": \"x\", \"stages\": [{\"wait\": 1}], \"thresholds\": [\"p95<1\"]}",
         "f.json:1:55: threshold 'p95<1': unknown metric"},
        {"{\"name\": \"x\", \"stages\": [{\"wait\": 1}], \"thresholds\": [7]}",
         "f.json:1:55: a threshold is a string, not a number"},
        {"{\"name\": \"x\", \"stages\": [{\"wait\": 1}], \"report\": {\"format\": \"pdf\"}}",
         "f.json:1:61: \"format\": table, csv, json or html"},
        {"{\"name\": \"x\",\n \"stages\": [{\"wait\": 1}],\n \"name\": \"y\"}",
         "f.json:3:2: duplicate key \"name\" (first at line 1)"},
        {"{\"name\": \"x\", \"stages\": [{\"wait\": 1}]", "f.json:1:38: expected ',' or '}'"},
    };
    int bad = 0;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct scenario s;
        struct cs_error err = {0};
        int rc = scenario_parse(cases[i].text, strlen(cases[i].text), "f.json", &s, &err);
        scenario_free(&s);
        if (rc == CS_OK)
            fail_msg("case %zu parsed: %s", i, cases[i].text);
        if (!strstr(err.msg, cases[i].msg))
            print_message("case %zu: '%s' does not say '%s'\n", i, err.msg, cases[i].msg), bad++;
    }
    assert_int_equal(bad, 0);
    /* a verb only the coordinator sends, when the table has one */
    size_t n;
    const struct cmd_def *t = cmd_table(&n);
    for (size_t i = 0; i < n; i++) {
        if (!(t[i].flags & CMD_F_INTERNAL))
            continue;
        char text[256], want[96];
        struct scenario s;
        struct cs_error err = {0};
        snprintf(text, sizeof(text), "{\"name\": \"x\", \"stages\": [{\"command\": \"%s\"}]}",
                 t[i].name);
        snprintf(want, sizeof(want), "f.json:1:38: '%s' is sent by the coordinator only",
                 t[i].name);
        assert_int_not_equal(scenario_parse(text, strlen(text), "f.json", &s, &err), CS_OK);
        scenario_free(&s);
        if (!strstr(err.msg, want))
            fail_msg("'%s' does not say '%s'", err.msg, want);
    }
}

static void test_doc(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    scenario_doc_markdown(&b);
    static const char *const want[] = {"#### `scale`",       "#### `wait`",    "#### `config`",
                                       "#### `fleet`",       "#### `command`", "#### `chaos`",
                                       "#### `reset_stats`", "#### `repeat`",  "| `thresholds` |"};
    for (size_t i = 0; i < ARRAY_SIZE(want); i++)
        assert_non_null(strstr(buf_cstr(&b), want[i]));
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_doc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

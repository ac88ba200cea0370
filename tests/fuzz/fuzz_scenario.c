/* Fuzz target: scenario files (swarm-cli run FILE): the JSON parser with positions (jpos) and
 * every check of the scenario schema. Errors must name a line and column inside the text. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cs/jpos.h"
#include "cs/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scenario s;
    struct cs_error err;
    if (scenario_parse((const char *)data, size, "f", &s, &err) == CS_OK) {
        struct buf b = BUF_INIT;
        scenario_thresholds_text(&s, &b);
        buf_free(&b);
        if (s.nsteps == 0 || s.nsteps > SCN_MAX_STEPS)
            __builtin_trap();
    } else {
        int line, col;
        if (sscanf(err.msg, "f:%d:%d:", &line, &col) == 2 &&
            (line < 1 || col < 1 || (size_t)line > size + 1 || (size_t)col > size + 1))
            __builtin_trap();
    }
    scenario_free(&s);
    struct jnode *n = jpos_parse((const char *)data, size, &err);
    jpos_free(n);
    return 0;
}

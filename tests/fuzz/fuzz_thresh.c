/* Fuzz target: threshold expressions as users give them (--threshold, scenario files). What
 * parses must parse again from its own text to the same threshold, evaluate and print. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cs/thresh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool lookup(void *ctx, const char *metric, bool worst_high, double *value, char *what,
                   size_t whatlen)
{
    (void)ctx;
    (void)worst_high;
    *value = (double)strlen(metric);
    if (whatlen)
        what[0] = '\0';
    return metric[0] != 'd';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    struct thresh t, again;
    struct cs_error err;
    if (thresh_parse(s, &t, &err) == CS_OK) {
        if (thresh_parse(t.text, &again, &err) != CS_OK || strcmp(t.metric, again.metric) != 0 ||
            t.kind != again.kind || t.op != again.op || t.limit != again.limit)
            __builtin_trap();
        struct thresh_result r;
        thresh_eval(&t, lookup, NULL, &r);
        struct buf b = BUF_INIT;
        thresh_line(&r, &b);
        buf_free(&b);
    }
    free(s);
    return 0;
}

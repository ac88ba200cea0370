/* Fuzz target: user-defined message templates: compile, render (always valid JSON), and the
 * catalog file walker. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cs/jtmpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool resolve(void *privdata, enum jt_var var, const char *name, struct jt_value *out)
{
    (void)privdata;
    if (var == JT_ARG) {
        if (name[0] == 'x')
            return false; /* some arguments missing */
        snprintf(out->text, sizeof(out->text), "%s", name[0] == 'n' ? "12.5" : "a\"b\\c\n");
        return true;
    }
    snprintf(out->text, sizeof(out->text), var % 2 ? "42" : "text \"q\" {x}");
    return true;
}

static int on_member(void *privdata, const char *name, const char *src, size_t len)
{
    (void)privdata;
    (void)name;
    struct cs_error err;
    jtmpl_free(jtmpl_compile(src, len, &err));
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cs_error err;
    struct cs_rng rng;
    cs_rng_seed(&rng, 1);
    struct jtmpl *t = jtmpl_compile((const char *)data, size, &err);
    if (t) {
        struct buf out = BUF_INIT;
        if (jtmpl_render(t, resolve, NULL, &rng, &out, &err) == CS_OK) {
            cJSON *j = cJSON_ParseWithLength(out.s ? out.s : "", out.len);
            if (!j)
                __builtin_trap(); /* a compiled template always renders valid JSON */
            cJSON_Delete(j);
        }
        buf_free(&out);
        jtmpl_free(t);
    }
    jtmpl_members((const char *)data, size, on_member, NULL, &err);
    return 0;
}

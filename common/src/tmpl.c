/* tmpl.c - placeholder substitution. */
#include <string.h>

#include "cs/buf.h"
#include "cs/tmpl.h"

int tmpl_render(const char *tmpl, const struct tmpl_var *vars, size_t n, struct buf *out,
                struct cs_error *err)
{
    const char *p = tmpl;
    while (*p) {
        const char *open = strchr(p, '{');
        if (!open) {
            buf_puts(out, p);
            break;
        }
        buf_append(out, p, (size_t)(open - p));
        const char *close = strchr(open, '}');
        if (!close)
            return cs_error_set(err, CS_ERR_PARSE, "template: unterminated '{' at offset %zu",
                                (size_t)(open - tmpl));
        size_t len = (size_t)(close - open - 1);
        size_t i;
        for (i = 0; i < n; i++)
            if (strlen(vars[i].name) == len && memcmp(vars[i].name, open + 1, len) == 0)
                break;
        if (i == n)
            return cs_error_set(err, CS_ERR_UNKNOWN, "template: unknown placeholder '%.*s'",
                                (int)cs_utf8_clip(open + 1, len > 40 ? 40 : len), open + 1);
        buf_puts(out, vars[i].value);
        p = close + 1;
    }
    return CS_OK;
}

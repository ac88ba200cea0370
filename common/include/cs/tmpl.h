/* tmpl.h - {placeholder} substitution for topic, client ID and credential templates. */
#ifndef CS_TMPL_H
#define CS_TMPL_H

#include <stddef.h>

#include "cs/buf.h"
#include "cs/err.h"

struct tmpl_var {
    const char *name;
    const char *value;
};

/* Appends tmpl with every {name} replaced by its value. Unknown placeholders are an error
 * (config validation normally refuses them first). */
int tmpl_render(const char *tmpl, const struct tmpl_var *vars, size_t n, struct buf *out,
                struct cs_error *err);

#endif

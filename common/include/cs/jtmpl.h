/* jtmpl.h - user-defined message templates ({ns}:catalog): JSON with placeholders, compiled
 * once (errors name the offset) and rendered to valid JSON for each message (pure; fuzzed).
 *
 *   {"level": {arg.level|1}, "note": "charger {id} at {meter_wh} Wh", "at": "{ts}"}
 *
 * A placeholder in value position becomes a typed JSON value (numbers stay numbers); inside
 * a string it is interpolated as text. "{{" and "}}" in a string are literal braces.
 * Placeholders: {id} {index} {ts} {meter_wh} {power_w} {soc} {status} {connector} {tx_id}
 * {seq} {vendor} {model} {firmware} {rand:LO:HI} {arg.NAME} {arg.NAME|default}. */
#ifndef CS_JTMPL_H
#define CS_JTMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs/buf.h"
#include "cs/err.h"
#include "cs/util.h"

#define JTMPL_MAX_LEN 16384

enum jt_var {
    JT_ID,
    JT_INDEX,
    JT_TS,
    JT_METER_WH,
    JT_POWER_W,
    JT_SOC,
    JT_STATUS,
    JT_CONNECTOR,
    JT_TX_ID,
    JT_SEQ,
    JT_VENDOR,
    JT_MODEL,
    JT_FIRMWARE,
    JT_RAND, /* {rand:LO:HI} */
    JT_ARG,  /* {arg.NAME|default} */
    JT__COUNT
};

/* A resolved value: text with its JSON kind. */
struct jt_value {
    enum { JTV_STRING, JTV_NUMBER, JTV_GUESS } kind; /* GUESS: jw_guess decides (args) */
    char text[128];
};

/* Supplies the value of a placeholder; for JT_ARG, name is the argument and the function
 * returns false when the sender did not give it (the default, if any, is used). */
typedef bool jtmpl_resolve_fn(void *privdata, enum jt_var var, const char *name,
                              struct jt_value *out);

struct jtmpl;

/* Compiles src (a JSON value). NULL with *err ("offset N: ...") when it does not parse.
 * Caller frees with jtmpl_free. */
struct jtmpl *jtmpl_compile(const char *src, size_t len, struct cs_error *err);
void jtmpl_free(struct jtmpl *t);
/* The compiled template's source text (borrowed). */
const char *jtmpl_source(const struct jtmpl *t);
/* Renders into out. CS_ERR_NOTFOUND when an argument without default was not given. */
int jtmpl_render(const struct jtmpl *t, jtmpl_resolve_fn *fn, void *privdata, struct cs_rng *rng,
                 struct buf *out, struct cs_error *err);

/* Walks the members of a top-level object whose values are templates (a catalog file):
 * calls fn(name, value source, length) for each; stops at the first error. */
typedef int jtmpl_member_fn(void *privdata, const char *name, const char *src, size_t len);
int jtmpl_members(const char *src, size_t len, jtmpl_member_fn *fn, void *privdata,
                  struct cs_error *err);

#endif

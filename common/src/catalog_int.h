/* catalog_int.h - private to the message tables (catalog.c for OCPP 1.6, catalog201.c for
 * 2.0.1): the payload writer the builders write through, so that top-level field overrides
 * work the same in every version, and the measurands a charger samples. */
#ifndef CS_CATALOG_INT_H
#define CS_CATALOG_INT_H

#include <stdint.h>

#include "cs/buf.h"
#include "cs/catalog.h"
#include "cs/err.h"
#include "cs/kv.h"

/* Payload writer: a JSON writer that lets top-level overrides replace builder values. */
struct mw {
    struct jw jw;
    const struct kvlist *over;
    uint64_t used; /* bit i: override i was consumed */
    int top;       /* jw depth of the payload object */
    size_t start;  /* the payload's first byte in the writer's buffer */
    struct msg_marks marks;
    struct cs_error *err;
    int rc;
};

/* The override of a top-level field, marked as used (borrowed; NULL: none, or not at the
 * payload's top level). */
const char *take_override(struct mw *w, const char *key);
/* "key": value, or the key's override. f_int fails the build (w->rc) when the override is not
 * an integer. */
void f_str(struct mw *w, const char *key, const char *val);
void f_int(struct mw *w, const char *key, int64_t val);
void f_time(struct mw *w, const char *key, int64_t ms);
/* The transactionId the charger chose (an integer, 1.6), marked so a confirmed one can
 * replace it. */
void f_tx_id(struct mw *w, int64_t val);

/* One sampled value of a meter reading: what the configured measurands report. */
struct sample {
    const char *measurand;
    const char *location;
    const char *unit;
    double value;
    int decimals; /* digits after the point it is reported with */
};
#define SAMPLES_MAX 8

/* The samples of the connector x->connector (connector 0: 1) for the measurands of
 * x->cfg->measurands, in a fixed order: energy register, power, per-phase current
 * (power / (voltage x phases)), voltage, offered power and current (max_kw or the smart
 * charging limit), SoC (only during a transaction). Returns how many were written to out. */
size_t meter_samples(const struct msg_ctx *x, struct sample out[SAMPLES_MAX]);

#endif

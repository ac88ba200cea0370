/* scenario.h - a load test as a file: a declarative JSON document with stages on a timeline
 * (fleet size and ramp, config changes for the fleet, a layer or a charger, any command with
 * its selector, waits, repeated blocks, chaos) and thresholds. Pure: parsing and checking
 * only; swarm-cli runs the steps (cli/scenario.c).
 *
 * Every check names the place: "FILE:LINE:COLUMN: what", grammar errors and semantic ones
 * alike (a config value out of range, an unknown verb, a bad selector or threshold), from the
 * positions jpos.h keeps. The format's reference is generated from the schema table in
 * scenario.c (scenario_doc_markdown). */
#ifndef CS_SCENARIO_H
#define CS_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs/buf.h"
#include "cs/err.h"
#include "cs/kv.h"
#include "cs/thresh.h"

#define SCN_MAX_STEPS 10000 /* after expanding repeats */

enum scn_kind {
    SK_SCALE,   /* fleet size (and ramp), then wait until connected */
    SK_WAIT,    /* hold for a duration */
    SK_CONFIG,  /* charger config: the fleet's defaults, a layer (select) or one charger */
    SK_FLEET,   /* fleet settings */
    SK_COMMAND, /* any fleet command line */
    SK_CHAOS,   /* a chaos verb on a selection */
    SK_RESET,   /* stats reset: the run's figures count from here */
    SK_REPEAT,  /* a block of stages, n times (expanded into the steps) */
    SK__COUNT
};

struct scn_step {
    enum scn_kind kind;
    int line, col;   /* the stage in the file */
    char label[160]; /* what the progress line shows: "scale 1000 (ramp 200/s)" */
    /* SK_SCALE */
    int64_t size, ramp_per_s; /* ramp_per_s -1: unchanged */
    bool wait;
    int64_t timeout_ms;
    /* SK_WAIT */
    int64_t ms;
    /* SK_CONFIG, SK_FLEET: validated key=value pairs */
    struct kvlist set;
    char select[256]; /* SK_CONFIG: a layer's selector ("" = the fleet's defaults) */
    char layer[65];   /* ... and its name ("" = the one swarm-cli config derives) */
    char charger[48]; /* SK_CONFIG: one charger ("" = not) */
    /* SK_COMMAND, SK_CHAOS: the command line */
    char line_[1024];
};

struct scenario {
    char name[128];
    char description[512];
    int64_t seed;                /* -1: none */
    struct kvlist fleet, config; /* settings at the start */
    struct scn_step *steps;
    size_t nsteps, cap_steps;
    struct thresh *th;
    size_t nth;
    char report_format[8]; /* "" = table */
    char report_out[512];
    int64_t planned_ms; /* the waits and the ramps' estimates: what the progress counts down */
};

/* Parses and checks a scenario; file names the source in messages. CS_OK, or an error with
 * "FILE:LINE:COLUMN: what". Free with scenario_free (also after a failure). */
int scenario_parse(const char *text, size_t len, const char *file, struct scenario *s,
                   struct cs_error *err);
void scenario_free(struct scenario *s);
/* The thresholds' text, one per line (for the run's record). */
void scenario_thresholds_text(const struct scenario *s, struct buf *out);
/* The format's reference (Markdown) from the schema table. */
void scenario_doc_markdown(struct buf *b);

#endif

/* hwin.h - a sliding window over a cumulative histogram: the samples of the last N seconds,
 * from snapshots of the running totals (percentiles "now", not since the process started). */
#ifndef CS_HWIN_H
#define CS_HWIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs/hist.h"

/* Snapshots are kept at least window/HWIN_SPACING apart; the ring holds a little more than a
 * window of them, so the window's start is exact to window/HWIN_SPACING (or to the caller's
 * step, when that is longer) whatever the window. */
#define HWIN_SPACING 32
#define HWIN_SNAPS (HWIN_SPACING + 2)

struct hwin {
    struct {
        int64_t t_ms;
        struct hist h;
    } snap[HWIN_SNAPS];
    size_t head, n; /* oldest snapshot, snapshots held */
    bool evicted;   /* the ring has dropped a snapshot (so it no longer reaches the start) */
};

/* Takes cur, the cumulative histogram at now_ms (monotonic), and writes into out the samples
 * added during the last window_ms: cur minus the newest snapshot at least window_ms old, or
 * everything since the start when the window reaches back beyond it. A window grown past what
 * the ring holds covers what it holds until it fills again. */
void hwin_step(struct hwin *w, const struct hist *cur, int64_t now_ms, int64_t window_ms,
               struct hist *out);

#endif

/* hwin.c - sliding window over a cumulative histogram. */
#include <string.h>

#include "cs/hwin.h"

static size_t slot(const struct hwin *w, size_t i)
{
    return (w->head + i) % HWIN_SNAPS;
}

void hwin_step(struct hwin *w, const struct hist *cur, int64_t now_ms, int64_t window_ms,
               struct hist *out)
{
    /* The newest snapshot old enough to open the window. */
    const struct hist *base = NULL;
    for (size_t i = w->n; i-- > 0;) {
        if (w->snap[slot(w, i)].t_ms <= now_ms - window_ms) {
            base = &w->snap[slot(w, i)].h;
            break;
        }
    }
    if (!base && w->evicted && w->n)
        base = &w->snap[w->head].h; /* the oldest held: a window grown beyond the ring */
    if (base) {
        hist_sub(out, cur, base);
    } else {
        *out = *cur;
    }

    int64_t spacing = window_ms / HWIN_SPACING;
    if (w->n && now_ms - w->snap[slot(w, w->n - 1)].t_ms < spacing)
        return;
    if (w->n == HWIN_SNAPS) {
        w->head = slot(w, 1);
        w->n--;
        w->evicted = true;
    }
    size_t s = slot(w, w->n++);
    w->snap[s].t_ms = now_ms;
    w->snap[s].h = *cur;
}

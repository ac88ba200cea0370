/* out.c - what swarm-cli prints that came from Redis or the network: JSON through the project's
 * writer (valid UTF-8 whatever the bytes were) and text for the terminal with its control
 * characters shown as \xNN, so no key, reply or event can steer the operator's terminal. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cs/buf.h"

void cli_print_json(const cJSON *v)
{
    struct buf b = BUF_INIT;
    struct jw j;
    jw_init(&j, &b);
    jw_cjson(&j, v);
    buf_putc(&b, '\n');
    fwrite(b.s, 1, b.len, stdout);
    fflush(stdout);
    buf_free(&b);
}

#define SAFE_RING 8

static const char *safe(const char *s, bool keep_lines)
{
    static struct buf ring[SAFE_RING];
    static unsigned next;
    struct buf *b = &ring[next++ % SAFE_RING];
    buf_reset(b);
    while (s && *s) {
        size_t n = keep_lines ? strcspn(s, "\n\t") : strlen(s);
        buf_term_str(b, s, n);
        s += n;
        if (*s)
            buf_putc(b, *s++); /* a kept line break or tab */
    }
    return buf_cstr(b);
}

const char *cli_safe(const char *s)
{
    return safe(s, false);
}

const char *cli_safe_text(const char *s)
{
    return safe(s, true);
}

/* chaos.c - staged faults. [loop] */
#include <stdio.h>
#include <string.h>

#include "cs/mem.h"
#include "chaos.h"
#include "crt.h"
#include "session.h"

/* The malformed frames garble sends, by kind: printf formats of a fresh message id, or raw
 * bytes (len > 0). */
static const struct {
    const char *kind, *frame;
    size_t len;
} garbles[] = {
    {"truncated", "[2,\"%s\",\"Heartbeat\",{", 0}, {"notjson", "this is not OCPP %s", 0},
    {"wrongtype", "[\"2\",17,42,[]]", 0},          {"empty", "", 0},
    {"binary", "\x00\xff\xfe\x01[2,", 8},
};

static int garble_of(const char *kind)
{
    for (size_t i = 0; i < ARRAY_SIZE(garbles); i++)
        if (strcmp(garbles[i].kind, kind) == 0)
            return (int)i;
    return -1;
}

bool chaos_garble_kind_valid(const char *kind)
{
    return garble_of(kind) >= 0;
}

const char *chaos_garble_kinds(void)
{
    static char names[128];
    if (!names[0]) {
        size_t at = 0;
        for (size_t i = 0; i < ARRAY_SIZE(garbles) && at < sizeof(names); i++)
            at += (size_t)snprintf(names + at, sizeof(names) - at, "%s%s", i ? ", " : "",
                                   garbles[i].kind);
    }
    return names;
}

int chaos_garble(struct charger_rt *ch, const char *kind, const char *msg, struct cs_error *err)
{
    if (ch->link.state != LINK_UP)
        return cs_error_set(err, CS_ERR_STATE, "%s: not connected (%s)", ch->m.id,
                            link_state_name(ch->link.state));
    int g = garble_of(kind ? kind : "truncated");
    if (g < 0)
        return cs_error_set(err, CS_ERR_INVAL, "garble: unknown kind '%.40s' (%s)", kind,
                            chaos_garble_kinds());
    char uid[37];
    struct buf frame = BUF_INIT;
    cs_uuid4(&crt_ctx(ch)->rng, uid);
    if (garbles[g].len)
        buf_append(&frame, garbles[g].frame, garbles[g].len);
    else
        buf_printf(&frame, garbles[g].frame, uid);
    int rc = link_send(&ch->link, TR_CALL, msg ? msg : "Heartbeat", frame.s ? frame.s : "",
                       frame.len, err);
    if (rc == CS_OK)
        crt_ctx(ch)->st->garbled++;
    buf_free(&frame);
    return rc;
}

int chaos_dup_next(struct charger_rt *ch, struct cs_error *err)
{
    (void)err;
    ch->calls.dup_next = true;
    return CS_OK;
}

int chaos_storm(struct charger_rt *ch, struct cs_error *err)
{
    bool was_up;
    int rc = link_storm(&ch->link, &was_up, err);
    if (was_up)
        session_link_down(ch);
    return rc;
}

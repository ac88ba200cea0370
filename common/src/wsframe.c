/* wsframe.c - WebSocket framing for a client (wsframe.h). */
#include <string.h>

#include "cs/wsframe.h"

size_t wsf_frame_size(size_t len)
{
    return len + 6 + (len > 125 ? (len > 0xffff ? 8 : 2) : 0);
}

void wsf_encode(uint8_t *out, enum wsf_op op, const void *payload, size_t len,
                const uint8_t mask[4])
{
    size_t o = 0;
    out[o++] = (uint8_t)(0x80 | (op & 0x0f));
    if (len <= 125) {
        out[o++] = (uint8_t)(0x80 | len);
    } else if (len <= 0xffff) {
        out[o++] = 0x80 | 126;
        out[o++] = (uint8_t)(len >> 8);
        out[o++] = (uint8_t)len;
    } else {
        out[o++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            out[o++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    memcpy(out + o, mask, 4);
    o += 4;
    const uint8_t *p = payload;
    for (size_t i = 0; i < len; i++)
        out[o + i] = p[i] ^ mask[i & 3];
}

void wsf_reader_init(struct wsf_reader *r, size_t max_message)
{
    memset(r, 0, sizeof(*r));
    r->max = max_message;
}

void wsf_reader_free(struct wsf_reader *r)
{
    buf_free(&r->msg);
    r->in_msg = false;
}

static long fail(struct cs_error *err, int *close_code, int code, const char *what)
{
    *close_code = code;
    cs_error_set(err, CS_ERR_PARSE, "WebSocket: %s", what);
    return -1;
}

long wsf_next(struct wsf_reader *r, const uint8_t *data, size_t len, struct wsf_event *ev,
              int *close_code, struct cs_error *err)
{
    memset(ev, 0, sizeof(*ev));
    if (!r->in_msg && r->msg.len)
        buf_free(&r->msg); /* the last message was handed over: fragments are rare */
    if (len < 2) {
        ev->need = 2;
        return 0;
    }
    bool fin = data[0] & 0x80;
    enum wsf_op op = (enum wsf_op)(data[0] & 0x0f);
    if (data[0] & 0x70)
        return fail(err, close_code, 1002, "reserved bits set (no extension was agreed)");
    if (data[1] & 0x80)
        return fail(err, close_code, 1002, "a masked frame from the server");
    bool control = op & 0x8;
    if (op != WSF_CONT && op != WSF_TEXT && op != WSF_BINARY && op != WSF_CLOSE && op != WSF_PING &&
        op != WSF_PONG)
        return fail(err, close_code, 1002, "unknown opcode");
    uint64_t plen = data[1] & 0x7f;
    size_t hdr = 2;
    if (plen == 126)
        hdr = 4;
    else if (plen == 127)
        hdr = 10;
    if (len < hdr) {
        ev->need = hdr;
        return 0;
    }
    if (plen == 126) {
        plen = (uint64_t)data[2] << 8 | data[3];
    } else if (plen == 127) {
        plen = 0;
        for (int i = 2; i < 10; i++)
            plen = plen << 8 | data[i];
        if (plen >> 63)
            return fail(err, close_code, 1002, "a length with its top bit set");
    }
    if (control && (!fin || plen > 125))
        return fail(err, close_code, 1002, "a fragmented or long control frame");
    if (!control && plen + (r->in_msg ? r->msg.len : 0) > r->max)
        return fail(err, close_code, 1009, "message too big");
    if (len - hdr < plen) {
        ev->need = hdr + (size_t)plen;
        return 0;
    }
    const uint8_t *p = data + hdr;
    size_t n = (size_t)plen;
    long used = (long)(hdr + n);
    switch (op) {
    case WSF_CONT:
        if (!r->in_msg)
            return fail(err, close_code, 1002, "a continuation with no message begun");
        buf_append(&r->msg, p, n);
        if (!fin) {
            ev->type = WSF_EV_NONE;
            return used;
        }
        r->in_msg = false;
        ev->type = WSF_EV_MESSAGE;
        ev->op = r->msg_op;
        ev->data = (const uint8_t *)r->msg.s;
        ev->len = r->msg.len;
        return used;
    case WSF_TEXT:
    case WSF_BINARY:
        if (r->in_msg)
            return fail(err, close_code, 1002, "a new message inside a fragmented one");
        if (!fin) {
            r->in_msg = true;
            r->msg_op = op;
            buf_reset(&r->msg);
            buf_append(&r->msg, p, n);
            ev->type = WSF_EV_NONE;
            return used;
        }
        ev->type = WSF_EV_MESSAGE;
        ev->op = op;
        ev->data = p;
        ev->len = n;
        return used;
    case WSF_CLOSE:
        if (n == 1)
            return fail(err, close_code, 1002, "a close frame of one byte");
        ev->type = WSF_EV_CLOSE;
        ev->code = n >= 2 ? (p[0] << 8 | p[1]) : 1005;
        /* Codes a peer may send (RFC 6455 7.4): 1000-1003, 1007-1014, 3000-4999. */
        if (n >= 2 && (ev->code < 1000 || (ev->code >= 1004 && ev->code <= 1006) ||
                       (ev->code >= 1015 && ev->code < 3000) || ev->code > 4999))
            return fail(err, close_code, 1002, "a close code a peer may not send");
        ev->data = n > 2 ? p + 2 : NULL;
        ev->len = n > 2 ? n - 2 : 0;
        return used;
    case WSF_PING:
        ev->type = WSF_EV_PING;
        ev->data = p;
        ev->len = n;
        return used;
    case WSF_PONG:
        ev->type = WSF_EV_PONG;
        return used;
    }
    return fail(err, close_code, 1002, "unknown opcode");
}

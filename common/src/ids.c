/* ids.c - id_format parsing, formatting and its exact reverse. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cs/ids.h"

bool cs_id_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

bool cs_id_valid(const char *id)
{
    size_t n = 0;
    for (; id[n]; n++)
        if (!cs_id_char(id[n]) || n >= CS_ID_MAX)
            return false;
    return n > 0;
}

static int copy_part(char *dst, size_t dstlen, const char *s, size_t n, const char *fmt,
                     struct cs_error *err)
{
    if (n >= dstlen)
        return cs_error_set(err, CS_ERR_RANGE, "id_format '%s': fixed text longer than %zu", fmt,
                            dstlen - 1);
    for (size_t i = 0; i < n; i++)
        if (!cs_id_char(s[i]))
            return cs_error_set(err, CS_ERR_PARSE,
                                "id_format '%s': '%c' is not allowed in IDs ([A-Za-z0-9_.-])", fmt,
                                s[i]);
    memcpy(dst, s, n);
    dst[n] = '\0';
    return CS_OK;
}

int idfmt_parse(struct idfmt *f, const char *fmt, struct cs_error *err)
{
    memset(f, 0, sizeof(*f));
    const char *pct = strchr(fmt, '%');
    if (!pct)
        return cs_error_set(err, CS_ERR_PARSE, "id_format '%s': needs one %%u conversion", fmt);
    int rc = copy_part(f->prefix, sizeof(f->prefix), fmt, (size_t)(pct - fmt), fmt, err);
    if (rc)
        return rc;
    const char *p = pct + 1;
    if (*p == '0') {
        f->zero = true;
        p++;
    }
    while (isdigit((unsigned char)*p)) {
        f->width = f->width * 10 + (*p - '0');
        if (f->width > 12)
            return cs_error_set(err, CS_ERR_RANGE, "id_format '%s': width above 12", fmt);
        p++;
    }
    if (*p != 'u' && *p != 'd' && *p != 'i')
        return cs_error_set(err, CS_ERR_PARSE, "id_format '%s': expected %%u, %%0Nu or %%Nu", fmt);
    p++;
    if (strchr(p, '%'))
        return cs_error_set(err, CS_ERR_PARSE, "id_format '%s': only one conversion allowed", fmt);
    rc = copy_part(f->suffix, sizeof(f->suffix), p, strlen(p), fmt, err);
    if (rc)
        return rc;
    if (!f->zero && f->width)
        return cs_error_set(err, CS_ERR_PARSE,
                            "id_format '%s': space padding would put ' ' in IDs; use %%0%du", fmt,
                            f->width);
    if (strlen(f->prefix) + strlen(f->suffix) + 12 > CS_ID_MAX)
        return cs_error_set(err, CS_ERR_RANGE, "id_format '%s': IDs could exceed %d chars", fmt,
                            CS_ID_MAX);
    return CS_OK;
}

void idfmt_format(const struct idfmt *f, uint32_t index, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s%0*u%s", f->prefix, f->width, index, f->suffix);
}

bool idfmt_index(const struct idfmt *f, const char *id, uint32_t *index)
{
    size_t pl = strlen(f->prefix), sl = strlen(f->suffix), n = strlen(id);
    if (n < pl + sl + 1 || strncmp(id, f->prefix, pl) != 0 || strcmp(id + n - sl, f->suffix) != 0)
        return false;
    const char *d = id + pl;
    size_t nd = n - pl - sl;
    if (nd > 12) /* the widest padding idfmt_parse accepts; fleet indexes have at most 9 */
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < nd; i++) {
        if (!isdigit((unsigned char)d[i]))
            return false;
        v = v * 10 + (uint64_t)(d[i] - '0');
    }
    if (v == 0 || v > CS_FLEET_MAX)
        return false;
    /* Must round-trip: rejects "CP-42" when the format pads to "CP-000042". */
    char back[CS_ID_MAX + 1];
    idfmt_format(f, (uint32_t)v, back, sizeof(back));
    if (strcmp(back, id) != 0)
        return false;
    *index = (uint32_t)v;
    return true;
}

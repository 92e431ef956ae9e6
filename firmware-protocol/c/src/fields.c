/* Field checks shared by the payload decoders [FP-5.1]: lookup by key, type, range, text kind,
 * and the JSON-like values of commands [FP-5.9]. */
#include "fields.h"

int iotp_pfail(const iotp_ctx *c, uint8_t what, const char *name) {
  iotp_fail *f = c->why;
  f->code = IOTP_PAYLOAD_INVALID;
  f->what = what;
  f->a = f->b = 0;
  if (c->field) {
    f->field = c->field;
    f->index = c->index;
    f->sub = name;
  } else {
    f->field = name;
    f->index = -1;
    f->sub = 0;
  }
  return -1;
}

/* Finds key in a checked map; 1 and *v when present. */
int iotp_find(const iotp_ctx *c, const iotp_item *map, uint64_t key, iotp_item *v) {
  size_t pos = map->data;
  uint64_t i;
  for (i = 0; i < map->arg; i++) {
    iotp_item k;
    iotp_item_at(c->b, c->len, pos, &k);
    iotp_item_at(c->b, c->len, k.end, v);
    if (k.major == 0u && k.arg == key) return 1;
    pos = v->end;
  }
  return 0;
}

int iotp_text_ok(int kind, const uint8_t *s, size_t n) {
  size_t i;
  if (kind == K_TEXT) return 1;
  if (n < 1u || n > (kind == K_ID ? 64u : kind == K_PRINT ? 32u : 16u)) return 0;
  for (i = 0; i < n; i++) {
    uint8_t ch = s[i];
    if (kind == K_ID) {
      if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '.' || ch == '_' || ch == '-')) {
        return 0;
      }
    } else if (ch < (kind == K_PRINT ? 0x20u : 0x21u) || ch > 0x7Eu) {
      return 0;
    }
  }
  return 1;
}

/* Returns 1 present, 0 absent, -1 failed. */
int iotp_get_uint(const iotp_ctx *c, const iotp_item *map, uint64_t key, const char *name, int required,
                    uint64_t max, uint64_t min, uint64_t *out) {
  iotp_item v;
  if (!iotp_find(c, map, key, &v)) return required ? iotp_pfail(c, W_P_MISSING, name) : 0;
  if (v.major != 0u) return iotp_pfail(c, W_P_UINT, name);
  if (v.arg < min || v.arg > max) return iotp_pfail(c, W_P_RANGE, name);
  *out = v.arg;
  return 1;
}

int iotp_get_text(const iotp_ctx *c, const iotp_item *map, uint64_t key, const char *name, int required,
                    int kind, iotp_str *out) {
  iotp_item v;
  if (!iotp_find(c, map, key, &v)) return required ? iotp_pfail(c, W_P_MISSING, name) : 0;
  if (v.major != 3u) return iotp_pfail(c, W_P_TEXT, name);
  if (!iotp_text_ok(kind, c->b + v.data, (size_t)v.arg)) return iotp_pfail(c, W_P_INVALID_TEXT, name);
  out->ptr = (const char *)(c->b + v.data);
  out->len = (size_t)v.arg;
  return 1;
}

int64_t iotp_int_value(const iotp_item *v) {
  return v->major == 0u ? (int64_t)v->arg : -1 - (int64_t)v->arg;
}

/* Command arguments and results: JSON-like values with text map keys [FP-5.9]. */
int iotp_json_like(const iotp_ctx *c, const iotp_item *v, const char *name) {
  size_t pos = v->data;
  uint64_t i;
  if (v->major == 2u) return iotp_pfail(c, W_P_UNSUPPORTED, name);
  if (v->major != 4u && v->major != 5u) return 0;
  for (i = 0; i < v->arg; i++) {
    iotp_item x;
    if (v->major == 5u) {
      iotp_item_at(c->b, c->len, pos, &x);
      if (x.major != 3u) return iotp_pfail(c, W_P_UNSUPPORTED, name);
      pos = x.end;
    }
    iotp_item_at(c->b, c->len, pos, &x);
    if (iotp_json_like(c, &x, name) != 0) return -1;
    pos = x.end;
  }
  return 0;
}

/* JSON values, readings and sensor lists -> CBOR for the C tool (see json_encode.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_encode.h"

typedef struct {
  iotp_str key;
  int value;
} member;

static int key_cmp(const void *a, const void *b) {
  const iotp_str *x = &((const member *)a)->key;
  const iotp_str *y = &((const member *)b)->key;
  if (x->len != y->len) return x->len < y->len ? -1 : 1;
  return memcmp(x->ptr, y->ptr, x->len);
}

/* A JSON-like value as canonical CBOR [FP-4.4]; depth counts containers from the payload. */
int je_value(enc *e, iotp_writer *w, int tok, int depth, const char *path) {
  const json_tok *t = &e->d->t[tok];
  int lone = 0;
  int64_t n;
  int i;
  iotp_str s;
  switch (t->type) {
    case J_NULL: iotp_w_null(w); return 0;
    case J_TRUE: iotp_w_bool(w, 1); return 0;
    case J_FALSE: iotp_w_bool(w, 0); return 0;
    case J_STR:
      if (!je_str(e, tok, &s, &lone) || lone) return je_bad(e, path, "invalid text");
      iotp_w_text(w, s.ptr, s.len);
      return 0;
    case J_NUM:
      if (!je_safe_int(e->d, tok, &n)) return je_bad(e, path, "unsupported value");
      iotp_w_int(w, n);
      return 0;
    case J_ARR:
      if (depth > (int)IOTP_MAX_DEPTH) return je_bad(e, path, "cbor: nesting deeper than 8");
      iotp_w_array(w, (size_t)t->size);
      for (i = 0; i < t->size; i++) {
        if (je_value(e, w, json_child(e->d, tok, i), depth + 1, path) != 0) return -1;
      }
      return 0;
    default: {
      member *m;
      int count = 0;
      int j;
      if (depth > (int)IOTP_MAX_DEPTH) return je_bad(e, path, "cbor: nesting deeper than 8");
      m = (member *)malloc(sizeof(member) * (size_t)(t->size + 1));
      if (!m) return je_bad(e, path, "out of memory");
      for (i = 0; i < t->size; i++) {
        int k = json_child(e->d, tok, i);
        if (!je_str(e, k, &s, &lone) || lone) {
          free(m);
          return je_bad(e, path, "invalid text");
        }
        /* Duplicate keys: the last one wins, as in JSON.parse. */
        for (j = 0; j < count; j++) {
          if (m[j].key.len == s.len && memcmp(m[j].key.ptr, s.ptr, s.len) == 0) break;
        }
        m[j].key = s;
        m[j].value = e->d->t[k].next;
        if (j == count) count++;
      }
      qsort(m, (size_t)count, sizeof(member), key_cmp);
      iotp_w_map(w, (size_t)count);
      for (i = 0; i < count; i++) {
        iotp_w_text(w, m[i].key.ptr, m[i].key.len);
        if (je_value(e, w, m[i].value, depth + 1, path) != 0) {
          free(m);
          return -1;
        }
      }
      free(m);
      return 0;
    }
  }
}

static int reading_cmp(const void *a, const void *b) {
  uint16_t x = ((const iotp_reading *)a)->alias;
  uint16_t y = ((const iotp_reading *)b)->alias;
  return x < y ? -1 : x > y;
}

int je_readings(enc *e, int tok, iotp_data *d) {
  iotp_reading *r;
  int i;
  int j;
  char p[64];
  if (tok < 0) return je_bad(e, "body.readings", "missing");
  if (e->d->t[tok].type != J_ARR) return je_bad(e, "body.readings", "expected an array");
  if (e->d->t[tok].size > (int)IOTP_MAX_READINGS) return je_bad(e, "body.readings", "out of range");
  r = (iotp_reading *)malloc(sizeof(iotp_reading) * (size_t)(e->d->t[tok].size + 1));
  if (!r) return je_bad(e, "body.readings", "out of memory");
  for (i = 0; i < e->d->t[tok].size; i++) {
    int pair = json_child(e->d, tok, i);
    int64_t alias;
    int64_t v;
    const char *what = 0;
    snprintf(p, sizeof p, "body.readings[%d]", i);
    if (e->d->t[pair].type != J_ARR || e->d->t[pair].size != 2) {
      what = "expected [alias, value]";
    } else if (!je_safe_int(e->d, pair + 1, &alias) || alias < 0) {
      what = ".alias: expected an unsigned integer";
    } else if (alias > 0xFFFF) {
      what = ".alias: out of range";
    } else if (!je_safe_int(e->d, e->d->t[pair + 1].next, &v)) {
      what = ".value: expected an integer";
    } else {
      for (j = 0; j < i; j++) {
        if (r[j].alias == alias) what = ".alias: duplicate alias";
      }
    }
    if (what) {
      free(r);
      snprintf(e->err, e->errcap, "%s%s%s", p, what[0] == '.' ? "" : ": ", what);
      return -1;
    }
    r[i].alias = (uint16_t)alias;
    r[i].value = v;
  }
  qsort(r, (size_t)e->d->t[tok].size, sizeof(iotp_reading), reading_cmp);
  d->items = r;
  d->count = (size_t)e->d->t[tok].size;
  return 0;
}

int je_sensors(enc *e, int tok, iotp_describe *d) {
  iotp_sensor *s;
  int i;
  int j;
  char p[64];
  if (tok < 0) return je_bad(e, "body.sensors", "missing");
  if (e->d->t[tok].type != J_ARR) return je_bad(e, "body.sensors", "expected an array");
  if (e->d->t[tok].size > (int)IOTP_MAX_SENSORS) return je_bad(e, "body.sensors", "out of range");
  s = (iotp_sensor *)malloc(sizeof(iotp_sensor) * (size_t)(e->d->t[tok].size + 1));
  if (!s) return je_bad(e, "body.sensors", "out of memory");
  d->items = s;
  d->count = (size_t)e->d->t[tok].size;
  for (i = 0; i < e->d->t[tok].size; i++) {
    int obj = json_child(e->d, tok, i);
    int64_t n = 0;
    int r;
    snprintf(p, sizeof p, "body.sensors[%d]", i);
    if (e->d->t[obj].type != J_OBJ) return je_bad(e, p, "expected a map");
    if (je_field(e, obj, "alias", p, 1, F_U, 0, 0xFFFF, &n, 0) < 0) return -1;
    s[i].alias = (uint16_t)n;
    if (je_field(e, obj, "name", p, 1, F_TEXT, K_ID, 0, 0, &s[i].name) < 0) return -1;
    r = je_field(e, obj, "unit", p, 0, F_TEXT, K_UNIT, 0, 0, &s[i].unit);
    if (r < 0) return -1;
    s[i].has_unit = (uint8_t)r;
    r = je_field(e, obj, "scale", p, 0, F_I, -12, 12, &n, 0);
    if (r < 0) return -1;
    s[i].has_scale = (uint8_t)r;
    s[i].scale = (int8_t)(r ? n : 0);
    for (j = 0; j < i; j++) {
      if (s[j].alias == s[i].alias) {
        snprintf(p, sizeof p, "body.sensors[%d].alias", i);
        return je_bad(e, p, "duplicate alias");
      }
    }
  }
  return 0;
}

/* Scalar fields: U = unsigned, T = text of a kind. */
